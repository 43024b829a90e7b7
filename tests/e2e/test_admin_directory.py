"""The admin's directory in the browser console (Chromium, a real server process): a block, a unit, a meter and an
engineer created; a duplicate meter number refused beside its field with nothing saved; a route built and
reordered; a meter replaced; a tariff file with an error (shown with its line) and then a good one uploaded with the
file chooser. What the screens did is checked through the API afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright

from tests.e2e.test_offline_reading_to_bill import PASSWORD, _eventually, _server, _sign_in, _visible
from tests.support.browser import first_page, free_port, launch_browser, wait_settled_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
GOOD_TARIFF = (ROOT / "assets/tariffs/blessings.toml").read_text().replace('code = "BLESSINGS"', 'code = "ASTER"')
BAD_TARIFF = GOOD_TARIFF.replace("rate_per_unit = 12", "rate_per_unit = -12")
BAD_LINE = BAD_TARIFF.splitlines().index("rate_per_unit = -12") + 1
WAIT = 30  # seconds any one step may take


def _type(page: Page, label: str, text: str) -> None:
    """Type like a person into the text field labelled exactly ``label`` (retyped if Flutter lost keys)."""
    box = page.get_by_role("textbox", name=label, exact=True)
    for _attempt in range(3):
        box.click()
        page.wait_for_timeout(300)
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.press("Backspace")
        page.keyboard.type(text, delay=40)
        page.wait_for_timeout(200)
        if box.input_value() == text:
            return
    raise AssertionError(f"could not type {text!r} into {label!r}: it shows {box.input_value()!r}")


def _choose(page: Page, nth: int, option: str) -> None:
    """Open the screen's ``nth`` dropdown (Flutter labels none of them in its semantics tree; they are in the
    screen's layout order) and pick the option whose text starts with ``option``."""
    matches = page.get_by_text(option, exact=False)
    # The option's text may be on the screen already (a list row): wait for the open menu's own, drawn last.
    before = matches.count()
    page.locator("flt-semantics[aria-expanded]").nth(nth).click()
    _eventually(lambda: matches.count() > before, WAIT, f"the option {option!r} in the open menu")
    matches.last.click(force=True)  # the menu item's own node lies over its text
    page.wait_for_timeout(300)


def _shows(page: Page, text: str) -> Callable[[], bool]:
    return lambda: _visible(page, text)


def _section(page: Page, label: str, ready: str) -> None:
    page.get_by_role("button", name=label, exact=True).click()
    _eventually(lambda: _visible(page, ready), WAIT, f"the {label} section")
    page.wait_for_timeout(500)  # its lists and choices load after it shows


class Api:
    def __init__(self, base: str) -> None:
        self.base = base
        body = {"username": "admin", "password": PASSWORD, "device_id": "e2e-check"}
        token = httpx.post(f"{base}/auth/login", json=body).json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    def items(self, path: str, **params: Any) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.base}{path}", params={"limit": 200, **params}, headers=self.headers)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["items"]
        return found

    def one(self, path: str, field: str, value: str) -> dict[str, Any]:
        [row] = [row for row in self.items(path, q=value) if row[field] == value]
        return row


