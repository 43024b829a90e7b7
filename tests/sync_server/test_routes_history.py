"""A reading saved offline before a route move and pushed after it is judged by who had the meter when it was
captured (docs/domain.md "Routes"), in one query per push."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from sync_server.clock import FixedClock
from tests.sync_server.factories import NOW, auth, meters_by_unit, push, reading


def _move(client: TestClient, meter_id: int, to: str) -> None:
    admin = auth(client, "admin")
    ids = {u["username"]: u["id"] for u in client.get("/api/users", headers=admin).json()["items"]}
    answer = client.post(
        "/api/routes/move",
        json={
            "from_engineer_id": ids["engineer1"],
            "to_engineer_id": ids[to],
            "meter_ids": [meter_id],
            "reason": "route change",
        },
        headers=admin,
    )
    assert answer.status_code == 200, answer.text


def test_readings_are_judged_by_the_assignment_at_their_captured_at(client: TestClient, clock: FixedClock) -> None:
    meter = meters_by_unit(client, auth(client, "engineer1"))["2BHK-B1-GF"]
    clock.advance(timedelta(hours=2))
    _move(client, meter["meter_id"], "engineer2")  # at NOW + 2h
    clock.advance(timedelta(hours=3))
    one, two = auth(client, "engineer1"), auth(client, "engineer2")
    before_move = reading(meter, captured_at=(NOW + timedelta(hours=1)).isoformat())
    after_move = reading(meter, captured_at=(NOW + timedelta(hours=2, minutes=30)).isoformat())
    before_assignment = reading(meter, captured_at=(NOW - timedelta(hours=1)).isoformat())
    results = push(client, one, [before_move, after_move, before_assignment], sent_at=clock())
    assert [(r["outcome"], r["code"]) for r in results] == [
        ("stored", None),
        ("rejected", "reading.not_assigned"),
        ("rejected", "reading.not_assigned"),
    ]
    new_engineer = reading(meter, captured_at=(NOW + timedelta(hours=4)).isoformat())
    assert push(client, two, [new_engineer], sent_at=clock())[0]["outcome"] == "stored"


@contextmanager
def _statements(client: TestClient) -> Iterator[list[str]]:
    engine = client.app.state.context.engine  # type: ignore[attr-defined]
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_the_assignment_check_costs_one_query_however_many_meters(client: TestClient, clock: FixedClock) -> None:
    one = auth(client, "engineer1")
    meters = list(meters_by_unit(client, one).values())
    counts = []
    for batch in (meters[:1], meters[1:6]):
        with _statements(client) as seen:
            push(client, one, [reading(meter) for meter in batch], sent_at=clock())
        counts.append(sum("assignment_history" in statement for statement in seen))
    assert counts == [1, 1]
