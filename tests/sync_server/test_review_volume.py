"""The review list at volume (issue 13): 1,000 readings waiting (600 for filters and orders), pages with the true
total in a fixed number of queries, filters and orders that agree with the data, the filters' counts, and bulk
approval of the clean ones that approves exactly what the supervisor confirmed."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from shared_billing.api_models import ReviewQuery
from shared_billing.consumption import MeterRegister
from shared_billing.plausibility import expected_window, usage_from_history
from sync_server.api.routes.review import list_readings
from sync_server.db import create_db_engine
from sync_server.models import AuditEvent, Meter, Reading, ReadingStatus, SyncEvent, SyncEventKind, User
from sync_server.review import SAME_PERIOD_SHOWN
from tests.support.statements import statements
from tests.sync_server.factories import NOW, auth
from tests.sync_server.review_seed import FLAGS, submit_readings

PERIOD = "2025-11"


#: Readings waiting in the query-count test (the issue's figure), and in the others: enough for two 500-reading pages
#: of every order and each filter to select several, at a fraction of the seeding time.
QUEUE = 1000
SMALLER_QUEUE = 600


def _seed(client: TestClient, count: int) -> Engine:
    engine: Engine = client.app.state.context.engine  # type: ignore[attr-defined]
    submit_readings(engine, count, start=0, now=NOW, period=PERIOD)
    return engine


@pytest.fixture
def pending(client: TestClient) -> Engine:
    """The demo society with 600 readings waiting for review."""
    return _seed(client, SMALLER_QUEUE)


def _page(client: TestClient, **params: Any) -> dict[str, Any]:
    answer = client.get("/api/review/readings", params=params, headers=auth(client, "supervisor"))
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


def _every(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = _page(client, limit=500, offset=len(items), **params)
        items += page["items"]
        if len(items) >= page["total"]:
            return items


def test_a_page_of_10_and_of_500_cost_the_same_queries_and_tell_the_true_total(client: TestClient) -> None:
    _seed(client, QUEUE)
    # An engine of the test's own: the app's background jobs use the app's engine at any moment.
    engine = create_db_engine(client.app.state.context.settings.database_url)  # type: ignore[attr-defined]
    counted = {}
    try:
        for limit in (10, 500):
            with Session(engine) as session, statements(engine) as seen:
                page = list_readings(session, NOW, ReviewQuery(limit=limit))
            counted[limit] = (len(page.items), page.total, len(seen))
    finally:
        engine.dispose()
    assert counted[10][:2] == (10, QUEUE)
    assert counted[500][:2] == (500, QUEUE)
    assert counted[10][2] == counted[500][2]


def test_pages_cover_every_reading_once_in_each_order(client: TestClient, pending: Engine) -> None:
    with Session(pending) as session:
        waiting = set(
            str(uuid) for uuid in session.exec(select(Reading.uuid).where(Reading.status == ReadingStatus.SUBMITTED))
        )
    for sort in ("oldest", "newest", "unit", "flagged"):
        items = _every(client, sort=sort)
        assert [item["uuid"] for item in items if item["uuid"] in waiting] == [item["uuid"] for item in items]
        assert {item["uuid"] for item in items} == waiting
        assert len(items) == len(waiting)
        if sort == "oldest":
            assert [item["captured_at"] for item in items] == sorted(item["captured_at"] for item in items)
        if sort == "newest":
            assert [item["captured_at"] for item in items] == sorted((i["captured_at"] for i in items), reverse=True)
        if sort == "flagged":
            counts = [len(item["flags"]) for item in items]
            assert counts == sorted(counts, reverse=True)
            assert counts[0] == len(FLAGS)
        if sort == "unit":
            blocks = [item["block_code"] for item in items]
            assert blocks == sorted(blocks)


def test_filters_select_what_they_say_and_the_facets_count_them(client: TestClient, pending: Engine) -> None:
    facets = client.get("/api/review/facets", headers=auth(client, "supervisor")).json()
    assert facets["total"] == SMALLER_QUEUE
    assert sum(engineer["count"] for engineer in facets["engineers"]) == SMALLER_QUEUE
    assert sum(block["count"] for block in facets["blocks"]) == SMALLER_QUEUE
    with Session(pending) as session:
        names = dict(session.exec(select(User.id, User.full_name)).all())
    for engineer in facets["engineers"]:
        items = _every(client, engineer_id=engineer["id"])
        assert len(items) == engineer["count"] > 0
        assert {item["engineer_id"] for item in items} == {engineer["id"]}
        assert {item["engineer_name"] for item in items} == {names[engineer["id"]]} == {engineer["label"]}
    for block in facets["blocks"]:
        page = _page(client, block_id=block["id"], limit=5)
        assert page["total"] == block["count"]
        assert {item["block_code"] for item in page["items"]} == {block["code"]}
    for flag in facets["flags"]:
        items = _every(client, flag=flag["code"])
        assert len(items) == flag["count"] > 0
        assert all(flag["code"] in item["flags"] for item in items)
    # Received at NOW - 5 × (index + 1) + 1 minutes: more than 2 days ago from index 576 on.
    assert _page(client, older_than_days=2, limit=1)["total"] == SMALLER_QUEUE - 576
    meter = _page(client, limit=1)["items"][0]["meter_number"]
    assert {item["meter_number"] for item in _every(client, q=meter)} == {meter}


def test_each_item_carries_its_engineer_history_window_and_the_periods_other_reads(
    client: TestClient, pending: Engine
) -> None:
    items = _every(client)
    with_window = [item for item in items if item["window"] is not None]
    assert with_window, "the demo history gives some meters a window"
    with Session(pending) as session:
        for item in with_window[:20]:
            meter = session.get(Meter, item["meter_id"])
            assert meter is not None
            register = MeterRegister(dials=meter.dials, decimals=meter.decimals)
            history = [
                (datetime.fromisoformat(read["captured_at"]), Decimal(read["value"])) for read in item["history"]
            ]
            usage = usage_from_history(history, register=register)
            assert usage is not None
            capture = datetime.fromisoformat(item["captured_at"])
            window = expected_window(usage, capture, register=register)
            assert item["window"] == {
                "low": f"{window.low:f}",
                "high": f"{window.high:f}",
                "expected": f"{window.expected:f}",
            }
            assert item["history"][0]["value"] == item["previous_value"]
    with Session(pending) as session:
        in_period = Counter(session.exec(select(Reading.meter_id).where(Reading.period == PERIOD)).all())
    for item in items:
        others = item["same_period"]
        assert len(others) == min(SAME_PERIOD_SHOWN, in_period[item["meter_id"]] - 1)
        assert item["uuid"] not in {other["uuid"] for other in others}
        assert [other["captured_at"] for other in others] == sorted(other["captured_at"] for other in others)


def _approved(engine: Engine) -> tuple[int, int, int]:
    """Approved readings, their audit events and the engineers' decision events."""
    with Session(engine) as session:
        approved = session.exec(select(func.count()).where(Reading.status == ReadingStatus.APPROVED)).one()
        audited = session.exec(select(func.count()).where(AuditEvent.action == "reading.approved")).one()
        told = session.exec(select(func.count()).where(SyncEvent.kind == SyncEventKind.DECISION)).one()
    return approved, audited, told


