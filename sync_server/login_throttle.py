"""Sign-in throttling: failed attempts counted per username and per client address, in the database so every
worker and process shares the counts.

Each key ("user:<name>", "addr:<ip>") has a fixed window: the first failure opens it, failures inside it add up,
and once it has run out the next attempt opens a new one. A caller over the limit is refused by a plain read
before it queues for hashing (no CPU spent on argon2). Holding a hashing slot, an attempt then *reserves* a count
on both keys (one atomic upsert each) and a successful sign-in gives it back (the username's count is cleared,
the address's reservation returned): so a burst of concurrent guesses cannot all pass the check while the first
ones are still hashing, and a burst of correct sign-ins from one address counts at most the slots in flight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, case, literal, update
from sqlalchemy.dialects import postgresql, sqlite

from sync_server.db_types import UTCDateTime
from sync_server.models.users import LoginThrottle
from sync_server.problems import Problem
from sync_server.sql import table_of

__all__ = ["ThrottleRule", "check_attempt", "record_success", "reserve_attempt", "throttle_keys"]


@dataclass(frozen=True)
class ThrottleRule:
    max_per_user: int
    max_per_address: int
    window: timedelta


def throttle_keys(username: str, address: str) -> tuple[str, str]:
    return f"user:{username}"[:80], f"addr:{address}"[:80]


def _bump(connection: Connection, key: str, now: datetime, window: timedelta) -> tuple[int, datetime]:
    """Add one to ``key``'s count (a new window if the old one ran out); the count and window start after it."""
    table = table_of(LoginThrottle)
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    at = literal(now, UTCDateTime())
    expired = table.c.window_start <= literal(now - window, UTCDateTime())
    insert = dialect.insert(table).values(key=key, failures=1, window_start=now)
    statement = insert.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "failures": case((expired, 1), else_=table.c.failures + 1),
            "window_start": case((expired, at), else_=table.c.window_start),
        },
    ).returning(table.c.failures, table.c.window_start)
    failures, window_start = connection.execute(statement).one()
    return int(failures), window_start


def retry_after_seconds(window_start: datetime, window: timedelta, now: datetime) -> int:
    """Whole seconds until the window that refused an attempt runs out (at least 1)."""
    return max(1, math.ceil((window_start + window - now).total_seconds()))


def _throttled(refusals: list[tuple[int, str]]) -> Problem:
    wait, scope = max(refusals)
    minutes = math.ceil(wait / 60)
    return Problem(
        "auth.throttled",
        f"Too many failed sign-ins; try again in {minutes} minute{'s' if minutes != 1 else ''}",
        {"retry_after": wait, "scope": scope},
        headers={"Retry-After": str(wait)},
    )


def _limits(username: str, address: str, rule: ThrottleRule) -> tuple[tuple[str, int, str], ...]:
    user_key, address_key = throttle_keys(username, address)
    return ((user_key, rule.max_per_user, "username"), (address_key, rule.max_per_address, "address"))


def check_attempt(connection: Connection, username: str, address: str, rule: ThrottleRule, now: datetime) -> None:
    """429 ``auth.throttled`` at once if the username or the address has used up its failures (a read only:
    a refused caller does not even queue for a hashing slot)."""
    table = table_of(LoginThrottle)
    limits = _limits(username, address, rule)
    rows = connection.execute(table.select().where(table.c.key.in_([key for key, _, _ in limits]))).all()
    counts = {row.key: (int(row.failures), row.window_start) for row in rows}
    refusals = [
        (retry_after_seconds(counts[key][1], rule.window, now), scope)
        for key, limit, scope in limits
        if key in counts and counts[key][0] >= limit and counts[key][1] + rule.window > now
    ]
    if refusals:
        raise _throttled(refusals)


def reserve_attempt(connection: Connection, username: str, address: str, rule: ThrottleRule, now: datetime) -> None:
    """Count this attempt against the username and the address; 429 ``auth.throttled`` if either is over its limit.

    Run in its own short transaction (committed before hashing) so concurrent attempts see each other's counts,
    by a caller holding a hashing slot: so at most that many successful attempts are counted while in flight.
    The username's row is always taken before the address's, so two attempts never wait on each other in a cycle.
    """
    refusals = []
    for key, limit, scope in _limits(username, address, rule):
        failures, window_start = _bump(connection, key, now, rule.window)
        if failures > limit:
            refusals.append((retry_after_seconds(window_start, rule.window, now), scope))
    if refusals:
        raise _throttled(refusals)


def record_success(connection: Connection, username: str, address: str, rule: ThrottleRule, now: datetime) -> None:
    """A correct password: the username starts afresh and the address gets its reservation back.

    Rows whose window has run out are deleted on the way (they count nothing any more), so guessed usernames do
    not pile up; sign-ins are rare enough for the small scan.
    """
    table = table_of(LoginThrottle)
    connection.execute(table.delete().where(table.c.window_start <= literal(now - rule.window, UTCDateTime())))
    user_key, address_key = throttle_keys(username, address)
    connection.execute(update(table).where(table.c.key == user_key).values(failures=0))
    connection.execute(
        update(table).where(table.c.key == address_key, table.c.failures > 0).values(failures=table.c.failures - 1)
    )
