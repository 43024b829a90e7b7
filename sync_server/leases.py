"""Database leases: at most one holder runs a named background job at a time, across processes and machines.

A lease is one ``job_lease`` row (name, holder, expires_at). ``try_acquire`` is a single atomic upsert that
succeeds when the row is new, already the caller's (a renewal), or expired — so exactly one of any number of
concurrent contenders wins, and a holder that dies stops renewing and is passed over once its lease runs out.

Expiry is judged on the wall clock (UTC), not the server's business clock: ``FIELDMETER_NOW`` starts each
process's clock wherever it is told, so two processes pinned to a demo date would disagree about "now" by the
time between their starts. Hosts sharing a database are assumed NTP-synchronized well within a lease's length.

A lease makes one worker do a job; it is not a fence by itself (a holder paused past expiry may still be
working). Jobs whose overlap would do harm also check in their own writes (the audit sealer compares-and-sets
the chain head).
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, or_, update
from sqlalchemy.dialects import postgresql, sqlite

from sync_server.clock import Clock, system_clock
from sync_server.models import JobLease
from sync_server.sql import table_of

__all__ = ["current_holder", "new_holder_id", "release", "try_acquire"]


def new_holder_id() -> str:
    """A holder name unique to this process and call: host, pid and a random tag (pids are reused)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


def try_acquire(engine: Engine, name: str, holder: str, ttl: timedelta, *, clock: Clock = system_clock) -> bool:
    """Take or renew lease ``name`` for ``ttl``; True if ``holder`` holds it now, False if someone else does."""
    now = clock().astimezone(UTC)
    table = table_of(JobLease)
    insert = postgresql.insert(table) if engine.dialect.name == "postgresql" else sqlite.insert(table)
    values = insert.values(name=name, holder=holder, expires_at=now + ttl)
    # One statement decides: the row is created, or updated only if it is ours or has expired. Concurrent
    # contenders are serialized on the row (PostgreSQL re-checks the WHERE on the newest version; SQLite has
    # one writer at a time), so only one of them sees its holder come back.
    statement = values.on_conflict_do_update(
        index_elements=[table.c.name],
        set_={"holder": values.excluded.holder, "expires_at": values.excluded.expires_at},
        where=or_(table.c.holder == holder, table.c.expires_at <= now),
    ).returning(table.c.holder)
    with engine.begin() as connection:
        won = connection.execute(statement).scalar_one_or_none()
    return won == holder


def release(engine: Engine, name: str, holder: str, *, clock: Clock = system_clock) -> bool:
    """Give lease ``name`` up now if ``holder`` holds it (a clean shutdown hands over without waiting)."""
    table = table_of(JobLease)
    statement = (
        update(table)
        .where(table.c.name == name, table.c.holder == holder)
        .values(expires_at=clock().astimezone(UTC) - timedelta(microseconds=1))
    )
    with engine.begin() as connection:
        return connection.execute(statement).rowcount == 1


def current_holder(engine: Engine, name: str, *, clock: Clock = system_clock) -> str | None:
    """Who holds lease ``name`` now (None when nobody or expired)."""
    table = table_of(JobLease)
    now: datetime = clock().astimezone(UTC)
    with engine.connect() as connection:
        row = connection.execute(table.select().where(table.c.name == name, table.c.expires_at > now)).first()
    return None if row is None else str(row.holder)
