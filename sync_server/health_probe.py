"""What ``/api/health`` checks, and how it answers within a bound whatever the database or the disk does.

Checks: the database answers and no table is held by another's exclusive lock (``database``), its schema is at
the head of sync_server/migrations (``schema``), and the data dir takes a new file (``data_dir``). Each value is
``"ok"`` or a short reason.

The checks run in threads of their own, never the request thread pool (stuck requests may fill it, which is when
health matters most). Concurrent health calls share the run in flight, so a stuck check holds one thread, not one
per call; a call waits for it at most its timeout and reports what is still pending as ``"timeout"``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine
from sqlmodel import SQLModel

from sync_server.db import alembic_config
from sync_server.db_errors import unavailable_reason

__all__ = ["PENDING", "HealthProbe", "check_data_dirs", "check_database", "expected_revision"]

PENDING = "pending"
TIMEOUT = "timeout"
Checks = dict[str, str]


def expected_revision(engine: Engine) -> str | None:
    """The head revision of the migrations this server ships (what its database must be at)."""
    return ScriptDirectory.from_config(alembic_config(engine.url.render_as_string())).get_current_head()


def _no_exclusive_lock(connection: Connection, bound_ms: int) -> None:
    """Raise (locked) when another connection holds a table of ours in a mode that stops readers or writers."""
    if connection.dialect.name == "postgresql":
        # ACCESS SHARE conflicts only with ACCESS EXCLUSIVE (LOCK TABLE, most ALTERs): it stops nobody.
        tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
        # Half the statement bound: the lock wait must end as "locked" (55P03) before the statement is cancelled.
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, bound_ms // 2)}")
        connection.exec_driver_sql(f"LOCK TABLE {tables} IN ACCESS SHARE MODE")
    else:
        # WAL: readers never wait, writers do; take the write lock for an instant to see whether one is free.
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {bound_ms}")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            connection.exec_driver_sql("ROLLBACK")
        finally:
            connection.invalidate()  # its busy_timeout was changed: never back into the pool


def check_database(engine: Engine, head: str | None, checks: Checks, bound_s: float) -> None:
    """Fill ``checks["database"]`` and ``checks["schema"]``; every wait inside is bounded by ``bound_s``."""
    bound_ms = max(1, int(bound_s * 1000))
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SET LOCAL statement_timeout = {bound_ms}")
            revision = MigrationContext.configure(connection).get_current_revision()
            if revision is None:
                schema = "missing"
            elif revision != head:
                schema = f"at {revision}, expected {head}"
            else:
                schema = "ok"
            if schema == "ok":
                _no_exclusive_lock(connection, bound_ms)
            checks["database"] = "ok"
            checks["schema"] = schema
    except Exception as error:  # a probe reports, never raises
        checks["database"] = unavailable_reason(error) or "error"
        checks["schema"] = "unchecked"


def check_data_dirs(directories: list[Path], checks: Checks) -> None:
    """``checks["data_dir"]``: a new file can be created, written and removed in each directory that exists."""
    try:
        for directory in directories:
            if directory.exists() or directory == directories[0]:
                probe = directory / f".health-{secrets.token_hex(4)}"
                fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                try:
                    os.write(fd, b"ok")
                finally:
                    os.close(fd)
                    probe.unlink(missing_ok=True)
        checks["data_dir"] = "ok"
    except OSError as error:
        checks["data_dir"] = f"not writable ({error.strerror or type(error).__name__})"


def _in_thread(target: Callable[[], None], name: str) -> Future[None]:
    future: Future[None] = Future()

    def run() -> None:
        try:
            target()
        finally:
            future.set_result(None)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


class HealthProbe:
    """Runs the checks (one run at a time, shared by concurrent callers) and answers within a bound."""

    def __init__(self, engine: Engine, directories: list[Path], bound_s: float) -> None:
        self._engine = engine
        self._directories = directories
        self._bound_s = bound_s  # each database wait inside the run
        self._head: str | None = None
        self._lock = threading.Lock()
        self._run: tuple[Checks, list[Future[None]]] | None = None

    def _start(self) -> tuple[Checks, list[Future[None]]]:
        with self._lock:
            if self._run is not None and not all(future.done() for future in self._run[1]):
                return self._run  # one in flight (possibly stuck): share it rather than start another thread
            if self._head is None:
                self._head = expected_revision(self._engine)
            checks: Checks = {"database": PENDING, "schema": PENDING, "data_dir": PENDING}
            head = self._head
            futures = [
                _in_thread(lambda: check_database(self._engine, head, checks, self._bound_s), "health-database"),
                _in_thread(lambda: check_data_dirs(self._directories, checks), "health-data-dir"),
            ]
            self._run = (checks, futures)
            return self._run

    async def checks(self, timeout_s: float) -> Checks:
        """The checks' results after at most ``timeout_s``; one still running reads ``"timeout"``."""
        checks, futures = self._start()
        waiting = [asyncio.wrap_future(future) for future in futures]
        await asyncio.wait(waiting, timeout=timeout_s)
        result = dict(checks)
        if result["database"] == PENDING:
            result["schema"] = "unchecked"  # it is read through the database that did not answer
        return {name: TIMEOUT if value == PENDING else value for name, value in result.items()}
