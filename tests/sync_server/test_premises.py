"""Directory writes over the API (sync_server/premises.py): blocks, units and meters, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from sync_server.models import AuditEvent
from tests.sync_server.factories import auth


def _admin(client: TestClient) -> dict[str, str]:
    return auth(client, "admin")


def _block_id(client: TestClient, headers: dict[str, str], code: str = "B") -> int:
    page = client.get("/api/blocks", params={"q": code}, headers=headers).json()
    return int(next(b["id"] for b in page["items"] if b["code"] == code))


def _unit(client: TestClient, headers: dict[str, str], code: str) -> dict[str, Any]:
    page = client.get("/api/units", params={"q": code}, headers=headers).json()
    unit: dict[str, Any] = next(u for u in page["items"] if u["code"] == code)
    return unit


def _meter(client: TestClient, headers: dict[str, str], number: str) -> dict[str, Any]:
    page = client.get("/api/meters", params={"q": number}, headers=headers).json()
    meter: dict[str, Any] = next(m for m in page["items"] if m["number"] == number)
    return meter


def _unit_body(block_id: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": "3BHK-B40-GF",
        "block_id": block_id,
        "category": "flat",
        "unit_type": "2BHK",
        "floor": "GF",
        "sanctioned_load_kw": "5.5",
        "consumer_name": "Asha Verma",
        "phone": "+91 98140 12345",
        "email": "asha@example.in",
        "reason": "new flat handed over",
    }
    return body | changes


def _meter_body(block_id: int, unit_id: int | None, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": "77001122",
        "block_id": block_id,
        "unit_id": unit_id,
        "dials": 6,
        "decimals": 1,
        "multiplier": "1",
        "lat": 30.91,
        "lon": 75.86,
        "install_date": "2025-11-02",
    }
    return body | changes


def _audits(client: TestClient, action: str) -> list[AuditEvent]:
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))))


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_block_is_created_edited_and_audited(client: TestClient) -> None:
    admin = _admin(client)
    created = client.post("/api/blocks", json={"code": "Z9", "name": "Block Z9", "reason": "phase 2"}, headers=admin)
    assert created.status_code == 201, created.text
    block = created.json()
    edited = client.put(f"/api/blocks/{block['id']}", json={"code": "Z9", "name": "Casuarina"}, headers=admin)
    assert edited.json() == {"id": block["id"], "code": "Z9", "name": "Casuarina"}

    [added] = _audits(client, "block.created")
    assert (added.reason, added.entity_id, added.detail["code"]) == (
        "phase 2",
        str(block["id"]),
        {"old": None, "new": "Z9"},
    )
    [changed] = _audits(client, "block.updated")
    assert changed.detail == {"name": {"old": "Block Z9", "new": "Casuarina"}}  # only what changed

    _problem(client.post("/api/blocks", json={"code": "B", "name": "Again"}, headers=admin), 409, "block.code_taken")
    _problem(
        client.put("/api/blocks/999999", json={"code": "Z", "name": "Z"}, headers=admin), 404, "billing.unknown_block"
    )


def test_block_list_pages_and_searches(client: TestClient) -> None:
    admin = _admin(client)
    everything = client.get("/api/blocks", headers=admin).json()
    assert everything["total"] == len(everything["items"]) >= 2
    first = client.get("/api/blocks", params={"limit": 1}, headers=admin).json()
    assert (len(first["items"]), first["total"], first["limit"]) == (1, everything["total"], 1)
    named = everything["items"][0]["name"]
    found = client.get("/api/blocks", params={"q": named.upper()}, headers=admin).json()
    assert named in [b["name"] for b in found["items"]]


def test_a_unit_keeps_its_contact_and_load(client: TestClient) -> None:
    admin = _admin(client)
    block_id = _block_id(client, admin)
    created = client.post("/api/units", json=_unit_body(block_id), headers=admin)
    assert created.status_code == 201, created.text
    unit = created.json()
    assert (unit["phone"], unit["email"], unit["sanctioned_load_kw"]) == ("+919814012345", "asha@example.in", "5.50")

    body = _unit_body(block_id, consumer_name="Asha V. Verma", rate_override="0", reason=None)
    edited = client.put(f"/api/units/{unit['id']}", json=body, headers=admin).json()
    assert (edited["consumer_name"], edited["rate_override"]) == ("Asha V. Verma", "0.00")
    [changed] = _audits(client, "unit.updated")
    assert changed.detail == {
        "consumer_name": {"old": "Asha Verma", "new": "Asha V. Verma"},
        "rate_override": {"old": None, "new": "0"},
    }
    _problem(client.post("/api/units", json=_unit_body(block_id), headers=admin), 409, "unit.code_taken")


def test_a_rate_override_keeps_four_places(client: TestClient) -> None:
    admin = _admin(client)
    unit = client.post("/api/units", json=_unit_body(_block_id(client, admin), rate_override="4.125"), headers=admin)
    assert unit.status_code == 201, unit.text
    assert unit.json()["rate_override"] == "4.125"  # was stored as 4.12
    assert _unit(client, admin, "3BHK-B40-GF")["rate_override"] == "4.125"


def test_personal_data_is_for_admins_and_accountants_only(client: TestClient) -> None:
    admin = _admin(client)
    client.post("/api/units", json=_unit_body(_block_id(client, admin)), headers=admin)
    for who in ("admin", "accountant"):
        unit = _unit(client, auth(client, who), "3BHK-B40-GF")
        assert (unit["consumer_name"], unit["phone"]) == ("Asha Verma", "+919814012345")
    supervisor = auth(client, "supervisor")
    unit = _unit(client, supervisor, "3BHK-B40-GF")
    assert (unit["consumer_name"], unit["phone"], unit["email"]) == (None, None, None)
    assert unit["sanctioned_load_kw"] == "5.50"  # not personal
    # Nor can a supervisor find a unit by its consumer's name.
    assert client.get("/api/units", params={"q": "Asha"}, headers=supervisor).json()["total"] == 0
    assert client.get("/api/units", params={"q": "Asha"}, headers=admin).json()["total"] == 1


def test_unit_list_filters_by_block(client: TestClient) -> None:
    admin = _admin(client)
    block_id = _block_id(client, admin)
    page = client.get("/api/units", params={"block_id": block_id, "limit": 200}, headers=admin).json()
    assert page["total"] == len(page["items"]) > 0
    assert {u["block_id"] for u in page["items"]} == {block_id}
    everything = client.get("/api/units", params={"limit": 200}, headers=admin).json()
    assert everything["total"] > page["total"]  # the demo has more than one block's units


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "+1 555 123 4567"}, "phone"),
        ({"phone": "98140 1234a"}, "phone"),
        ({"email": "asha.example.in"}, "email"),
        ({"email": "asha@example"}, "email"),
        ({"sanctioned_load_kw": "0"}, "sanctioned_load_kw"),
        ({"rate_override": "-1"}, "rate_override"),
        ({"rate_override": "4.12345"}, "rate_override"),  # four places at most: never rounded silently
        ({"category": "castle"}, "category"),
    ],
)
def test_bad_unit_fields_are_refused_by_name(client: TestClient, changes: dict[str, Any], field: str) -> None:
    admin = _admin(client)
    response = client.post("/api/units", json=_unit_body(_block_id(client, admin), **changes), headers=admin)
    body = _problem(response, 422, "request.invalid")
    assert body["details"]["errors"][0]["loc"][-1] == field or field in str(body["details"]), body
    assert client.get("/api/units", params={"q": "3BHK-B40"}, headers=admin).json()["total"] == 0


@pytest.mark.parametrize(("field", "value"), [("block_id", 999999), ("tariff_id", 999999)])
def test_unknown_references_are_named(client: TestClient, field: str, value: int) -> None:
    admin = _admin(client)
    body = _unit_body(_block_id(client, admin)) | {field: value}
    problem = _problem(client.post("/api/units", json=body, headers=admin), 422, "request.unknown_reference")
    assert problem["details"] == {field: value}
    assert problem["message"].startswith(field)


def test_a_meter_is_created_for_a_unit_or_shared(client: TestClient) -> None:
    admin = _admin(client)
    block_id = _block_id(client, admin)
    unit = client.post("/api/units", json=_unit_body(block_id), headers=admin).json()
    created = client.post("/api/meters", json=_meter_body(block_id, unit["id"]), headers=admin)
    assert created.status_code == 201, created.text
    meter = created.json()
    assert (meter["kind"], meter["status"], meter["install_date"], meter["engineer_id"]) == (
        "unit",
        "active",
        "2025-11-02",
        None,
    )
    shared = client.post(
        "/api/meters", json=_meter_body(block_id, None, number="77009999", label="MOTOR-C"), headers=admin
    ).json()
    assert shared["kind"] == "shared"
    assert [m["number"] for m in client.get("/api/meters", params={"q": "motor-c"}, headers=admin).json()["items"]] == [
        "77009999"
    ]
    [audit] = [a for a in _audits(client, "meter.created") if a.entity_id == str(meter["id"])]
    assert audit.detail["dials"] == {"old": None, "new": 6}


def test_meter_numbers_are_unique(client: TestClient) -> None:
    admin = _admin(client)
    taken = _meter(client, admin, "40019999")["number"]
    body = _meter_body(_block_id(client, admin), None, number=taken)
    problem = _problem(client.post("/api/meters", json=body, headers=admin), 409, "meter.number_taken")
    assert problem["details"] == {"number": taken}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"dials": 0}, "dials"),
        ({"dials": 13}, "dials"),
        ({"decimals": 4, "dials": 8}, "decimals"),
        ({"decimals": 2, "dials": 2}, "decimals"),
        ({"decimals": -1}, "decimals"),
        ({"multiplier": "0"}, "multiplier"),
        ({"lat": 91}, "lat"),
        ({"lat": None}, "lon"),
        ({"lon": None}, "lon"),
        ({"install_date": "1999-12-31"}, "install_date"),
        ({"status": "broken"}, "status"),
    ],
)
def test_bad_meter_fields_are_refused_by_name(client: TestClient, changes: dict[str, Any], field: str) -> None:
    admin = _admin(client)
    response = client.post("/api/meters", json=_meter_body(_block_id(client, admin), None, **changes), headers=admin)
    problem = _problem(response, 422, "request.invalid")
    assert problem["details"]["errors"][0]["loc"][-1] == field, problem
    assert client.get("/api/meters", params={"q": "77001122"}, headers=admin).json()["total"] == 0


def test_a_units_meter_is_in_its_block_and_alone(client: TestClient) -> None:
    admin = _admin(client)
    unit = _unit(client, admin, "5BHK-B17-FF")  # has its demo meter
    other_block = next(
        b["id"] for b in client.get("/api/blocks", headers=admin).json()["items"] if b["id"] != unit["block_id"]
    )
    _problem(
        client.post("/api/meters", json=_meter_body(other_block, unit["id"]), headers=admin), 422, "meter.wrong_block"
    )
    _problem(
        client.post("/api/meters", json=_meter_body(unit["block_id"], unit["id"]), headers=admin),
        409,
        "meter.unit_has_meter",
    )
    _problem(
        client.post("/api/meters", json=_meter_body(unit["block_id"], 999999), headers=admin),
        422,
        "request.unknown_reference",
    )


def _as_body(meter: dict[str, Any], **changes: Any) -> dict[str, Any]:
    fields = ("number", "block_id", "unit_id", "label", "dials", "decimals", "multiplier", "lat", "lon")
    return {field: meter[field] for field in fields} | {"status": meter["status"]} | changes


def test_a_read_meter_keeps_its_register(client: TestClient) -> None:
    admin = _admin(client)
    meter = _meter(client, admin, "40019999")  # the demo's motor meter has readings
    for changes in ({"dials": 7}, {"decimals": 2}, {"multiplier": "2"}):
        response = client.put(f"/api/meters/{meter['id']}", json=_as_body(meter, **changes), headers=admin)
        problem = _problem(response, 409, "meter.has_readings")
        assert "replacement" in problem["message"]
        assert problem["details"]["fields"] == list(changes)
    assert _meter(client, admin, "40019999")["dials"] == meter["dials"]
    # Where it is and what it is called may still be corrected.
    moved = client.put(f"/api/meters/{meter['id']}", json=_as_body(meter, label="MOTOR-B1", lat=30.9), headers=admin)
    assert (moved.status_code, moved.json()["label"], moved.json()["lat"]) == (200, "MOTOR-B1", 30.9)
    assert moved.json()["engineer_id"] == meter["engineer_id"]


def test_an_unread_meters_register_can_be_corrected(client: TestClient) -> None:
    admin = _admin(client)
    block_id = _block_id(client, admin)
    meter = client.post("/api/meters", json=_meter_body(block_id, None), headers=admin).json()
    fixed = client.put(f"/api/meters/{meter['id']}", json=_as_body(meter, dials=5, decimals=2), headers=admin)
    assert (fixed.status_code, fixed.json()["dials"], fixed.json()["decimals"]) == (200, 5, 2)


def test_retiring_a_meter_needs_a_reason(client: TestClient) -> None:
    admin = _admin(client)
    meter = client.post("/api/meters", json=_meter_body(_block_id(client, admin), None), headers=admin).json()
    body = _as_body(meter, status="retired")
    _problem(client.put(f"/api/meters/{meter['id']}", json=body, headers=admin), 422, "request.reason_required")
    retired = client.put(f"/api/meters/{meter['id']}", json=body | {"reason": "motor removed"}, headers=admin)
    assert retired.json()["status"] == "retired"
    listed = client.get("/api/meters", params={"status": "retired"}, headers=admin).json()
    assert [m["number"] for m in listed["items"]] == [meter["number"]]
    [audit] = _audits(client, "meter.updated")
    assert (audit.reason, audit.detail["status"]) == ("motor removed", {"old": "active", "new": "retired"})


def test_unknown_meter_or_unit_in_the_path_is_404(client: TestClient) -> None:
    admin = _admin(client)
    block_id = _block_id(client, admin)
    _problem(
        client.put("/api/meters/999999", json=_meter_body(block_id, None), headers=admin), 404, "reading.unknown_meter"
    )
    _problem(client.put("/api/units/999999", json=_unit_body(block_id), headers=admin), 404, "request.not_found")


def test_only_admins_write(client: TestClient) -> None:
    for who in ("supervisor", "accountant", "engineer1"):
        response = client.post("/api/blocks", json={"code": "Q", "name": "Q"}, headers=auth(client, who))
        _problem(response, 403, "auth.forbidden")
