from __future__ import annotations

from fastapi.testclient import TestClient

from tests.sync_server.factories import auth


def test_pull_first_is_full_and_scoped_to_caller(client: TestClient) -> None:
    first = client.get("/api/sync/pull", headers=auth(client, "engineer1")).json()
    second = client.get("/api/sync/pull", headers=auth(client, "engineer2")).json()
    assert first["full"] is True
    ones = {m["meter_id"] for m in first["meters"]}
    twos = {m["meter_id"] for m in second["meters"]}
    assert ones
    assert twos
    assert not ones & twos
    assert all(m["previous"] is not None for m in first["meters"])
    assert any(m["unit_code"] == "MOTOR-B" for m in first["meters"])


def test_pull_incremental_returns_only_changes(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    cursor = client.get("/api/sync/pull", headers=headers).json()["cursor"]
    unchanged = client.get(f"/api/sync/pull?cursor={cursor}", headers=headers).json()
    assert unchanged["meters"] == []
    assert unchanged["removed_meter_ids"] == []


def test_unassigned_meter_is_removed_and_reassigned_one_appears(client: TestClient) -> None:
    one, admin = auth(client, "engineer1"), auth(client, "admin")
    pulled = client.get("/api/sync/pull", headers=one).json()
    meter_id = pulled["meters"][0]["meter_id"]
    assert client.delete(f"/api/meters/{meter_id}/assignment", headers=admin).status_code == 204
    delta = client.get(f"/api/sync/pull?cursor={pulled['cursor']}", headers=one).json()
    assert delta["removed_meter_ids"] == [meter_id]

    engineers = client.get("/api/users?role=engineer", headers=admin).json()["items"]
    engineer1_id = next(u["id"] for u in engineers if u["username"] == "engineer1")
    put = client.put(f"/api/meters/{meter_id}/assignment", json={"engineer_id": engineer1_id}, headers=admin)
    assert put.status_code == 204
    back = client.get(f"/api/sync/pull?cursor={delta['cursor']}", headers=one).json()
    assert [m["meter_id"] for m in back["meters"]] == [meter_id]


def test_reassigning_moves_meter_between_engineers(client: TestClient) -> None:
    one, two, admin = auth(client, "engineer1"), auth(client, "engineer2"), auth(client, "admin")
    p1 = client.get("/api/sync/pull", headers=one).json()
    p2 = client.get("/api/sync/pull", headers=two).json()
    meter_id = p1["meters"][0]["meter_id"]
    engineer2_id = next(
        u["id"] for u in client.get("/api/users", headers=admin).json()["items"] if u["username"] == "engineer2"
    )
    client.put(f"/api/meters/{meter_id}/assignment", json={"engineer_id": engineer2_id}, headers=admin)
    assert client.get(f"/api/sync/pull?cursor={p1['cursor']}", headers=one).json()["removed_meter_ids"] == [meter_id]
    gained = client.get(f"/api/sync/pull?cursor={p2['cursor']}", headers=two).json()
    assert [m["meter_id"] for m in gained["meters"]] == [meter_id]


def test_assigning_to_non_engineer_is_refused(client: TestClient) -> None:
    admin = auth(client, "admin")
    supervisor_id = next(
        u["id"] for u in client.get("/api/users", headers=admin).json()["items"] if u["username"] == "supervisor"
    )
    response = client.put("/api/meters/1/assignment", json={"engineer_id": supervisor_id}, headers=admin)
    assert (response.status_code, response.json()["code"]) == (422, "meter.unknown_engineer")
