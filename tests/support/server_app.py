"""Server fixtures (a pytest plugin loaded by tests/conftest.py): ``app`` and ``client`` run on SQLite and PostgreSQL.

Schemas come from the Alembic migrations, once per run: SQLite tests copy a migrated template file; PostgreSQL
tests share one fresh database (created and dropped by this run) and truncate it before each test.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import SQLModel

from sync_server.background import unfinished
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db import create_db_engine, migrate
from sync_server.demo import seed_demo
from sync_server.main import create_app
from tests.support.postgres import fresh_postgres_database, require_postgres_admin_url
from tests.sync_server.factories import NOW


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "fieldmeter.db"
    engine = create_db_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    admin_url = require_postgres_admin_url()
    with fresh_postgres_database(admin_url) as url:
        engine = create_db_engine(url)
        migrate(engine)
        engine.dispose()
        yield url


def _truncate_all(url: str) -> None:
    engine = create_db_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        target = tmp_path / "fieldmeter.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_database")
    _truncate_all(url)
    return url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, secret_key="t" * 40, mount_web_app=False)


@pytest.fixture
def app(settings: Settings, clock: FixedClock) -> Iterator[FastAPI]:
    application = create_app(settings, clock=clock, run_migrations=False)
    yield application
    # A bill run or an import still on its thread would hold locks that the next test's TRUNCATE deadlocks on
    # (PostgreSQL, one database per test process): it finishes first.
    for thread in unfinished():
        thread.join(timeout=60)
    application.state.context.engine.dispose()


@pytest.fixture
def demo_app(app: FastAPI, clock: FixedClock, settings: Settings) -> FastAPI:
    assert seed_demo(app.state.context.engine, now=clock(), tz=settings.tz)
    return app


@pytest.fixture
def client(demo_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(demo_app) as test_client:
        yield test_client
