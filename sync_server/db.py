"""Engine, sessions and schema migrations (Alembic, also in tests: the schema has one source)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

from sync_server.config import Settings
from sync_server.db_guard import (
    DatabaseLimits,
    allow_long_statements,
    install_postgres_guards,
    install_sqlite_guards,
)

__all__ = ["alembic_config", "create_db_engine", "engine_for", "migrate", "refresh_statistics", "session_scope"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _sqlite_pragmas(busy_timeout_s: float) -> Any:
    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL + FULL: an acknowledged push survives kill -9; busy_timeout lets concurrent writers queue, for a
        # few seconds only: a writer holding the lock longer answers "database is locked" (503), not a hang.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.close()

    return pragmas


def _postgres_connect_args(url: str, limits: DatabaseLimits) -> dict[str, Any]:
    # statement_timeout from the first statement on (lock waits included); options already in the URL are kept.
    timeout = f"-c statement_timeout={int(limits.statement_timeout_s * 1000)}"
    given = make_url(url).query.get("options")
    options = f"{given} {timeout}" if isinstance(given, str) and given else timeout
    # No server-side prepared statements: their generic plans for "= ANY(:ids)" batch lookups turn to
    # sequential scans after a few executions (measured in bench/sync_ingest.py).
    return {"prepare_threshold": None, "connect_timeout": max(2, limits.connect_timeout_s), "options": options}


def create_db_engine(url: str, limits: DatabaseLimits | None = None, **kwargs: Any) -> Engine:
    """An engine whose every wait is bounded by ``limits`` (sync_server/db_guard.py)."""
    limits = limits or DatabaseLimits()
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, pool_timeout=limits.pool_timeout_s, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas(limits.busy_timeout_s))
        install_sqlite_guards(engine, limits)
        return engine
    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_timeout=limits.pool_timeout_s,
        connect_args=_postgres_connect_args(url, limits),
        **kwargs,
    )
    install_postgres_guards(engine, limits)  # also the bounded checkout ping, in place of pool_pre_ping
    return engine


def engine_for(settings: Settings) -> Engine:
    """The engine of a configured server or command, with the configured bounds on every database wait."""
    return create_db_engine(settings.sqlalchemy_url, DatabaseLimits.from_settings(settings))


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


# Key of the transaction-scoped advisory lock that serializes migrations on PostgreSQL (any fixed number).
MIGRATION_LOCK_KEY = 7422


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to the newest migration (no-op when it is current), or up or down to ``revision``.

    On PostgreSQL the change runs under an advisory lock held by its own transaction: processes starting
    together on one database (servers, ``fieldmeter migrate``) queue, the first migrates, and the others then
    find the schema current. Without it two of them would both create ``alembic_version`` and the tables, and
    one would crash. SQLite's write lock already serializes the whole upgrade transaction.
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a SQLite table (new table, copy, DROP the old one, rename): with foreign keys
            # enforced, dropping a table that other rows point at fails. SQLite ignores this pragma inside a
            # transaction, so it is switched off before it, and the keys are checked before the commit instead.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                # A migration may rewrite big tables, and waits for another process's migration: no statement limit.
                allow_long_statements(connection, None)
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                config.attributes["connection"] = connection
                current = MigrationContext.configure(connection).get_current_revision()
                if revision == "head" or _is_ahead(config, revision, current):
                    command.upgrade(config, revision)
                else:
                    command.downgrade(config, revision)
                if sqlite and (dangling := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                    raise RuntimeError(f"the migration left rows pointing at nothing: {dangling[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def _is_ahead(config: Config, revision: str, current: str | None) -> bool:
    """Whether ``revision`` comes after ``current`` in the migrations (an upgrade), or is ``current``."""
    if current is None:
        return True
    scripts = ScriptDirectory.from_config(config)
    return revision == current or any(rev.revision == current for rev in scripts.iterate_revisions(revision, "base"))


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def refresh_statistics(engine: Engine) -> None:
    """After a bulk load (an import): let PostgreSQL plan from the tables' new sizes at once, not when autovacuum
    next analyzes them. Without statistics it takes a just-imported block of 10,000 flats for a handful of rows and
    joins units to meters by a nested loop: a bill run's first query then takes seconds, not milliseconds
    (bench/bill_run.py). SQLite plans from its indexes alone: nothing to do."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        allow_long_statements(connection, None)  # samples every table: a big database takes a while
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
