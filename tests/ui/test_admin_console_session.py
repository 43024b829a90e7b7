"""The admin's directory screens, headless against the real server in-process: blocks and units, meters (a
duplicate number shown beside its field and nothing saved), people, a route reordered, a tariff file whose error
names its line and a tariff assigned to a unit, a meter replaced and a reported replacement confirmed. What the
screens did is checked through the API afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from mobile_app.console.app import console_main
from tests.support.flet_driver import FletDriver, run_app
from tests.sync_server.factories import meters_by_unit, sha256
from tests.ui.ui_fixtures import Server, meter_photo, select_option, sign_in, value_of, wait_key

TIMEOUT = 60.0
ROOT = Path(__file__).resolve().parents[2]
GOOD_TARIFF = (ROOT / "assets/tariffs/blessings.toml").read_text().replace('code = "BLESSINGS"', 'code = "ZINNIA"')
BAD_TARIFF = GOOD_TARIFF.replace("rate_per_unit = 12", "rate_per_unit = -12")
BAD_LINE = BAD_TARIFF.splitlines().index("rate_per_unit = -12") + 1


def run(server: Server, scenario: Any) -> None:
    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    run_app(console_main(http_factory), scenario, timeout=TIMEOUT)


def items(server: Server, path: str, **params: Any) -> list[dict[str, Any]]:
    response = server.http.get(f"/api{path}", params={"limit": 200, **params}, headers=server.headers("admin"))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


def one(server: Server, path: str, q: str, field: str) -> dict[str, Any]:
    [row] = [row for row in items(server, path, q=q) if row[field] == q]
    return row


async def section(driver: FletDriver, name: str, ready_key: str) -> None:
    await wait_key(driver, f"section-{name}")
    await driver.click(f"section-{name}")
    await wait_key(driver, ready_key)


async def choose(driver: FletDriver, key: str, option_key: str) -> None:
    """Pick an option once the view has loaded it."""
    await driver.wait_for(
        lambda: option_key in [o.key for o in driver.find(key).options], message=f"{key} offering {option_key}"
    )
    await select_option(driver, key, option_key)


def test_admin_enters_a_block_unit_meter_and_engineer(server: Server) -> None:
    meters_before = len(items(server, "/meters"))

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "admin")
        await section(driver, "premises", "blocks_range")
        await driver.wait_for(lambda: str(value_of(driver, "blocks_range")).endswith(" of 4"), message="4 blocks")
        await driver.type_text("block_code", "Z")
        await driver.type_text("block_name", "Zinnia")
        await driver.click("block_save")
        await driver.wait_for_text("Z · Zinnia")
        block = one(server, "/blocks", "Z", "code")
        await choose(driver, "unit_block", str(block["id"]))
        await driver.type_text("unit_code", "2BHK-Z1-GF")
        await driver.type_text("unit_type", "2BHK")
        await driver.type_text("unit_load", "4.5")
        await driver.type_text("unit_phone", "12")  # not a phone number: refused beside the field
        await driver.click("unit_save")
        await driver.wait_for(lambda: driver.find("unit_phone").error, message="the phone's error")
        assert "phone" in driver.find("unit_phone").error or "digits" in driver.find("unit_phone").error
        assert items(server, "/units", q="2BHK-Z1") == []
        await driver.type_text("unit_phone", "98765 43210")
        await driver.click("unit_save")
        await driver.wait_for(lambda: items(server, "/units", q="2BHK-Z1"), message="the unit stored")

        await section(driver, "meters", "meters_range")
        await choose(driver, "meter_block", str(block["id"]))
        await driver.type_text("meter_number", "40012170")  # the walk-through flat's meter
        await driver.click("meter_save")
        await driver.wait_for(lambda: driver.find("meter_number").error, message="the number's error")
        assert "40012170" in driver.find("meter_number").error
        assert driver.find("meter_error").visible is False
        await driver.type_text("meter_number", "Z-0001")
        await driver.type_text("meter_lat", "30.9")
        await driver.type_text("meter_lon", "75.85")
        await driver.click("meter_save")
        await driver.wait_for(lambda: value_of(driver, "meter_number") == "", message="the meter saved")
        await driver.type_text("meter_number", "Z-0002")
        await choose(driver, "meter_block", str(block["id"]))
        await driver.click("meter_save")
        await driver.wait_for(lambda: value_of(driver, "meter_number") == "", message="the second meter saved")

        await section(driver, "people", "users_range")
        await driver.type_text("user_username", "engineer9")
        await driver.type_text("user_full_name", "Nine Engineer")
        await driver.type_text("user_password", "temporary-pass-9")
        await driver.click("user_save")
        await driver.wait_for_text("engineer9 · Nine Engineer · engineer · active")
        assert driver.crashes() == []

    run(server, scenario)
    assert len(items(server, "/meters")) == meters_before + 2
    unit = one(server, "/units", "2BHK-Z1-GF", "code")
    assert (unit["unit_type"], unit["sanctioned_load_kw"], unit["phone"]) == ("2BHK", "4.50", "9876543210")
    meter = one(server, "/meters", "Z-0001", "number")
    assert (meter["lat"], meter["lon"]) == (30.9, 75.85)
    assert one(server, "/users", "engineer9", "username")["role"] == "engineer"


def test_admin_builds_and_reorders_a_route_and_uploads_a_tariff(server: Server) -> None:
    admin = server.headers("admin")
    engineer2 = one(server, "/users", "engineer2", "username")
    route = server.http.get(f"/api/routes/{engineer2['id']}", params={"limit": 200}, headers=admin).json()["items"]
    first, second = route[0], route[1]

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "admin")
        await section(driver, "routes", "route_engineer")
        await choose(driver, "route_engineer", str(engineer2["id"]))
        await wait_key(driver, f"stop-{first['meter_id']}")
        await driver.click(f"down-{first['meter_id']}")
        assert value_of(driver, f"place-{second['meter_id']}") == "1"
        await driver.click("route_save")
        await driver.wait_for_text("Walk order saved")

        await section(driver, "tariffs", "tariffs_range")
        await driver.type_text("tariff_text", BAD_TARIFF)
        await driver.click("tariff_save")
        await driver.wait_for(lambda: driver.find("tariff_text").error, message="the tariff's error")
        assert f"line {BAD_LINE} " in driver.find("tariff_text").error
        await driver.type_text("tariff_text", GOOD_TARIFF)
        await driver.click("tariff_save")
        await driver.wait_for_text("ZINNIA")
        [zinnia] = [t for t in items(server, "/tariffs") if t["code"].startswith("ZINNIA")]
        await driver.click(f"assign-{zinnia['id']}")
        await driver.type_text("assign_units", "2BHK-B1-GF, NOWHERE-9")
        await driver.type_text("assign_reason", "New tariff from January")
        await driver.click("assign_save")
        await driver.wait_for(lambda: driver.find("assign_units").error, message="the unknown unit named")
        assert "NOWHERE-9" in driver.find("assign_units").error
        await driver.type_text("assign_units", "2BHK-B1-GF")
        await driver.click("assign_save")
        await driver.wait_for_text("1 unit now on ZINNIA")
        assert one(server, "/units", "2BHK-B1-GF", "code")["tariff_id"] == zinnia["id"]
        assert driver.crashes() == []

    run(server, scenario)
    after = server.http.get(f"/api/routes/{engineer2['id']}", params={"limit": 200}, headers=admin).json()["items"]
    assert [stop["meter_id"] for stop in after[:2]] == [second["meter_id"], first["meter_id"]]
    assert len(after) == len(route)
    assert [t for t in items(server, "/tariffs") if t["code"].startswith("ZINNIA")]


def test_admin_replaces_a_meter_and_the_supervisor_confirms_a_reported_one(server: Server) -> None:
    old = one(server, "/meters", "40012000", "number")  # 2BHK-B1-GF's meter, engineer1's route
    reported_meter = one(server, "/meters", "40012017", "number")  # 2BHK-B1-FF's
    engineer = server.headers("engineer1")
    photo = meter_photo()
    [stop] = [m for m in meters_by_unit(server.http, engineer).values() if m["meter_id"] == reported_meter["id"]]
    pushed = server.push_replacement(stop, "N-0002", photo)
    uploaded = server.http.put(
        f"/api/photos/{sha256(photo)}", content=photo, headers=engineer | {"Content-Type": "image/jpeg"}
    )
    assert uploaded.status_code == 201, uploaded.text
    today = server.clock().astimezone(ZoneInfo("Asia/Kolkata")).date().isoformat()

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "admin")
        await section(driver, "meters", "meters_range")
        await driver.type_text("meters_search", "40012000")
        await driver.submit("meters_search")
        await wait_key(driver, f"replace-{old['id']}")
        await driver.click(f"replace-{old['id']}")
        await driver.type_text("replace_on", today)
        await driver.type_text("replace_old_final", "1234567")  # seven digits on a six-dial meter
        await driver.type_text("replace_number", "N-0001")
        await driver.type_text("replace_new_initial", "0")
        await driver.type_text("replace_reason", "Display failed")
        await driver.click("replace_save")
        await driver.wait_for(
            lambda: driver.find("replace_old_final").error or driver.find("replace_error").value,
            message="the final read refused",
        )
        assert one(server, "/meters", "40012000", "number")["status"] == "active"
        await driver.type_text("replace_old_final", str(int(old_previous) + 30))
        await driver.click("replace_save")
        await driver.wait_for_text("replaced by N-0001")
        await driver.click("sign_out")
        await wait_key(driver, "username")
        await sign_in(driver, "supervisor")
        await wait_key(driver, f"replacement-{pushed['uuid']}")
        await driver.type_text(f"reason-{pushed['uuid']}", "New meter seen on the photo")
        await driver.click(f"confirm-replacement-{pushed['uuid']}")
        await driver.wait_for_text("Replacement confirmed")
        assert driver.crashes() == []

    old_previous = _previous(server, old["id"])
    run(server, scenario)
    assert one(server, "/meters", "40012000", "number")["status"] == "retired"
    assert one(server, "/meters", "N-0001", "number")["status"] == "active"
    assert one(server, "/meters", "N-0002", "number")["status"] == "active"
    assert server.review_item(pushed["uuid"])["status"] == "approved"


def _previous(server: Server, meter_id: int) -> str:
    pulled = meters_by_unit(server.http, server.headers("engineer1")).values()
    value: str = next(m for m in pulled if m["meter_id"] == meter_id)["previous"]["value"]
    return value
