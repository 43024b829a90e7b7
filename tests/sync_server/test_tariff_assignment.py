"""Tariffs: versions listed by page, and units put on a tariff from now on (by id, or by unit type)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from sync_server.models import AuditEvent
from tests.sync_server.factories import auth

TARIFFS = Path(__file__).resolve().parents[2] / "assets" / "tariffs"


def _new_tariff(client: TestClient, admin: dict[str, str]) -> int:
    text = (TARIFFS / "tpddl-domestic-2015.toml").read_text()
    answer = client.post("/api/tariffs", content=text.encode(), headers=admin | {"Content-Type": "application/toml"})
    assert answer.status_code == 201, answer.text
    tariff_id: int = answer.json()[0]["id"]
    return tariff_id


def _units(client: TestClient, admin: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/api/units", params={"limit": 200}, headers=admin).json()["items"]
    return items


def test_tariff_versions_are_paged_with_their_dates(client: TestClient) -> None:
    admin = auth(client, "admin")
    _new_tariff(client, admin)
    listed = client.get("/api/tariffs", params={"limit": 1}, headers=admin).json()
    assert listed["total"] == 2
    assert len(listed["items"]) == 1
    found = client.get("/api/tariffs", params={"q": "tpddl"}, headers=admin).json()
    assert [t["valid_from"] for t in found["items"]] == ["2015-04-01"]


def test_units_named_by_id_move_to_the_tariff_and_each_change_is_audited(client: TestClient) -> None:
    admin = auth(client, "admin")
    tariff_id = _new_tariff(client, admin)
    units = _units(client, admin)[:2]
    body = {"unit_ids": [u["id"] for u in units], "reason": "new DISCOM order"}
    answer = client.post(f"/api/tariffs/{tariff_id}/units", json=body, headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"tariff_id": tariff_id, "unit_ids": sorted(u["id"] for u in units)}
    assert {u["id"]: u["tariff_id"] for u in _units(client, admin)[:2]} == {u["id"]: tariff_id for u in units}
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "unit.tariff_assigned")).all()
    assert {(e.entity_id, e.reason) for e in events} == {(str(u["id"]), "new DISCOM order") for u in units}
    assert {e.detail["tariff_id"]["old"] for e in events} == {u["tariff_id"] for u in units}
    again = client.post(f"/api/tariffs/{tariff_id}/units", json=body, headers=admin)
    assert again.json()["unit_ids"] == []  # already on it: nothing changes, nothing audited


def test_every_unit_of_a_type_and_category_moves(client: TestClient) -> None:
    admin = auth(client, "admin")
    tariff_id = _new_tariff(client, admin)
    body = {"unit_type": "4BHK", "category": "flat", "reason": "4BHK flats re-rated"}
    answer = client.post(f"/api/tariffs/{tariff_id}/units", json=body, headers=admin)
    assert answer.status_code == 200, answer.text
    by_type = {u["id"]: (u["unit_type"], u["tariff_id"]) for u in _units(client, admin)}
    assert sorted(answer.json()["unit_ids"]) == sorted(i for i, (kind, _) in by_type.items() if kind == "4BHK")
    assert all((tariff == tariff_id) == (kind == "4BHK") for kind, tariff in by_type.values())


def test_bad_assignments_are_refused_and_change_nothing(client: TestClient) -> None:
    admin = auth(client, "admin")
    tariff_id = _new_tariff(client, admin)
    unit_id = _units(client, admin)[0]["id"]
    cases = [
        (999999, {"unit_ids": [unit_id], "reason": "r"}, 404, "tariff.not_found"),
        (tariff_id, {"unit_ids": [unit_id, 999999], "reason": "r"}, 422, "request.unknown_reference"),
        (tariff_id, {"unit_type": "PENTHOUSE", "reason": "r"}, 422, "tariff.no_matching_units"),
        (tariff_id, {"unit_ids": [unit_id]}, 422, "request.invalid"),
        (tariff_id, {"unit_ids": [unit_id], "unit_type": "2BHK", "reason": "r"}, 422, "request.invalid"),
        (tariff_id, {"category": "flat", "reason": "r"}, 422, "request.invalid"),
    ]
    for target, body, status, code in cases:
        answer = client.post(f"/api/tariffs/{target}/units", json=body, headers=admin)
        assert (answer.status_code, answer.json()["code"]) == (status, code), body
    assert all(u["tariff_id"] != tariff_id for u in _units(client, admin))
