"""Migration 0004 on a database that already has runs left 'running' (two for one block and period, as the
unguarded starts could leave them): they become failed, so the one-running-run index can be built."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from sync_server.db import create_db_engine, migrate
from sync_server.demo import seed_demo
from tests.sync_server.factories import NOW

INSERT_RUN = text(
    "INSERT INTO bill_run (block_id, period, status, total_units, processed, created, skipped, started_at, "
    "started_by_id) VALUES (:block, '2025-11', 'running', 0, 0, 0, '[]', :at, :user)"
)


def test_upgrade_fails_runs_left_running_then_allows_one_running_run(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        assert seed_demo(engine, now=NOW, tz=ZoneInfo("Asia/Kolkata"))
        migrate(engine, "0003")
        with engine.begin() as connection:
            block = connection.execute(text("SELECT min(id) FROM block")).scalar_one()
            user = connection.execute(text('SELECT min(id) FROM "user"')).scalar_one()
            for _ in range(2):
                connection.execute(INSERT_RUN, {"block": block, "at": NOW.replace(tzinfo=None), "user": user})
        migrate(engine)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT status, error_code FROM bill_run")).all()
        assert [tuple(row) for row in rows] == [("failed", "billing.run_interrupted")] * 2
        with engine.begin() as connection:
            connection.execute(INSERT_RUN, {"block": block, "at": NOW.replace(tzinfo=None), "user": user})
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(INSERT_RUN, {"block": block, "at": NOW.replace(tzinfo=None), "user": user})
    finally:
        engine.dispose()
