"""Opening the phone's SQLite file: durable settings on every connection, and one way to run a transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine

from mobile_app.store.migrations import BUSY_TIMEOUT_S, migrate

__all__ = ["Store", "open_store"]


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

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """The pooled connection's own sqlite3 connection inside one ``BEGIN IMMEDIATE`` transaction, committed on
        success and rolled back on any exception, for the hot writes (a save at the meter): an ORM session, or even
        a Core connection's execution contexts and events, cost more than the inserts themselves
        (bench/local_save.py). Statements run on it must be plain SQL with driver parameters."""
        pooled = self.engine.raw_connection()
        try:
            db = cast(sqlite3.Connection, pooled.driver_connection)
            db.execute("BEGIN IMMEDIATE")  # as _on_begin: the write lock up front
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite ends it itself on some errors (a full disk)
                    db.execute("ROLLBACK")
                raise
        finally:
            pooled.close()

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
    """Open (creating if needed) the phone's store at ``path``, first applying any pending schema migration.

    Raises ``SchemaTooNewError`` (a newer app wrote the file) and the other refusals of ``migrations.migrate``,
    leaving the file untouched.
    """
    db_path = Path(path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    migrate(db_path)
    engine = create_engine(
        f"sqlite:///{db_path}",
        # The sync thread and the UI thread share the pool; the busy timeout (s) waits out the other's commit.
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S},
    )
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return Store(engine=engine, path=db_path)
