"""Fixtures for the headless UI sessions: a seeded in-process server on SQLite, and the phone's FieldService.

SQLite only (the parametrized ``client``/``app`` fixtures would double every run on PostgreSQL for nothing the UI
shows). The demo is seeded once per run into a template file, which each test copies.

The server clock is pinned (``UI_NOW``), never the real date: the phone is handed the same clock, and the console
asks the server for the society's month. Mid-month in India and in UTC alike, so no zone puts it in another month;
tests of the night the zones disagree pass their own instant (tests/ui/test_console_time_zones.py).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from mobile_app.field_service import FieldService
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db import create_db_engine
from sync_server.demo import seed_demo
from sync_server.main import create_app
from tests.ui.ui_fixtures import PASSWORD, Server

SECRET = "u" * 40
UI_NOW = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Kolkata")).astimezone(UTC)


def _settings(data_dir: Path, database: Path) -> Settings:
    return Settings(data_dir=data_dir, database_url=f"sqlite:///{database}", secret_key=SECRET, mount_web_app=False)


@pytest.fixture(scope="session")
def ui_now() -> datetime:
    return UI_NOW


@pytest.fixture(scope="session")
def seeded_template(sqlite_template: Path, ui_now: datetime, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ui-template")
    path = folder / "seeded.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_db_engine(f"sqlite:///{path}")
    assert seed_demo(engine, now=ui_now, tz=_settings(folder / "data", path).tz)
    engine.dispose()
    return path


@pytest.fixture
def server(seeded_template: Path, ui_now: datetime, tmp_path: Path) -> Iterator[Server]:
    database = tmp_path / "server.db"
    shutil.copyfile(seeded_template, database)
    clock = FixedClock(ui_now)
    app = create_app(_settings(tmp_path / "server", database), clock=clock, run_migrations=False)
    http = TestClient(app)
    yield Server(app=app, clock=clock, http=http)
    http.close()
    app.state.context.engine.dispose()


@pytest.fixture
def service(server: Server, tmp_path: Path) -> Iterator[FieldService]:
    """The phone: its own data folder, the server reached in-process; never started (tests call sync_once)."""
    phone = FieldService(data_dir=tmp_path / "phone", server_url="", http=server.http, clock=server.clock)
    yield phone
    phone.store.close()


@pytest.fixture
def engineer_service(service: FieldService) -> FieldService:
    """The phone after engineer1 signed in once online and pulled the route (the app opens on the route)."""
    service.sign_in("engineer1", PASSWORD)
    report = service.sync_once()
    assert report.error is None
    assert report.pulled == 17
    return service
