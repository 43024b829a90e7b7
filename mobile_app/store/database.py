"""Opening the phone's SQLite file: durable settings on every connection, and one way to run a transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Engine, event
from sqlalchemy.schema import CreateColumn
from sqlmodel import Session, create_engine

from mobile_app.store.tables import LocalBase

__all__ = ["DuplicateReadingError", "PhotoMismatchError", "Store", "StoreError", "open_store"]


class StoreError(Exception):
    """Base of the local store's refusals."""


class DuplicateReadingError(StoreError):
    """A reading with this uuid is already saved; the saved one is left exactly as it was."""

    def __init__(self, uuid: str) -> None:
        self.uuid = uuid
        super().__init__(f"reading {uuid} is already saved on this phone; a correction is a new reading")


class PhotoMismatchError(StoreError):
    """The photo file and the reading's ``photo_sha256`` do not agree."""


@dataclass(frozen=True)
class Store:
    """The open local store. Share one per process; it is safe to use from the UI and the sync thread."""

    engine: Engine
    path: Path

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one SQLite transaction: committed on success, rolled back on any exception."""
        # expire_on_commit=False: rows read inside may still be inspected after the commit.
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def close(self) -> None:
        """Close pooled connections (tests and app shutdown)."""
        self.engine.dispose()


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module (which would open transactions lazily before the
    # first write, leaving earlier reads outside) so the "begin" listener decides exactly when they start.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets the UI read while the sync thread writes; FULL fsyncs each commit, so a reading the phone
        # showed as saved survives power loss and kill -9.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _on_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front: a read-then-write transaction can never fail half way with
    # SQLITE_BUSY because the other thread wrote in between; waiting is bounded by the busy timeout.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def open_store(*, path: Path | str) -> Store:
    """Open (creating if needed) the phone's store at ``path`` and create any missing tables."""
    db_path = Path(path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        f"sqlite:///{db_path}",
        # The sync thread and the UI thread share the pool; the busy timeout (s) waits out the other's commit.
        connect_args={"check_same_thread": False, "timeout": 30},
    )
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    LocalBase.metadata.create_all(engine)
    upgrade_schema(engine)
    return Store(engine=engine, path=db_path)


def missing_columns(engine: Engine) -> list[Column[Any]]:
    """Columns of the phone's tables that the database file lacks (it was created by an older app)."""
    missing: list[Column[Any]] = []
    with engine.connect() as connection:
        for table in LocalBase.metadata.sorted_tables:
            rows = connection.exec_driver_sql(f'PRAGMA table_info("{table.name}")').all()
            present = {row[1] for row in rows}
            missing.extend(column for column in table.columns if column.name not in present)
    return missing


def upgrade_schema(engine: Engine) -> None:
    """Add the columns newer app versions need to an existing phone database, keeping every row.

    The phone has no migration tool: ``create_all`` makes missing tables but never alters an existing one, so each
    new column is added here with ``ALTER TABLE ... ADD COLUMN``. That is only safe for a column that is nullable
    or has a server default (existing rows need a value), which is checked rather than assumed.
    """
    columns = missing_columns(engine)
    if not columns:
        return
    with engine.begin() as connection:
        for column in columns:
            if not column.nullable and column.server_default is None:
                raise StoreError(f"{column.table.name}.{column.name} is NOT NULL without a server default")
            ddl = CreateColumn(column).compile(dialect=engine.dialect)
            connection.exec_driver_sql(f'ALTER TABLE "{column.table.name}" ADD COLUMN {ddl}')
