"""Which database errors mean "unavailable" (retry later: 503) rather than a bug (500) or bad data (4xx).

Pure: it reads the error's class, SQLSTATE (PostgreSQL) or SQLite result code, never its message text.
"""

from __future__ import annotations

from sqlalchemy import exc

__all__ = ["unavailable_reason"]

# PostgreSQL SQLSTATEs of an unavailable server (class 08: connection exceptions).
_POSTGRES = {
    "57014": "timeout",  # query_canceled: statement_timeout, a lock wait included
    "55P03": "locked",  # lock_not_available: lock_timeout
    "53300": "busy",  # too_many_connections
    "57P01": "unreachable",  # admin_shutdown
    "57P02": "unreachable",  # crash_shutdown
    "57P03": "unreachable",  # cannot_connect_now (starting up, recovering)
}
# SQLite primary result codes (extended ones such as SQLITE_BUSY_SNAPSHOT or SQLITE_IOERR_READ start with them).
_SQLITE = {
    "SQLITE_BUSY": "locked",
    "SQLITE_LOCKED": "locked",
    "SQLITE_CANTOPEN": "unreachable",
    "SQLITE_IOERR": "unreachable",
}


def unavailable_reason(error: BaseException) -> str | None:
    """``"unreachable"``, ``"timeout"``, ``"locked"`` or ``"busy"`` when ``error`` says the database is not
    available right now; None for anything else (a missing table, bad SQL, a constraint: not a retry's business)."""
    if isinstance(error, exc.TimeoutError):  # no pooled connection came free within pool_timeout
        return "busy"
    if not isinstance(error, exc.OperationalError | exc.InterfaceError):
        return None
    if error.connection_invalidated:  # SQLAlchemy recognised a lost connection
        return "unreachable"
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None)
    if isinstance(sqlstate, str):
        return "unreachable" if sqlstate.startswith("08") else _POSTGRES.get(sqlstate)
    sqlite_name = getattr(original, "sqlite_errorname", None)
    if isinstance(sqlite_name, str):
        return next((reason for prefix, reason in _SQLITE.items() if sqlite_name.startswith(prefix)), None)
    if type(original).__module__.startswith("psycopg"):
        # psycopg's own client-side errors carry no SQLSTATE: refused, timed out, closed by the server or by
        # the watchdog (sync_server/db_guard.py).
        return "timeout" if "timeout" in type(original).__name__.lower() else "unreachable"
    return None
