"""Migration 0006 on PostgreSQL: events written before it keep their id as cursor key, so a cursor a phone got
from the older server (an event id) still brings exactly what it has not seen, and then every newer event."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from sync_server.db import create_db_engine, migrate
from sync_server.demo import seed_demo
from sync_server.events import PG_CURSOR_BASE, record_meter_event
from sync_server.models import SyncEvent, SyncEventKind, User
from sync_server.pull import pull_for
from tests.sync_server.factories import NOW


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_cursor_from_before_the_upgrade_still_brings_what_it_has_not_seen(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        assert seed_demo(engine, now=NOW, tz=ZoneInfo("Asia/Kolkata"))
        migrate(engine, "0005")
        with engine.connect() as connection:
            engineer = connection.execute(text("SELECT id FROM \"user\" WHERE username = 'engineer1'")).scalar_one()
            # The phone's cursor (an id) saw all of engineer1's events but the last two.
            old = connection.execute(
                text("SELECT id, meter_id FROM sync_event WHERE engineer_id = :e ORDER BY id"), {"e": engineer}
            ).all()
        legacy_cursor = old[-3][0]
        unseen_before = {meter_id for _, meter_id in old[-2:]}
        migrate(engine)

        with Session(engine) as session:
            keys = session.exec(select(SyncEvent.id, SyncEvent.cursor_key)).all()
            assert keys
            assert all(key == event_id for event_id, key in keys)  # backfilled: key = id
            new_meter = old[0][1]
            record_meter_event(session, meter_id=new_meter, kind=SyncEventKind.PREVIOUS, now=NOW)
            session.commit()
            new_key = session.exec(select(SyncEvent.cursor_key).order_by(col(SyncEvent.id).desc())).first()
            assert new_key is not None
            assert new_key > PG_CURSOR_BASE

            user = session.get(User, engineer)
            assert user is not None
            pulled = pull_for(session, user, legacy_cursor, NOW, tz=ZoneInfo("Asia/Kolkata"))
        assert {m.meter_id for m in pulled.meters} == unseen_before | {new_meter}
        assert pulled.cursor >= new_key
    finally:
        engine.dispose()
