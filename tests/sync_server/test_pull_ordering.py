"""The pull cursor without a writers' lock: a writer held open inside its transaction blocks nobody, and a pull made
meanwhile does not skip its event once it commits (PostgreSQL, where sequence ids are not commit order)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from sync_server.events import PG_CURSOR_BASE, record_meter_event
from sync_server.models import SyncEvent, SyncEventKind
from tests.sync_server.factories import NOW, auth, meters_by_unit, push, reading

# A liveness bound: with the old advisory lock the decision below waited for the held writer, i.e. forever here.
DONE_WITHIN_S = 20.0


def _completes(call: Callable[[], Any]) -> Any:
    """Run ``call`` in a thread; fail if it has not finished within DONE_WITHIN_S (it is waiting on a lock)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # reraised below, in the test's thread
            outcome["error"] = error

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(DONE_WITHIN_S)
    assert not worker.is_alive(), "blocked behind the held writer"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_writer_held_open_blocks_no_one_and_its_event_is_not_skipped(client: TestClient, demo_app: FastAPI) -> None:
    one, two, supervisor = auth(client, "engineer1"), auth(client, "engineer2"), auth(client, "supervisor")
    first = client.get("/api/sync/pull", headers=one).json()
    held_meter = first["meters"][0]["meter_id"]
    cursor_two = client.get("/api/sync/pull", headers=two).json()["cursor"]

    engine = demo_app.state.context.engine
    with Session(engine) as held:
        # An event writer stopped inside its transaction: its event has taken its id (and its transaction id)
        # before any of the writes below, and commits after them.
        record_meter_event(held, meter_id=held_meter, kind=SyncEventKind.PREVIOUS, now=NOW)
        held.flush()
        try:
            # Another device's push, and a supervisor's decision that writes sync events itself, both finish.
            meter = next(iter(meters_by_unit(client, two).values()))
            pushed = _completes(lambda: push(client, two, [reading(meter)]))
            assert pushed[0]["outcome"] == "stored"
            uuid = pushed[0]["uuid"]
            rejected = _completes(
                lambda: client.post(
                    f"/api/review/readings/{uuid}/reject", json={"reason": "blurred"}, headers=supervisor
                )
            )
            assert rejected.status_code == 200, rejected.text
            # engineer1 pulls while the writer is still open: nothing of it yet, and a cursor below its event.
            meanwhile = _completes(lambda: client.get(f"/api/sync/pull?cursor={first['cursor']}", headers=one).json())
            assert meanwhile["meters"] == []
            held_key = held.exec(select(func.max(SyncEvent.cursor_key)).where(SyncEvent.meter_id == held_meter)).one()
            assert held_key is not None
            assert meanwhile["cursor"] < held_key
            held.commit()
        finally:
            held.rollback()  # no-op after the commit; releases the row if an assertion failed first

    after = client.get(f"/api/sync/pull?cursor={meanwhile['cursor']}", headers=one).json()
    assert [m["meter_id"] for m in after["meters"]] == [held_meter]
    assert after["cursor"] >= PG_CURSOR_BASE
    # The decision committed while the writer was held reaches engineer2 too (once nothing older is in flight).
    decisions = client.get(f"/api/sync/pull?cursor={cursor_two}", headers=two).json()["decisions"]
    assert [(d["reading_uuid"], d["status"], d["reason"]) for d in decisions] == [(uuid, "rejected", "blurred")]