def test_admin_enters_the_directory_routes_replacement_and_tariffs(tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    bad_file, good_file = tmp_path / "bad.toml", tmp_path / "aster.toml"
    bad_file.write_text(BAD_TARIFF)
    good_file.write_text(GOOD_TARIFF)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with _server(port, tmp_path / "server", tmp_path / "server.log"), sync_playwright() as playwright:
        api = Api(f"http://127.0.0.1:{port}/api")
        meters_before = len(api.items("/meters"))
        browser = launch_browser(playwright, tmp_path)
        page = first_page(browser)
        try:
            _sign_in(page, url, "admin")
            _eventually(lambda: _visible(page, "Run billing"), WAIT, "the admin's console")

            # A block and a unit in it.
            _section(page, "Blocks & units", "Save unit")
            _type(page, "Block code", "AA")
            _type(page, "Block name", "Aster")
            page.get_by_role("button", name="Save block").click()
            _eventually(lambda: _visible(page, "AA · Aster"), WAIT, "the new block in the list")
            _choose(page, 0, "AA · Aster")  # the unit's block
            _type(page, "Unit code", "2BHK-AA1-GF")
            _type(page, "Unit type (2BHK, VILLA…)", "2BHK")
            _type(page, "Consumer name", "Asha Rao")
            page.get_by_role("button", name="Save unit").click()
            _eventually(lambda: _visible(page, "2BHK-AA1-GF"), WAIT, "the new unit in the list")

            # Meters: a duplicate number is refused beside its field; then two new meters.
            _section(page, "Meters", "Save meter")
            _choose(page, 0, "AA · Aster")
            _type(page, "Meter number", "40012170")  # the walk-through flat's meter
            page.get_by_role("button", name="Save meter").click()
            _eventually(lambda: _visible(page, "is taken"), WAIT, "the duplicate number's error")
            page.mouse.click(5, 5)
            wait_settled_screenshot(page, shots / "duplicate-meter.png")
            assert len(api.items("/meters")) == meters_before
            # AA-0001 is the new flat's meter; AA-0002 a shared one (no unit).
            for number, flat in (("AA-0001", "2BHK-AA1-GF"), ("AA-0002", None)):
                if flat is not None:
                    _choose(page, 1, flat)
                _type(page, "Meter number", number)
                page.get_by_role("button", name="Save meter").click()
                _eventually(_shows(page, f"Meter {number} saved"), WAIT, f"meter {number} saved")
                _choose(page, 0, "AA · Aster")

            # An engineer.
            _section(page, "People", "Create account")
            _type(page, "Username", "engineer7")
            _type(page, "Full name", "Seven Engineer")
            _type(page, "Temporary password", "temporary-pass-7")
            page.get_by_role("button", name="Create account").click()
            _eventually(lambda: _visible(page, "engineer7 · Seven Engineer"), WAIT, "the new engineer")

            # Their route: two meters, then the first moved down one place.
            _section(page, "Routes", "Save order")
            _choose(page, 0, "engineer7")
            for number in ("AA-0001", "AA-0002"):
                _type(page, "Meter number", number)
                page.get_by_role("button", name="Add to route").click()
                _eventually(_shows(page, f"meter {number} ·"), WAIT, f"{number} on the route")
            _eventually(lambda: _visible(page, "2 meters in walk order"), WAIT, "the route of two")
            page.locator('[aria-label="Later"]').first.click()
            page.get_by_role("button", name="Save order").click()
            _eventually(lambda: _visible(page, "Walk order saved"), WAIT, "the order saved")

            # AA-0001 replaced by AA-0003.
            _section(page, "Meters", "Save meter")
            _type(page, "Search meter number or label", "AA-0001")
            page.keyboard.press("Enter")
            _eventually(lambda: _visible(page, "1–1 of 1"), WAIT, "the search")
            page.get_by_role("button", name="Replace", exact=True).click()
            _eventually(lambda: _visible(page, "Replace meter AA-0001"), WAIT, "the replacement form")
            _type(page, "Replaced on (YYYY-MM-DD)", _society_today(api))
            _type(page, "Old meter's final read", "120")
            _type(page, "New meter number", "AA-0003")
            _type(page, "New meter's initial read", "0")
            _type(page, "Reason", "Display failed")
            page.get_by_role("button", name="Record replacement").click()
            _eventually(lambda: _visible(page, "replaced by AA-0003"), WAIT, "the replacement recorded")

            # Tariffs: a file with an error (its line shown), then a good one.
            _section(page, "Tariffs", "Upload")
            for chosen in (bad_file, good_file):
                with page.expect_file_chooser() as chooser:
                    page.get_by_role("button", name="Choose file…").click()
                chooser.value.set_files(str(chosen))
                _eventually(_shows(page, f"Loaded {chosen.name}"), WAIT, "the file in the box")
                page.get_by_role("button", name="Upload").click()
                if chosen == bad_file:
                    _eventually(lambda: _visible(page, f"line {BAD_LINE} "), WAIT, "the error with its line")
                    page.mouse.click(5, 5)
                    wait_settled_screenshot(page, shots / "tariff-error.png")
                    assert not [t for t in api.items("/tariffs") if t["code"].startswith("ASTER")]
            _eventually(lambda: _visible(page, "ASTER"), WAIT, "the stored tariff")
        except BaseException:
            shots.mkdir(exist_ok=True)
            page.screenshot(path=str(shots / "failure.png"))
            print(f"\nscreenshot at the failure: {shots / 'failure.png'}")
            raise
        finally:
            browser.close()

        block = api.one("/blocks", "code", "AA")
        unit = api.one("/units", "code", "2BHK-AA1-GF")
        assert (unit["block_id"], unit["unit_type"], unit["consumer_name"]) == (block["id"], "2BHK", "Asha Rao")
        assert len(api.items("/meters")) == meters_before + 3
        assert api.one("/meters", "number", "AA-0001")["status"] == "retired"
        new = api.one("/meters", "number", "AA-0003")
        engineer = api.one("/users", "username", "engineer7")
        assert engineer["role"] == "engineer"
        route = httpx.get(f"{api.base}/routes/{engineer['id']}", headers=api.headers).json()["items"]
        # AA-0002 was moved first; AA-0003 took AA-0001's place after it.
        assert [stop["meter_number"] for stop in route] == ["AA-0002", "AA-0003"]
        assert new["engineer_id"] == engineer["id"]
        assert [t for t in api.items("/tariffs") if t["code"].startswith("ASTER")]
    print(f"\nscreenshots: {shots}")


def _society_today(api: Api) -> str:
    today: str = httpx.get(f"{api.base}/clock", headers=api.headers).json()["today"]
    return today
