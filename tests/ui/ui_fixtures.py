"""Helpers for the headless-session tests of the real field app and console (test layer 2 of docs/architecture.md).

The server is the real FastAPI app in-process on SQLite (UI tests need not run on PostgreSQL); the field app's
``FieldService`` talks to it through Starlette's ``TestClient`` (an ``httpx.Client``), the console through
``httpx.ASGITransport`` on the driver's own event loop. Fixtures using these live in ``tests/ui/conftest.py``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from sync_server.clock import FixedClock
from sync_server.demo import DEMO_PASSWORD, WALKTHROUGH_UNIT
from tests.support.flet_driver import FletDriver
from tests.sync_server.factories import finished_run, login, meters_by_unit, push, reading, sha256

__all__ = [
    "FLAT",
    "PASSWORD",
    "Server",
    "go_to_tab",
    "meter_photo",
    "select_option",
    "sign_in",
    "value_of",
    "wait_key",
    "wait_value",
]

PASSWORD = DEMO_PASSWORD
FLAT = WALKTHROUGH_UNIT  # 5BHK-B17-FF: previous + 77 bills ₹3,711


def meter_photo(width: int = 320, height: int = 240, shade: int = 70) -> bytes:
    """A small real JPEG (Pillow) that looks a little like a meter face: grey with a row of dial boxes."""
    image = Image.new("RGB", (width, height), (shade, shade, shade))
    draw = ImageDraw.Draw(image)
    for index in range(6):
        left = 20 + index * 46
        draw.rectangle((left, 90, left + 36, 150), fill=(230, 230, 230), outline=(0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@dataclass
class Server:
    """The in-process sync server and a ``TestClient`` for API calls the tests make as other users."""

    app: FastAPI
    clock: FixedClock
    http: TestClient
    _headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def headers(self, username: str) -> dict[str, str]:
        if username not in self._headers:  # one login per user and test: password hashing is slow on purpose
            token = login(self.http, username, device_id=f"ui-test-{username}")["access_token"]
            self._headers[username] = {"Authorization": f"Bearer {token}"}
        return self._headers[username]

    def review_item(self, reading_uuid: Any) -> dict[str, Any]:
        response = self.http.get(f"/api/review/readings/{reading_uuid}", headers=self.headers("supervisor"))
        assert response.status_code == 200, response.text
        item: dict[str, Any] = response.json()
        return item

    def decide(self, reading_uuid: Any, action: str, reason: str | None = None) -> None:
        body = {"reason": reason} if reason is not None else None
        response = self.http.post(
            f"/api/review/readings/{reading_uuid}/{action}", json=body, headers=self.headers("supervisor")
        )
        assert response.status_code == 200, response.text

    def walkthrough_approved(self) -> None:
        """The walkthrough flat read (77 units, with a photo) and approved: block B has a bill to make."""
        self.decide(self.push_reading(FLAT, above_previous=77, photo=meter_photo())["uuid"], "approve")

    def issued_block_b(self) -> list[dict[str, Any]]:
        """Block B's bill run for the clock's month, finished and issued; the bills."""
        admin = self.headers("admin")
        blocks = self.http.get("/api/blocks", headers=admin).json()["items"]
        block = next(b["id"] for b in blocks if b["code"] == "B")
        period = self.clock().strftime("%Y-%m")
        started = self.http.post("/api/billing/runs", json={"block_id": block, "period": period}, headers=admin)
        run = finished_run(self.http, admin, started.json()["id"])
        bills: list[dict[str, Any]] = self.http.post(f"/api/billing/runs/{run['id']}/issue", headers=admin).json()
        return bills

    def bills(self) -> list[dict[str, Any]]:
        response = self.http.get("/api/bills", params={"limit": 200}, headers=self.headers("admin"))
        assert response.status_code == 200, response.text
        bills: list[dict[str, Any]] = response.json()["items"]
        return bills

    def push_reading(
        self, unit_code: str, *, above_previous: int = 77, photo: bytes | None = None, upload_photo: bool = True
    ) -> dict[str, Any]:
        """engineer1 pushes ``previous + above_previous`` for ``unit_code`` through the sync API, without GPS."""
        headers = self.headers("engineer1")
        meter = meters_by_unit(self.http, headers)[unit_code]
        item = reading(
            meter,
            value=str(int(meter["previous"]["value"]) + above_previous),
            captured_at=self.clock().isoformat(),  # same month as the demo's readings, even just after midnight
            gps_lat=None,
            gps_lon=None,
            gps_accuracy_m=None,
            photo_sha256=sha256(photo) if photo is not None else None,
        )
        [result] = push(self.http, headers, [item], sent_at=self.clock())
        assert result["outcome"] == "stored", result
        if photo is not None and upload_photo:
            response = self.http.put(
                f"/api/photos/{sha256(photo)}", content=photo, headers=headers | {"Content-Type": "image/jpeg"}
            )
            assert response.status_code == 201, response.text
        return item

    def push_replacement(self, stop: dict[str, Any], number: str, photo: bytes | None = None) -> dict[str, Any]:
        """engineer1 reports (sync protocol 2) that ``stop``'s meter was replaced by ``number``, reading 5 on it."""
        pushed = reading(
            stop,
            value="5",
            captured_at=self.clock().isoformat(),
            gps_lat=None,
            gps_lon=None,
            photo_sha256=sha256(photo) if photo is not None else None,
        )
        pushed["replacement"] = {
            "old_final_value": str(int(stop["previous"]["value"]) + 40),
            "new_meter_number": number,
            "new_initial_value": "0",
        }
        response = self.http.post(
            "/api/sync/push",
            json={"protocol": 2, "device_id": "ui", "sent_at": self.clock().isoformat(), "readings": [pushed]},
            headers=self.headers("engineer1"),
        )
        assert response.json()["results"][0]["outcome"] == "stored", response.text
        return pushed