def test_bulk_approval_takes_exactly_the_clean_readings_it_was_shown(client: TestClient, pending: Engine) -> None:
    supervisor = auth(client, "supervisor")
    everything = _every(client)
    assert _page(client, limit=1)["clean"] == sum(item["clean"] for item in everything) > 0
    engineer = next(item["engineer_id"] for item in everything if item["clean"])
    page = _page(client, engineer_id=engineer, limit=500)
    clean = [item["uuid"] for item in _every(client, engineer_id=engineer) if item["clean"]]
    assert page["clean"] == len(clean) > 0
    before = _approved(pending)

    stale = client.post(
        "/api/review/readings/approve-clean",
        json={"filter": {"engineer_id": engineer}, "expected": len(clean) + 1},
        headers=supervisor,
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "review.bulk_changed"
    assert _approved(pending) == before

    unknown = client.post(
        "/api/review/readings/approve-clean",
        json={"filter": {"engineer": engineer}, "expected": len(clean)},
        headers=supervisor,
    )
    assert unknown.status_code == 422  # a misspelt filter must never widen what is approved
    engineer_tries = client.post(
        "/api/review/readings/approve-clean",
        json={"filter": {"engineer_id": engineer}, "expected": len(clean)},
        headers=auth(client, "engineer1"),
    )
    assert engineer_tries.status_code == 403

    done = client.post(
        "/api/review/readings/approve-clean",
        json={"filter": {"engineer_id": engineer}, "expected": len(clean)},
        headers=supervisor,
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"approved": len(clean)}
    approved, audited, told = _approved(pending)
    assert (approved - before[0], audited - before[1], told - before[2]) == (len(clean), len(clean), len(clean))
    with Session(pending) as session:
        statuses = dict(
            session.exec(select(Reading.uuid, Reading.status).where(col(Reading.engineer_id) == engineer)).all()
        )
    assert {str(uuid) for uuid, status in statuses.items() if status == ReadingStatus.APPROVED} >= set(clean)
    after = _page(client, engineer_id=engineer, limit=10)
    assert after["clean"] == 0
    assert after["total"] == page["total"] - len(clean)
    assert all(not item["clean"] for item in _every(client, engineer_id=engineer))
