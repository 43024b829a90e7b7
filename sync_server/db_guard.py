"""Bounds on every database wait: a database that is down, locked or hung costs a request seconds, never minutes.

- PostgreSQL: libpq ``connect_timeout``; ``statement_timeout`` set at connect (the server cancels a slow statement
  or a lock wait with SQLSTATE 57014); a bounded wait for a pooled connection (``pool_timeout``).
- A server that accepts TCP and then never answers (a stopped process, hung storage) is bounded by none of these,
  and TCP keepalives or ``tcp_user_timeout`` do not help while the peer's kernel ACKs. So a watchdog thread shuts
  down the socket of any command (statement, commit, rollback, the checkout ping) still in flight past its
  client-side limit: psycopg's wait returns with a closed-connection error, SQLAlchemy invalidates the connection,
  the request answers 503 and its thread and pool slot are free again.
- SQLite: a bounded busy wait for another writer's lock (``database is locked`` after it).

Work that legitimately runs long (migrations, a background bill run) lifts the limit for its own transactions with
``allow_long_statements`` / ``allow_long_transactions`` (on SQLite: a longer busy wait).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from sync_server.config import Settings

__all__ = [
    "DatabaseLimits",
    "SocketWatchdog",
    "allow_long_statements",
    "allow_long_transactions",
    "install_postgres_guards",
    "install_sqlite_guards",
    "watchdog",
]

# Connection.info key: this transaction's statement limit in seconds (None: unbounded), set by allow_long_statements.
STATEMENT_LIMIT_KEY = "fieldmeter.statement_limit_s"
_FRESH_KEY = "fieldmeter.fresh"  # a connection just opened needs no ping at its first checkout


@dataclass(frozen=True)
class DatabaseLimits:
    connect_timeout_s: int = 5  # libpq: whole seconds, at least 2
    statement_timeout_s: float = 10.0
    ping_timeout_s: float = 2.0  # the checkout ping of a pooled connection
    pool_timeout_s: float = 5.0
    busy_timeout_s: float = 5.0  # SQLite
    # Client-side slack over statement_timeout: a live server's own cancel (a clean 57014) always comes first.
    watchdog_grace_s: float = 2.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DatabaseLimits:
        return cls(
            connect_timeout_s=settings.db_connect_timeout_s,
            statement_timeout_s=settings.db_statement_timeout_s,
            ping_timeout_s=settings.db_ping_timeout_s,
            pool_timeout_s=settings.db_pool_timeout_s,
            busy_timeout_s=settings.db_busy_timeout_s,
        )


class _Watch:
    __slots__ = ("connection", "deadline", "fd")

    def __init__(self, connection: Any, fd: int, deadline: float) -> None:
        self.connection = connection
        self.fd = fd  # our own dup of the connection's socket: shutting it down can never hit a reused descriptor
        self.deadline = deadline


class SocketWatchdog:
    """Shuts down the socket of a psycopg connection whose command is still in flight past its deadline.

    One watch per connection, replaced at each command; a watch whose deadline passes while the connection is
    idle (the command finished) is simply dropped. Commands of a live server end long before: a statement has
    ``statement_timeout`` + grace, and the server cancels it at ``statement_timeout``.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._watches: dict[int, _Watch] = {}
        self._thread: threading.Thread | None = None

    def watch(self, connection: Any, limit_s: float) -> None:
        try:
            fd = os.dup(connection.pgconn.socket)
        except Exception:  # a closed connection fails on its own: nothing to guard
            return
        with self._lock:
            old = self._watches.pop(id(connection), None)
            self._watches[id(connection)] = _Watch(connection, fd, time.monotonic() + limit_s)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
                self._thread.start()
            self._lock.notify()
        if old is not None:
            os.close(old.fd)

    def unwatch(self, connection: Any) -> None:
        with self._lock:
            old = self._watches.pop(id(connection), None)
        if old is not None:
            os.close(old.fd)

    def watched(self) -> int:
        with self._lock:
            return len(self._watches)

    def _run(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                due = [key for key, item in self._watches.items() if item.deadline <= now]
                expired = [self._watches.pop(key) for key in due]
                if not expired:
                    wait = min((item.deadline for item in self._watches.values()), default=now + 60) - now
                    self._lock.wait(timeout=max(wait, 0.01))
                    continue
            for item in expired:
                if _in_flight(item.connection):
                    _shutdown(item.fd)
                os.close(item.fd)


def _in_flight(connection: Any) -> bool:
    """A command sent and not yet answered (libpq's PQTRANS_ACTIVE)."""
    from psycopg import pq

    try:
        return bool(connection.pgconn.transaction_status == pq.TransactionStatus.ACTIVE)
    except Exception:  # a closed connection has nothing in flight
        return False


def _shutdown(fd: int) -> None:
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes the thread waiting on the socket with EOF
    except OSError:
        pass
    finally:
        sock.close()


watchdog = SocketWatchdog()  # one per process: one thread, however many engines


def _statement_limit(connection: Connection, limits: DatabaseLimits) -> float | None:
    limit = connection.info.get(STATEMENT_LIMIT_KEY, limits.statement_timeout_s)
    return None if limit is None else float(limit) + limits.watchdog_grace_s


def install_postgres_guards(engine: Engine, limits: DatabaseLimits) -> None:
    """Watch every command of ``engine``'s connections, and ping a pooled connection (bounded) before reuse."""

    def guard(connection: Connection) -> None:
        limit = _statement_limit(connection, limits)
        dbapi = connection.connection.dbapi_connection
        if limit is None:
            watchdog.unwatch(dbapi)
        else:
            watchdog.watch(dbapi, limit)

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(connection: Connection, *_args: Any) -> None:
        guard(connection)

    def end_of_transaction(connection: Connection) -> None:
        if connection.closed or connection.invalidated:  # nothing to send; checkin/invalidate clean up
            return
        guard(connection)
        connection.info.pop(STATEMENT_LIMIT_KEY, None)  # a lifted limit was for this transaction only

    event.listen(engine, "commit", end_of_transaction)
    event.listen(engine, "rollback", end_of_transaction)

    @event.listens_for(engine, "connect")
    def _connected(_dbapi: Any, record: Any) -> None:
        record.info[_FRESH_KEY] = True

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi: Any, record: Any, _proxy: Any) -> None:
        # Replaces pool_pre_ping, whose SELECT 1 no event can bound: a hung server would hold the ping forever.
        if record.info.pop(_FRESH_KEY, False):
            return
        watchdog.watch(dbapi, limits.ping_timeout_s)
        try:
            engine.dialect.do_ping(dbapi)
        except Exception as error:
            # Gone or hung: every pooled connection is suspect; the pool reconnects (bounded by connect_timeout).
            raise InvalidatePoolError(f"ping failed: {type(error).__name__}") from error
        finally:
            watchdog.unwatch(dbapi)

    @event.listens_for(engine, "reset")
    def _reset(dbapi: Any, _record: Any, _state: Any) -> None:
        watchdog.watch(dbapi, limits.ping_timeout_s + limits.watchdog_grace_s)  # the pool's ROLLBACK on return

    def done(dbapi: Any, record: Any, *_rest: Any) -> None:
        if dbapi is not None:
            watchdog.unwatch(dbapi)
        if record is not None and hasattr(record, "info"):
            record.info.pop(STATEMENT_LIMIT_KEY, None)

    for name in ("checkin", "close", "invalidate", "detach"):  # back in the pool, or gone
        event.listen(engine, name, done)


