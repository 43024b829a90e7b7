"""``GET /api/clock``: the server's now, and the society's date, month and zone computed from the server's clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from shutil import copyfile
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.demo import seed_demo
from sync_server.main import create_app
from tests.sync_server.factories import auth


@pytest.mark.parametrize(
    ("instant", "today", "period"),
    [
        # 01:30 on 1 December in India while UTC is still in November.
        (datetime(2026, 11, 30, 20, 0, tzinfo=UTC), "2026-12-01", "2026-12"),
        # 21:30 on 30 November in India (and 01:00 on 1 December in Tokyo: the process's zone plays no part).
        (datetime(2026, 11, 30, 16, 0, tzinfo=UTC), "2026-11-30", "2026-11"),
    ],
)
def test_clock_answers_in_the_society_zone(
    client: TestClient, clock: FixedClock, instant: datetime, today: str, period: str
) -> None:
    clock.now = instant  # before signing in: the token's life is judged by the same clock
    headers = auth(client, "accountant")
    answer = client.get("/api/clock", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body == {"now": body["now"], "today": today, "period": period, "timezone": "Asia/Kolkata"}
    assert datetime.fromisoformat(body["now"]) == instant
    assert datetime.fromisoformat(body["now"]).utcoffset() is not None


def test_clock_needs_a_signed_in_user(client: TestClient) -> None:
    answer = client.get("/api/clock")
    assert answer.status_code == 401
    assert answer.json()["code"] == "auth.invalid_token"


def _clock_of_server(tmp_path: Path, sqlite_template: Path, instant: datetime, zone: str) -> dict[str, Any]:
    database = tmp_path / "db.sqlite"
    copyfile(sqlite_template, database)
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{database}",
        secret_key="c" * 40,
        mount_web_app=False,
        society_timezone=zone,
    )
    app = create_app(settings, clock=FixedClock(instant), run_migrations=False)
    assert seed_demo(app.state.context.engine, now=instant, tz=settings.tz)
    try:
        with TestClient(app) as http:
            answer = http.get("/api/clock", headers=auth(http, "admin"))
    finally:
        app.state.context.engine.dispose()
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_clock_follows_the_configured_zone(tmp_path: Path, sqlite_template: Path) -> None:
    """Another society's zone: New York is still on 30 November at 01:00 UTC on 1 December."""
    body = _clock_of_server(tmp_path, sqlite_template, datetime(2026, 12, 1, 1, 0, tzinfo=UTC), "America/New_York")
    assert (body["today"], body["period"], body["timezone"]) == ("2026-11-30", "2026-11", "America/New_York")


def test_a_server_clock_pinned_ahead_of_the_real_one_accepts_its_own_tokens(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """A token's issue time is the server clock's: a demo pinned to a later month must not refuse it as "not yet
    valid" by the machine's real clock."""
    body = _clock_of_server(tmp_path, sqlite_template, datetime(2125, 6, 15, 12, 0, tzinfo=UTC), "Asia/Kolkata")
    assert (body["today"], body["period"]) == ("2125-06-15", "2125-06")
