from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import sync_server.models  # noqa: F401 - registers the tables
from sync_server.db import create_db_engine, migrate


def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, SQLModel.metadata)
        assert diff == [], "run: alembic revision --autogenerate (see sync_server/db.py)"
    finally:
        engine.dispose()


def test_migrate_is_idempotent(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        migrate(engine)
        tables = set(inspect(engine).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        assert "alembic_version" in tables
    finally:
        engine.dispose()
