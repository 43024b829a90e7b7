"""The review list is built in a fixed number of queries whatever the number of readings, and says the same as
the one-reading-at-a-time lookups it replaced (meter, block, unit, previous approved reading, flags, photo)."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from shared_billing.api_models import ReviewQuery
from sync_server.api.routes.review import list_readings
from sync_server.db import create_db_engine
from sync_server.models import Block, Meter, Reading, ReadingFlagRecord, Unit
from sync_server.readings_query import last_approved
from sync_server.review import photo_pending
from tests.support.statements import statements
from tests.sync_server.factories import NOW, auth
from tests.sync_server.review_seed import submit_readings

_submit = partial(submit_readings, now=NOW, period="2025-11")


def _listed(client: TestClient) -> tuple[list[dict[str, Any]], int]:
    """The review list as the route builds it, and how many statements that took. On an engine of its own: the
    app's background jobs (status refresh, audit sealing) use the app's engine at any moment."""
    engine = create_db_engine(client.app.state.context.settings.database_url)  # type: ignore[attr-defined]
    try:
        with Session(engine) as session, statements(engine) as seen:
            page = list_readings(session, NOW, ReviewQuery(limit=500))
        return [item.model_dump(mode="json") for item in page.items], len(seen)
    finally:
        engine.dispose()


def _one_at_a_time(session: Session, item: dict[str, Any]) -> dict[str, Any]:
    """What the item says, looked up for this reading alone (the per-item path the list replaced)."""
    reading = session.exec(select(Reading).where(col(Reading.uuid) == uuid.UUID(item["uuid"]))).one()
    meter = session.get(Meter, reading.meter_id)
    assert meter is not None
    block = session.get(Block, meter.block_id)
    unit = session.get(Unit, meter.unit_id) if meter.unit_id is not None else None
    previous = last_approved(session, meter.id or 0, before=reading.captured_at)
    flags = session.exec(
        select(ReadingFlagRecord.code)
        .where(ReadingFlagRecord.reading_uuid == reading.uuid)
        .order_by(col(ReadingFlagRecord.id))
    ).all()
    return {
        "meter_number": meter.number,
        "unit_code": unit.code if unit else meter.label,
        "block_code": block.code if block else "",
        "previous_value": previous.value_text if previous else None,
        "flags": [str(flag) for flag in flags],
        "photo_pending": photo_pending(session, reading),
    }


def test_the_review_list_costs_the_same_queries_for_5_and_50_readings(client: TestClient) -> None:
    engine = client.app.state.context.engine  # type: ignore[attr-defined]
    _submit(engine, 5, start=0)
    five, five_statements = _listed(client)
    _submit(engine, 45, start=5)
    fifty, fifty_statements = _listed(client)

    assert (len(five), len(fifty)) == (5, 50)
    assert fifty_statements == five_statements
    # The same five say the same, but for the meter's other readings this period, which the 45 added to.
    by_uuid = {item["uuid"]: {**item, "same_period": None} for item in fifty}
    assert all(by_uuid[item["uuid"]] == {**item, "same_period": None} for item in five)

    with Session(engine) as session:
        for item in fifty:
            assert {key: item[key] for key in _one_at_a_time(session, item)} == _one_at_a_time(session, item)
            assert item["photo_url"] == (
                None if item["photo_pending"] or not item["photo_sha256"] else item["photo_url"]
            )
    # The sample covers what it must: flags, pending and stored photos, previous readings, a shared meter.
    assert any(item["flags"] for item in fifty)
    assert any(not item["flags"] for item in fifty)
    assert {item["photo_pending"] for item in fifty} == {True, False}
    assert any(item["photo_url"] for item in fifty)
    assert any(item["previous_value"] for item in fifty)
    assert any(item["consumption"] for item in fifty)
    assert any(item["meter_kind"] != "unit" for item in fifty)


def test_one_item_says_what_the_list_says(client: TestClient) -> None:
    engine = client.app.state.context.engine  # type: ignore[attr-defined]
    supervisor = auth(client, "supervisor")
    _submit(engine, 12, start=0)
    listed, _ = _listed(client)
    for item in listed:
        single = client.get(f"/api/review/readings/{item['uuid']}", headers=supervisor)
        assert single.status_code == 200
        assert single.json() == item
