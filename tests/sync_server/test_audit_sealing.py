"""Sealing order on PostgreSQL (transactions still in flight) and re-sealing the events of an upgraded database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, insert
from sqlmodel import Session, col, select

from sync_server.audit import chain_key, seal_pending, verify_chain
from sync_server.db import alembic_config, create_db_engine, migrate
from sync_server.models import AuditEvent
from sync_server.sql import table_of
from tests.support.postgres import fresh_postgres_database, require_postgres_admin_url
from tests.support.server_app import _truncate_all

KEY = chain_key("s" * 40)
AT = datetime(2025, 11, 20, 4, 30, tzinfo=UTC)


def _event(entity_id: str) -> dict[str, object]:
    return {"at": AT, "action": "t.event", "entity": "t", "entity_id": entity_id, "reason": None, "detail": {}}


def _sealed_order(engine: Engine) -> list[str | None]:
    with Session(engine) as session:
        query = select(AuditEvent).where(col(AuditEvent.seq).is_not(None)).order_by(col(AuditEvent.seq))
        return [event.entity_id for event in session.exec(query).all()]


@pytest.fixture
def pg_engine(postgres_database: str) -> Iterator[Engine]:
    _truncate_all(postgres_database)
    engine = create_db_engine(postgres_database)
    yield engine
    engine.dispose()


def test_postgresql_seals_nothing_a_transaction_in_flight_could_still_precede(pg_engine: Engine) -> None:
    events = table_of(AuditEvent)
    with pg_engine.connect() as slow:
        in_flight = slow.begin()
        slow.execute(insert(events).values(**_event("slow")))  # takes the lower id, commits last
        with pg_engine.begin() as fast:
            fast.execute(insert(events).values(**_event("fast")))
        assert seal_pending(pg_engine, KEY) == 0  # "fast" waits: "slow" may still commit before it
        waiting = verify_chain(pg_engine, KEY)
        assert (waiting.intact, waiting.sealed, waiting.unsealed) == (True, 0, 1)
        in_flight.commit()
    assert seal_pending(pg_engine, KEY) == 2
    assert _sealed_order(pg_engine) == ["slow", "fast"]  # commit-safe order, here also id order

    with pg_engine.connect() as slow:
        in_flight = slow.begin()
        slow.execute(insert(events).values(**_event("rolled back")))
        with pg_engine.begin() as fast:
            fast.execute(insert(events).values(**_event("after")))
        assert seal_pending(pg_engine, KEY) == 0
        in_flight.rollback()
    assert seal_pending(pg_engine, KEY) == 1  # a transaction that never commits holds nothing back for long
    assert _sealed_order(pg_engine) == ["slow", "fast", "after"]
    check = verify_chain(pg_engine, KEY)
    assert (check.intact, check.sealed, check.unsealed) == (True, 3, 0)


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'upgraded.db'}"
    else:
        with fresh_postgres_database(require_postgres_admin_url()) as url:
            yield url


def test_events_of_an_upgraded_database_are_resealed_under_the_key(blank_url: str) -> None:
    engine = create_db_engine(blank_url)
    try:
        config = alembic_config(blank_url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0002")
            # Events chained the old way (their unkeyed digest columns take 0002's defaults).
            connection.execute(insert(table_of(AuditEvent)), [_event(f"old {n}") for n in range(3)])
        migrate(engine)
        assert verify_chain(engine, KEY).unsealed == 3
        assert seal_pending(engine, KEY) == 3
        assert _sealed_order(engine) == ["old 0", "old 1", "old 2"]
        check = verify_chain(engine, KEY)
        assert (check.intact, check.sealed, check.unsealed, check.head_seq) == (True, 3, 0, 3)
    finally:
        engine.dispose()