# --- driving the UI --------------------------------------------------------------------------------------------------


async def sign_in(driver: FletDriver, username: str, password: str = PASSWORD) -> None:
    await driver.type_text("username", username)
    await driver.type_text("password", password)
    await driver.click("sign_in")


def value_of(driver: FletDriver, key: str) -> Any:
    """The ``value`` of the mounted control with ``key``, or None while there is none (lists being rebuilt)."""
    try:
        return driver.find(key).value
    except LookupError:
        return None


async def wait_key(driver: FletDriver, key: str) -> Any:
    """Wait until a control with ``key`` is mounted and return it.

    Views that load over the network set their summary text before the cards exist (the review queue awaits each
    photo first), so wait for the control itself rather than for a text.
    """

    def found() -> Any:
        try:
            return driver.find(key)
        except LookupError:
            return None

    return await driver.wait_for(found, message=f"a control with key {key!r}")


async def wait_value(driver: FletDriver, key: str, expected: Any) -> None:
    """Wait until the control ``key`` shows ``expected`` (the field app's lists refresh on a 1 s timer)."""
    await driver.wait_for(lambda: value_of(driver, key) == expected, message=f"{key} == {expected!r}")


async def go_to_tab(driver: FletDriver, index: int) -> None:
    """Tap a NavigationBar destination as the client does: ``selected_index`` update, then ``change``."""
    nav = driver.find("nav")
    assert nav.visible, "the navigation bar is hidden on this screen"
    driver.session.apply_patch(nav._i, {"selected_index": index})
    await driver.dispatch(nav, "change", str(index))


async def select_option(driver: FletDriver, key: str, option_key: str) -> None:
    """Pick a Dropdown option as the client does: ``value`` update, then ``select``."""
    dropdown = driver.find(key)
    assert option_key in [option.key for option in dropdown.options], f"{key} has no option {option_key!r}"
    driver.session.apply_patch(dropdown._i, {"value": option_key})
    await driver.dispatch(dropdown, "select", option_key)