def install_sqlite_guards(engine: Engine, limits: DatabaseLimits) -> None:
    """Put a connection's busy wait back to the bound when a transaction that lifted it ends."""

    def restore(dbapi: Any, info: dict[Any, Any]) -> None:
        if info.pop(STATEMENT_LIMIT_KEY, False) is not False and dbapi is not None:
            dbapi.execute(f"PRAGMA busy_timeout = {int(limits.busy_timeout_s * 1000)}")

    def end_of_transaction(connection: Connection) -> None:
        if not (connection.closed or connection.invalidated):
            restore(connection.connection.dbapi_connection, connection.info)

    event.listen(engine, "commit", end_of_transaction)
    event.listen(engine, "rollback", end_of_transaction)
    event.listen(engine, "checkin", lambda dbapi, record: restore(dbapi, record.info))


# SQLite has no "no limit" for a lock wait (0 means: do not wait): a lifted limit of None waits this long.
_SQLITE_LONGEST_WAIT_S = 600.0


def allow_long_statements(connection: Connection, seconds: float | None) -> None:
    """Let this transaction's statements run, or wait for locks, up to ``seconds`` (None: no limit).

    PostgreSQL: ``SET LOCAL statement_timeout`` and the watchdog's limit; SQLite: the busy wait. For work that is
    long by nature (migrations, background jobs that must not fail on a concurrent writer), never for a request.
    """
    if connection.dialect.name == "postgresql":
        milliseconds = 0 if seconds is None else max(1, int(seconds * 1000))
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds}")
    elif connection.dialect.name == "sqlite":
        wait_s = _SQLITE_LONGEST_WAIT_S if seconds is None else seconds
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait_s * 1000)}")
    connection.info[STATEMENT_LIMIT_KEY] = seconds


def allow_long_transactions(session: Session, seconds: float | None) -> None:
    """``allow_long_statements`` for every transaction ``session`` begins: a background job committing as it goes."""

    def lift(_session: Session, _transaction: Any, connection: Connection) -> None:
        allow_long_statements(connection, seconds)

    event.listen(session, "after_begin", lift)
