"""Engine, sessions and schema migrations (Alembic, also in tests: the schema has one source)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event, text
from sqlmodel import Session, create_engine

__all__ = ["alembic_config", "create_db_engine", "migrate", "session_scope"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL + FULL: an acknowledged push survives kill -9; busy_timeout lets concurrent writers queue.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No server-side prepared statements: their generic plans for "= ANY(:ids)" batch lookups turn to
    # sequential scans after a few executions (measured in bench/sync_ingest.py).
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args={"prepare_threshold": None}, **kwargs
    )


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


# Key of the transaction-scoped advisory lock that serializes migrations on PostgreSQL (any fixed number).
MIGRATION_LOCK_KEY = 7422


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (no-op when it is current).

    On PostgreSQL the upgrade runs under an advisory lock held by its own transaction: processes starting
    together on one database (servers, ``fieldmeter migrate``) queue, the first migrates, and the others then
    find the schema current. Without it two of them would both create ``alembic_version`` and the tables, and
    one would crash. SQLite's write lock already serializes the whole upgrade transaction.
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def ping(engine: Engine) -> bool:
    with engine.connect() as connection:
        return connection.execute(text("SELECT 1")).scalar() == 1
