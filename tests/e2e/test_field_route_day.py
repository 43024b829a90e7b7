"""End to end in Chromium: an engineer's whole route worked offline, then the re-read loop closed (issue 12).

1. The demo server, its clock pinned (FIELDMETER_NOW, here and in the field app), with a route of 10 meters: the
   admin takes engineer1's other meters off it, and each of the 10 gets three more months of approved reads
   (pushed and approved through the API, as a phone and a supervisor would), so the pull carries a window.
2. The engineer signs in on a phone-sized page; the server stops. Offline: 7 ordinary reads inside the window, 1
   skip (locked), 1 value far outside the window (typed twice, photo mandatory, saved as verified), 1 value below
   the previous reported as a meter replacement (old final, new meter number and first read).
3. The server starts; the phone uploads by itself. The server flags the verified read ``outside_window`` and
   holds the replacement for the supervisor; the supervisor rejects one ordinary read with a reason (API).
4. The phone pulls: the re-read task is on the route with its reason, and on the capture screen. The engineer
   reads again (with a photo); it uploads and the task leaves the route; the supervisor approves the new read,
   which reaches the phone as approved.
5. The field app in Hindi and in Punjabi, its bundled Noto fonts fetched from the app (nothing from the internet).

Screenshots go to a temporary folder (printed at the end); with FIELDMETER_E2E_DOCS=1 the four docs/field-app.md
shows are written into docs/ as well. Bounded waits only; the phone's and the server's zone is Asia/Kolkata
whatever the machine's.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Locator, Page, Response, sync_playwright

from mobile_app.capture import meter_register
from shared_billing.plausibility import expected_window, usage_from_wire
from shared_billing.protocol import MeterAssignment, PullResponse, PushRequest, ReadingV1, ReadType
from tests.e2e.test_offline_reading_to_bill import _eventually, _type, _visible
from tests.support.browser import (
    ServerProcess,
    enable_flutter_semantics,
    failure_screenshots,
    first_page,
    free_port,
    launch_browser,
    wait_http_ok,
    wait_settled_screenshot,
)
from tests.support.cupboard_photos import cupboard_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIELDMETER = str(Path(sys.executable).with_name("fieldmeter"))
PASSWORD = "fieldmeter-demo"
ZONE = "Asia/Kolkata"
PINNED = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo(ZONE))  # mid-month: the 25th of October is the last read
PHONE = {"width": 412, "height": 915}
WAIT = 30.0
ROOT = Path(__file__).resolve().parents[2]

# engineer1's demo route is 17 meters; these 7 leave it (four were read this month already, the motor is shared).
LEAVE = ("4BHK-B5-FF", "4BHK-B6-FF", "2BHK-B18-FF", "VILLA-A2", "VILLA-A3", "VILLA-A4", "40019999")  # + MOTOR-B
PLAIN = ("2BHK-B1-GF", "2BHK-B1-FF", "2BHK-B1-SF", "2BHK-B2-GF", "2BHK-B2-FF", "2BHK-B2-SF", "4BHK-B5-GF")
SKIPPED, OUTSIDE, REPLACED = "4BHK-B6-GF", "5BHK-B17-FF", "VILLA-A1"
REJECTED = "2BHK-B2-GF"  # one of the plain reads
REASON = "Photo shows another flat's meter"
NEW_METER = "NM-77001"
# Units each meter used in the three months before October's read: a household's ordinary swing.
MONTHS = (Decimal(280), Decimal(310), Decimal(295))
DOCS_SHOTS = {
    "route.png": "field-route.png",
    "capture.png": "field-capture-window.png",
    "route-hi.png": "field-route-hi.png",
    "route-pa.png": "field-route-pa.png",
}


class SocietyClock:
    """The pinned business clock, ticking: each process is started at where it has got to (FIELDMETER_NOW), so the
    phone and a restarted server agree to within seconds."""

    def __init__(self, start: datetime) -> None:
        self.start, self.origin = start, time.monotonic()

    def now(self) -> datetime:
        return (self.start + timedelta(seconds=time.monotonic() - self.origin)).astimezone(UTC)


@contextmanager
def _server(port: int, data: Path, log: Path, clock: SocietyClock) -> Iterator[ServerProcess]:
    command = [FIELDMETER, "serve", "--demo", "--port", str(port), "--data-dir", str(data)]
    env = {"DATABASE_URL": "", "FIELDMETER_NOW": clock.now().isoformat(), "FIELDMETER_SOCIETY_TIMEZONE": ZONE}
    with ServerProcess(command, log_path=log, env=env, name="server") as server:
        wait_http_ok(f"http://127.0.0.1:{port}/api/health", timeout=60, process=server)
        yield server


def _field_app(server_port: int, port: int, data: Path, log: Path, clock: SocietyClock) -> ServerProcess:
    command = [FIELDMETER, "app", "--server", f"http://127.0.0.1:{server_port}", "--web", "--port", str(port)]
    env = {
        "FIELDMETER_SYNC_BACKOFF_CAP_S": "5",
        "FIELDMETER_NOW": clock.now().isoformat(),
        "TZ": ZONE,  # the phone's own zone, whatever this machine's is
    }
    app = ServerProcess([*command, "--data-dir", str(data)], log_path=log, env=env, name="field-app")
    app.start()
    try:
        wait_http_ok(f"http://127.0.0.1:{port}/", timeout=60, process=app)
    except BaseException:
        app.stop()
        raise
    return app


def _photo(path: Path, seed: int) -> Path:
    """A meter photo of its own for each ``seed``: the phone flags a picture like one already taken on the route."""
    path.write_bytes(cupboard_jpeg(f"{seed:05d}", seed=seed))
    return path


# --- the office's side, through the API ---------------------------------------------------------------------------
class Office:
    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=60, trust_env=False)
        self.tokens: dict[str, str] = {}

    def _as(self, who: str) -> dict[str, str]:
        if who not in self.tokens:
            body = {"username": who, "password": PASSWORD, "device_id": f"e2e-{who}"}
            answer = self.http.post("/api/auth/login", json=body)
            answer.raise_for_status()
            self.tokens[who] = answer.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self._as(who), **kwargs.pop("headers", {})}
        answer = self.http.request(method, path, headers=headers, **kwargs)
        assert answer.is_success, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer

    def pull(self) -> dict[str, MeterAssignment]:
        pull = PullResponse.model_validate(self.call("engineer1", "GET", "/api/sync/pull").json())
        # Keyed by unit code, and by meter number too (the shared motor has no unit).
        return {
            key: meter for meter in pull.meters for key in {meter.unit_code or meter.meter_number, meter.meter_number}
        }

    def review(self) -> dict[str, dict[str, Any]]:
        """The readings waiting for review by unit code (engineer1's field reads only come from this test)."""
        items = self.call("supervisor", "GET", "/api/review/readings", params={"status": "submitted"}).json()["items"]
        return {item["unit_code"]: item for item in items}

    def close(self) -> None:
        self.http.close()


def _route_of_ten(office: Office, clock: SocietyClock, photo: Path) -> dict[str, MeterAssignment]:
    """engineer1's route cut to 10 meters, each with four months of approved reads; the pull as the phone gets it."""
    meters = office.pull()
    for key in LEAVE:
        office.call("admin", "DELETE", f"/api/meters/{meters[key].meter_id}/assignment")
    route = {meter.unit_code or "": meter for meter in office.pull().values()}
    assert sorted(route) == sorted((*PLAIN, SKIPPED, OUTSIDE, REPLACED))
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    history: list[ReadingV1] = []
    for meter in route.values():
        assert meter.previous is not None  # October's read, from the demo seed
        value, at = Decimal(meter.previous.value), meter.previous.captured_at
        for units in MONTHS:  # September, August, July: each a month before the next
            value, at = value - units, at - timedelta(days=30)
            history.append(
                ReadingV1(
                    uuid=uuid.uuid4(),
                    meter_id=meter.meter_id,
                    read_type=ReadType.ACTUAL,
                    value=str(value),
                    captured_at=at,
                    gps_lat=meter.lat,
                    gps_lon=meter.lon,
                    gps_accuracy_m=6.0,
                    photo_sha256=sha,
                )
            )
    push = PushRequest(device_id="e2e-history", sent_at=clock.now(), readings=history)
    results = office.call("engineer1", "POST", "/api/sync/push", json=push.model_dump(mode="json")).json()["results"]
    assert {result["outcome"] for result in results} == {"stored"}, results
    office.call(
        "engineer1", "PUT", f"/api/photos/{sha}", content=photo.read_bytes(), headers={"Content-Type": "image/jpeg"}
    )
    for reading in history:
        office.call("supervisor", "POST", f"/api/review/readings/{reading.uuid}/approve")
    pulled = {meter.unit_code or "": meter for meter in office.pull().values()}
    for meter in pulled.values():
        assert len(meter.history) == 4, meter
        assert meter.usage is not None, f"{meter.unit_code}: no usage in the pull"
        assert meter.tariff_code is not None, f"{meter.unit_code}: no tariff in the pull"
    return pulled


def _inside(meter: MeterAssignment, clock: SocietyClock) -> int:
    """A value in the middle of today's window: what the meter usually shows by now."""
    assert meter.usage is not None
    register = meter_register(meter)
    window = expected_window(usage_from_wire(meter.usage), clock.now(), register=register)
    return int(window.expected)


# --- the phone's side, in the browser -----------------------------------------------------------------------------
def _open_meter(phone: Page, unit: str) -> None:
    """From the route: search the unit, open its tile, then its capture screen from the detail."""
    _type(phone, "Search unit or meter number", unit)
    tile = phone.get_by_text(unit, exact=False)
    _eventually(lambda: tile.count() == 1, WAIT, f"the search for {unit}")
    _click_until(tile.first, lambda: _visible(phone, "Last reads"), f"{unit}'s detail")
    _click_until(
        phone.get_by_role("button", name="Read meter"),
        lambda: _visible(phone, "Previous reading"),
        f"{unit}'s capture screen",
    )


def _click_until(target: Locator, shown: Callable[[], bool], what: str, attempts: int = 3) -> None:
    """Click, and click again if the screen has not changed: a tap that lands while Flutter rebuilds the list is
    dropped (a person taps again; the CI machine once lost one of ten)."""
    for _attempt in range(attempts):
        if shown():
            return
        if target.count() > 0:
            target.click()
        try:
            _eventually(shown, WAIT / 2, what)
            return
        except AssertionError:
            continue
    raise AssertionError(f"{what} not shown after {attempts} clicks")


def _save(phone: Page) -> None:
    phone.get_by_role("button", name="Save").click()
    _eventually(lambda: _visible(phone, "read this period"), WAIT, "the route after saving")


def _add_photo(phone: Page, photo: Path) -> None:
    with phone.expect_file_chooser() as chooser:
        phone.get_by_role("button", name="Add photo").click()
    chooser.value.set_files(str(photo))
    _eventually(lambda: _visible(phone, "ready"), WAIT, "the compressed photo")


def _read(phone: Page, unit: str, value: int, photo: Path) -> None:
    _open_meter(phone, unit)
    _type(phone, "Reading", str(value))
    _eventually(lambda: _visible(phone, "Consumption:"), WAIT, "the live consumption")
    assert not _visible(phone, "Outside the expected range"), f"{value} should be inside {unit}'s window"
    _add_photo(phone, photo)  # an actual read is saved with its photo (the phone asks for one)
    _save(phone)


def _language(phone: Page, name: str) -> None:
    """Switch the app's language on the Sync tab (the buttons are named in their own script), then show the route."""
    phone.get_by_role("tab").nth(1).click()
    phone.get_by_role("button", name=name).click()
    phone.wait_for_timeout(500)
    phone.get_by_role("tab").nth(0).click()


def test_a_route_worked_offline_and_the_reread_loop(tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    clock = SocietyClock(PINNED)
    server_port, app_port = free_port(), free_port()
    server_data, phone_data = tmp_path / "server", tmp_path / "phone"
    photo = _photo(tmp_path / "meter.jpg", 70)
    field_url = f"http://127.0.0.1:{app_port}/"
    office = Office(f"http://127.0.0.1:{server_port}")
    apps: list[ServerProcess] = []
    fonts: list[tuple[str, int]] = []
    blocked: list[str] = []

    with sync_playwright() as playwright:
        browser = launch_browser(
            playwright,
            tmp_path,
            geolocation={"latitude": 30.90144, "longitude": 75.85736, "accuracy": 9},
            viewport=PHONE,
            blocked=blocked,
        )
        try:
            # 1. The route of ten, with history; the engineer signs in and gets it.
            with _server(server_port, server_data, tmp_path / "server-1.log", clock):
                route = _route_of_ten(office, clock, photo)
                apps.append(_field_app(server_port, app_port, phone_data, tmp_path / "app.log", clock))
                phone = first_page(browser)

                def font_loaded(response: Response) -> None:
                    if "NotoSans" in response.url:
                        fonts.append((response.url, response.status))

                phone.on("response", font_loaded)
                phone.goto(field_url)
                enable_flutter_semantics(phone)
                _type(phone, "Username", "engineer1")
                _type(phone, "Password", PASSWORD)
                phone.get_by_role("button", name="Sign in").click()
                _eventually(lambda: _visible(phone, "0 of 10 meters read this period"), WAIT, "the route of ten")

            # 2. Offline: the whole route.
            _eventually(lambda: _visible(phone, "Offline"), WAIT, "the offline indicator")
            for index, unit in enumerate(PLAIN):
                _read(phone, unit, _inside(route[unit], clock), _photo(tmp_path / f"{unit}.jpg", 40 + index * 10))
            _eventually(lambda: _visible(phone, "7 of 10 meters read this period"), WAIT, "seven reads counted")

            # The capture screen with the window and the estimate (the screenshot), then the skip instead.
            _open_meter(phone, SKIPPED)
            assert _visible(phone, "Expected today:")
            _type(phone, "Reading", str(_inside(route[SKIPPED], clock)))
            _eventually(
                lambda: _visible(phone, "Estimate: this unit's energy and fixed charge only"), WAIT, "the estimate"
            )
            phone.mouse.click(5, 5)  # unfocus the field: a blinking caret never settles
            wait_settled_screenshot(phone, shots / "capture.png")
            _type(phone, "Reading", "")
            phone.mouse.wheel(0, 800)
            phone.wait_for_timeout(500)
            matches = phone.get_by_text("Locked", exact=False)
            before = matches.count()
            phone.get_by_role("button", name="Cannot read? Reason").or_(
                phone.locator("flt-semantics[aria-expanded]")
            ).first.click()
            _eventually(lambda: matches.count() > before, WAIT, "the skip reasons")
            matches.last.click(force=True)
            phone.wait_for_timeout(300)
            _save(phone)

            # Far outside the window: typed twice, a photo, saved as verified.
            meter = route[OUTSIDE]
            far = _inside(meter, clock) + 5000
            _open_meter(phone, OUTSIDE)
            _type(phone, "Reading", str(far))
            _eventually(lambda: _visible(phone, "Outside the expected range"), WAIT, "the outside-window warning")
            phone.get_by_role("button", name="Save").click()
            phone.wait_for_timeout(1000)
            assert _visible(phone, "Previous reading"), "saved outside the window without typing it twice"
            _type(phone, "Type the value again to confirm", str(far))
            phone.get_by_role("button", name="Save").click()
            phone.wait_for_timeout(1000)
            assert _visible(phone, "Previous reading"), "saved outside the window without a photo"
            _add_photo(phone, _photo(tmp_path / "outside.jpg", 120))
            _save(phone)

            # Below the previous: the meter was replaced.
            meter = route[REPLACED]
            assert meter.previous is not None
            _open_meter(phone, REPLACED)
            _type(phone, "Reading", "35")
            _eventually(lambda: _visible(phone, "Replaced meter"), WAIT, "the below-previous question")
            assert not _visible(phone, "Rollover"), "43727 → 120 style drop offered as a rollover"
            phone.get_by_role("button", name="Replaced meter").click()
            _type(phone, "Old meter's final reading", str(_inside(meter, clock)))
            _type(phone, "New meter number", NEW_METER)
            _type(phone, "New meter's first reading (when installed)", "0")
            phone.mouse.move(200, 400)
            phone.mouse.wheel(0, 600)  # the photo buttons are below the replacement form
            phone.wait_for_timeout(500)
            _add_photo(phone, _photo(tmp_path / "replaced.jpg", 110))
            _save(phone)
            _type(phone, "Search unit or meter number", "")
            _eventually(lambda: _visible(phone, "10 of 10 meters read this period"), WAIT, "the whole route read")

            # 3. The server is back: everything uploads by itself; the supervisor rejects one read.
            with _server(server_port, server_data, tmp_path / "server-2.log", clock):
                phone.get_by_role("tab", name="Sync").click()
                _eventually(
                    lambda: _visible(phone, "0 to upload") and _visible(phone, "0 photos pending"),
                    90,
                    "the automatic upload of ten readings and a photo",
                )
                waiting = office.review()
                assert sorted(waiting) == sorted((*PLAIN, SKIPPED, OUTSIDE, REPLACED))
                assert "outside_window" in waiting[OUTSIDE]["flags"], waiting[OUTSIDE]
                assert waiting[OUTSIDE]["read_type"] == "verified", waiting[OUTSIDE]
                assert "outside_window" not in waiting[PLAIN[0]]["flags"], waiting[PLAIN[0]]
                replacement = waiting[REPLACED]["replacement"]
                assert (replacement["new_meter_number"], replacement["state"]) == (NEW_METER, "pending")
                rejected = waiting[REJECTED]["uuid"]
                office.call("supervisor", "POST", f"/api/review/readings/{rejected}/reject", json={"reason": REASON})

                # 4. The phone pulls: the task is on the route, with its reason.
                phone.get_by_role("tab", name="Route").click()
                _eventually(lambda: _visible(phone, "1 re-read to do"), 60, "the re-read task on the route")
                assert _visible(phone, "9 of 10 meters read this period")
                _eventually(lambda: _visible(phone, REASON), WAIT, "the supervisor's reason on the tile")
                phone.mouse.click(5, 5)
                wait_settled_screenshot(phone, shots / "route.png")

                _open_meter(phone, REJECTED)
                assert _visible(phone, REASON), "the capture screen shows why"
                _type(phone, "Reading", str(_inside(route[REJECTED], clock) + 3))
                phone.get_by_role("button", name="Get location").click()
                _eventually(lambda: _visible(phone, "from the meter"), WAIT, "the GPS fix")
                _add_photo(phone, _photo(tmp_path / "again.jpg", 130))
                _save(phone)
                _type(phone, "Search unit or meter number", "")
                _eventually(
                    lambda: (
                        _visible(phone, "10 of 10 meters read this period") and not _visible(phone, "re-read to do")
                    ),
                    60,
                    "the task gone once the new read is saved and uploaded",
                )
                phone.get_by_role("tab", name="Sync").click()
                _eventually(
                    lambda: _visible(phone, "0 to upload") and _visible(phone, "0 photos pending"), 60, "upload"
                )
                phone.get_by_role("tab", name="Route").click()
                assert not _visible(phone, "re-read to do")

                again = office.review()[REJECTED]
                assert again["uuid"] != rejected
                office.call("supervisor", "POST", f"/api/review/readings/{again['uuid']}/approve")
                _type(phone, "Search unit or meter number", REJECTED)
                _eventually(lambda: _visible(phone, "approved"), 60, "the approval on the phone")

                # 5. Hindi and Punjabi, drawn with the bundled fonts.
                _type(phone, "Search unit or meter number", "")
                _language(phone, "हिन्दी")
                phone.wait_for_timeout(1500)
                phone.mouse.click(5, 5)
                wait_settled_screenshot(phone, shots / "route-hi.png")
                _language(phone, "ਪੰਜਾਬੀ")
                phone.wait_for_timeout(1500)
                phone.mouse.click(5, 5)
                wait_settled_screenshot(phone, shots / "route-pa.png")
                _language(phone, "English")
        except BaseException:
            failure_screenshots(browser.pages, shots)
            raise
        finally:
            browser.close()
            for app in apps:
                app.stop()
            office.close()

    assert {url.rsplit("/", 1)[-1] for url, status in fonts if status == 200} >= {
        "NotoSansDevanagari-Regular.ttf",
        "NotoSansGurmukhi-Regular.ttf",
    }, fonts
    assert not [url for url in blocked if "font" in url], blocked  # nothing fetched from the internet for the scripts
    if os.environ.get("FIELDMETER_E2E_DOCS") == "1":
        for shot, name in DOCS_SHOTS.items():
            shutil.copyfile(shots / shot, ROOT / "docs" / name)
    print(f"\nscreenshots: {shots}")
