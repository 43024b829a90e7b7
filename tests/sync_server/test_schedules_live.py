"""Two real server processes on one PostgreSQL database cross a month boundary in India together: the month's
draft bill runs happen once (one run per block), not once per process."""

from __future__ import annotations

import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from sync_server.db import create_db_engine
from tests.support.live_server import LiveServer, start_live_server
from tests.support.postgres import fresh_postgres_database, require_postgres_admin_url

BOUNDARY = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)  # 1 December 2026, 00:30 in India
# Both servers start (demo seeding, migrations) before their clocks reach the boundary.
LEAD = timedelta(seconds=45)
ENV = {
    "FIELDMETER_SCHEDULE_CHECK_SECONDS": "1",
    "FIELDMETER_SECRET_KEY": "s" * 48,  # one secret: the audit chain is keyed by it, whichever process seals
}
FIRE_WAIT_S = 180.0  # a liveness bound: the boundary is LEAD away, then a check a second


def _jobs(server: LiveServer, token: str) -> dict[str, dict[str, Any]]:
    with server.client(token) as http:
        answer = http.get("/api/schedules")
        assert answer.status_code == 200, answer.text
        return {job["name"]: job for job in answer.json()}


def test_two_processes_run_the_months_bill_runs_once(tmp_path: Path) -> None:
    now = (BOUNDARY - LEAD).isoformat()
    with ExitStack() as stack:
        database_url = stack.enter_context(fresh_postgres_database(require_postgres_admin_url()))
        servers = [
            start_live_server(stack, tmp_path / name, "postgresql", env=ENV, now=now, database_url=database_url)
            for name in ("first", "second")
        ]
        tokens = [server.login("admin") for server in servers]
        before = _jobs(servers[1], tokens[1])["monthly-bill-runs"]
        assert before["next_run_at"] == "2026-11-30T19:00:00Z"
        assert before["last_status"] is None, "both servers must be up before the boundary (raise LEAD)"

        deadline = time.monotonic() + FIRE_WAIT_S
        job = before
        while job["last_status"] is None and time.monotonic() < deadline:
            time.sleep(1)
            job = _jobs(servers[0], tokens[0])["monthly-bill-runs"]
        assert job["last_status"] == "ok", job
        time.sleep(3)  # a few more checks by both: a second run would show now
        assert all(server.process.returncode is None for server in servers)

        engine = create_db_engine(database_url)
        try:
            with engine.connect() as connection:
                runs = connection.execute(
                    text("SELECT block.code, bill_run.period FROM bill_run JOIN block ON block.id = bill_run.block_id")
                ).all()
                fired = connection.execute(
                    text("SELECT count(*) FROM audit_event WHERE action = 'schedule.ran' AND entity_id = :name"),
                    {"name": "monthly-bill-runs"},
                ).scalar_one()
        finally:
            engine.dispose()
        assert sorted(runs) == [("B", "2026-11"), ("C", "2026-11"), ("S", "2026-11"), ("V", "2026-11")]
        assert fired == 1
        assert _jobs(servers[1], tokens[1])["monthly-bill-runs"]["next_run_at"] == "2026-12-31T19:00:00Z"
