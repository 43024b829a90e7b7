"""Engineers' routes: walk order, a whole-route reorder, bulk moves, and what the phones pull."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from shared_billing.protocol import MeterStatus
from sync_server.models import AssignmentHistory, AuditEvent, Meter
from tests.sync_server.factories import auth


def _ids(client: TestClient) -> dict[str, int]:
    admin = auth(client, "admin")
    return {u["username"]: u["id"] for u in client.get("/api/users", headers=admin).json()["items"]}


def _route(client: TestClient, admin: dict[str, str], engineer_id: int) -> list[dict[str, Any]]:
    answer = client.get(f"/api/routes/{engineer_id}", params={"limit": 200}, headers=admin)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def _pulled_order(client: TestClient, username: str) -> list[int]:
    pulled = client.get("/api/sync/pull", headers=auth(client, username)).json()
    return [meter["meter_id"] for meter in pulled["meters"]]


def test_a_route_is_listed_and_pulled_in_walk_order(client: TestClient) -> None:
    admin, ids = auth(client, "admin"), _ids(client)
    route = _route(client, admin, ids["engineer1"])
    assert [stop["walk_order"] for stop in route] == list(range(1, len(route) + 1))
    assert _pulled_order(client, "engineer1") == [stop["meter_id"] for stop in route]
    page = client.get(f"/api/routes/{ids['engineer1']}", params={"limit": 2, "offset": 1}, headers=admin).json()
    assert [s["meter_id"] for s in page["items"]] == [s["meter_id"] for s in route[1:3]]
    assert page["total"] == len(route)
    found = client.get(f"/api/routes/{ids['engineer1']}", params={"q": "motor"}, headers=admin).json()
    assert [s["unit_code"] for s in found["items"]] == ["MOTOR-B"]
    missing = client.get(f"/api/routes/{ids['admin']}", headers=admin)
    assert (missing.status_code, missing.json()["code"]) == (404, "user.not_found")


def test_a_reorder_is_pulled_and_audited(client: TestClient) -> None:
    admin, ids = auth(client, "admin"), _ids(client)
    engineer = auth(client, "engineer1")
    cursor = client.get("/api/sync/pull", headers=engineer).json()["cursor"]
    old = [stop["meter_id"] for stop in _route(client, admin, ids["engineer1"])]
    new = [*reversed(old)]
    answer = client.put(
        f"/api/routes/{ids['engineer1']}", json={"meter_ids": new, "reason": "walk from the gate"}, headers=admin
    )
    assert answer.status_code == 204, answer.text
    assert [stop["meter_id"] for stop in _route(client, admin, ids["engineer1"])] == new
    assert _pulled_order(client, "engineer1") == new
    delta = client.get("/api/sync/pull", params={"cursor": cursor}, headers=engineer).json()
    assert {m["meter_id"]: m["walk_order"] for m in delta["meters"]} == {
        meter_id: place for place, meter_id in enumerate(new, start=1) if meter_id != old[place - 1]
    }
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "route.reordered")).all()
    assert event.reason == "walk from the gate"
    assert event.detail["meter_ids"] == {"old": old, "new": new}


def test_a_reorder_must_list_exactly_the_routes_meters(client: TestClient) -> None:
    admin, ids = auth(client, "admin"), _ids(client)
    mine = [stop["meter_id"] for stop in _route(client, admin, ids["engineer1"])]
    theirs = [stop["meter_id"] for stop in _route(client, admin, ids["engineer2"])]
    cases = {
        "missing": (mine[1:], {"missing": [mine[0]]}),
        "unexpected": ([*mine, theirs[0]], {"unexpected": [theirs[0]]}),
        "duplicates": ([*mine, mine[0]], {"duplicates": [mine[0]]}),
    }
    for name, (meter_ids, expected) in cases.items():
        answer = client.put(f"/api/routes/{ids['engineer1']}", json={"meter_ids": meter_ids}, headers=admin)
        assert (answer.status_code, answer.json()["code"]) == (422, "route.order_mismatch"), name
        details = answer.json()["details"]
        assert {key: details[key] for key in expected} == expected, name
    assert [stop["meter_id"] for stop in _route(client, admin, ids["engineer1"])] == mine


def test_a_bulk_move_keeps_the_order_after_the_targets_meters(client: TestClient) -> None:
    admin, ids = auth(client, "admin"), _ids(client)
    one, two = auth(client, "engineer1"), auth(client, "engineer2")
    cursors = {name: client.get("/api/sync/pull", headers=h).json()["cursor"] for name, h in (("1", one), ("2", two))}
    source = [stop["meter_id"] for stop in _route(client, admin, ids["engineer1"])]
    target = [stop["meter_id"] for stop in _route(client, admin, ids["engineer2"])]
    moving = [source[3], source[0], source[2]]  # sent in any order: they keep the order they had
    answer = client.post(
        "/api/routes/move",
        json={
            "from_engineer_id": ids["engineer1"],
            "to_engineer_id": ids["engineer2"],
            "meter_ids": moving,
            "reason": "engineer1 on leave in block B",
        },
        headers=admin,
    )
    assert answer.status_code == 200, answer.text
    kept_order = [source[0], source[2], source[3]]
    assert answer.json()["meter_ids"] == kept_order
    assert [stop["meter_id"] for stop in _route(client, admin, ids["engineer2"])] == target + kept_order
    assert [stop["meter_id"] for stop in _route(client, admin, ids["engineer1"])] == [
        m for m in source if m not in moving
    ]
    lost = client.get("/api/sync/pull", params={"cursor": cursors["1"]}, headers=one).json()
    assert lost["removed_meter_ids"] == sorted(moving)
    gained = client.get("/api/sync/pull", params={"cursor": cursors["2"]}, headers=two).json()
    assert [m["meter_id"] for m in gained["meters"]] == kept_order
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "route.moved")).all()
        spells = session.exec(select(AssignmentHistory).where(AssignmentHistory.meter_id == source[0])).all()
    assert event.reason == "engineer1 on leave in block B"
    assert event.detail["engineer_id"] == {"old": ids["engineer1"], "new": ids["engineer2"]}
    assert [(s.engineer_id, s.valid_to is None) for s in spells] == [
        (ids["engineer1"], False),
        (ids["engineer2"], True),
    ]


def test_a_bulk_move_refuses_bad_requests_and_moves_nothing(client: TestClient) -> None:
    admin, ids = auth(client, "admin"), _ids(client)
    source = [stop["meter_id"] for stop in _route(client, admin, ids["engineer1"])]
    theirs = [stop["meter_id"] for stop in _route(client, admin, ids["engineer2"])]
    move: dict[str, object] = {
        "from_engineer_id": ids["engineer1"],
        "to_engineer_id": ids["engineer2"],
        "meter_ids": source[:2],
    }
    cases: list[tuple[dict[str, object], int, str]] = [
        ({}, 422, "request.invalid"),  # no reason
        ({"to_engineer_id": ids["supervisor"], "reason": "r"}, 422, "meter.unknown_engineer"),
        ({"to_engineer_id": ids["engineer1"], "reason": "r"}, 422, "route.same_engineer"),
        ({"meter_ids": [source[0], theirs[0]], "reason": "r"}, 422, "route.order_mismatch"),
    ]
    for overrides, status, code in cases:
        answer = client.post("/api/routes/move", json=move | overrides, headers=admin)
        assert (answer.status_code, answer.json()["code"]) == (status, code), overrides
    assert [stop["meter_id"] for stop in _route(client, admin, ids["engineer1"])] == source


def test_an_assigned_meter_joins_the_end_of_the_route(client: TestClient) -> None:
    admin, ids = auth(client, "admin"), _ids(client)
    source = [stop["meter_id"] for stop in _route(client, admin, ids["engineer1"])]
    target = _route(client, admin, ids["engineer2"])
    answer = client.put(f"/api/meters/{source[0]}/assignment", json={"engineer_id": ids["engineer2"]}, headers=admin)
    assert answer.status_code == 204
    after = _route(client, admin, ids["engineer2"])
    assert after[-1]["meter_id"] == source[0]
    assert after[-1]["walk_order"] == target[-1]["walk_order"] + 1


def test_a_retired_meter_cannot_be_put_on_a_route(client: TestClient) -> None:
    admin, ids = auth(client, "admin"), _ids(client)
    meter_id = _route(client, admin, ids["engineer1"])[0]["meter_id"]
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        meter = session.get_one(Meter, meter_id)
        meter.status = MeterStatus.RETIRED
        session.add(meter)
        session.commit()

    answer = client.put(f"/api/meters/{meter_id}/assignment", json={"engineer_id": ids["engineer2"]}, headers=admin)

    assert (answer.status_code, answer.json()["code"]) == (409, "meter.retired")
    assert meter_id not in [stop["meter_id"] for stop in _route(client, admin, ids["engineer2"])]
