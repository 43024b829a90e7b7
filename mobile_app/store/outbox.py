"""The outbox: readings waiting for the server's answer, and what each answer does to them.

An outbox row goes only when the server answered for that uuid; the reading itself is never deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import col, delete, select, update

from mobile_app.store.database import Store
from mobile_app.store.readings import owned_by, reading_from_row
from mobile_app.store.tables import LocalReading, LocalState, OutboxEntry
from shared_billing.protocol import Outcome, PushResult, ReadingV3

__all__ = [
    "OutboxItem",
    "apply_push_results",
    "count_due_outbox",
    "mark_retry",
    "mark_server_failure",
    "next_outbox_attempt_at",
    "pending_outbox",
]

_STATE_BY_OUTCOME = {
    Outcome.STORED: LocalState.UPLOADED,
    Outcome.DUPLICATE: LocalState.UPLOADED,
    Outcome.REJECTED: LocalState.REJECTED,
    Outcome.CONFLICT: LocalState.CONFLICT,
}


@dataclass(frozen=True)
class OutboxItem:
    """A reading due to be pushed, with its retry bookkeeping."""

    reading: ReadingV3
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    seq: int = 0  # save order on this phone
    server_failures: int = 0  # 500s for this reading alone (see mark_server_failure)
    parked_at: datetime | None = None


def _is_due(now: datetime) -> ColumnElement[bool]:
    return or_(col(OutboxEntry.next_attempt_at).is_(None), col(OutboxEntry.next_attempt_at) <= now)


def pending_outbox(
    *, store: Store, limit: int, now: datetime, after_seq: int = 0, owner: int | None = None
) -> list[OutboxItem]:
    """Up to ``limit`` outbox readings due at ``now``, in the order they were saved, saved after ``after_seq``;
    only ``owner``'s (``readings.owned_by``) when given: another engineer's readings wait for them to sign in.

    ``after_seq`` pages through the outbox in one pass: a reading that failed and stays due (a forced pass ignores
    retry times) is not handed out again.
    """
    with store.transaction() as session:
        rows = session.exec(
            select(OutboxEntry, LocalReading)
            .join(LocalReading, col(LocalReading.uuid) == col(OutboxEntry.reading_uuid))
            .where(_is_due(now), col(LocalReading.seq) > after_seq, owned_by(owner))
            .order_by(col(LocalReading.seq))
            .limit(limit)
        ).all()
    return [
        OutboxItem(
            reading=reading_from_row(reading),
            attempts=entry.attempts,
            next_attempt_at=entry.next_attempt_at,
            last_error=entry.last_error,
            seq=reading.seq or 0,
            server_failures=entry.server_failures,
            parked_at=entry.parked_at,
        )
        for entry, reading in rows
    ]


def count_due_outbox(*, store: Store, now: datetime, owner: int | None = None) -> int:
    """How many outbox readings (``owner``'s when given) are due at ``now`` (the total for progress reports);
    ``datetime.max`` counts every reading waiting."""
    with store.transaction() as session:
        return session.exec(
            select(func.count())
            .select_from(OutboxEntry)
            .join(LocalReading, col(LocalReading.uuid) == col(OutboxEntry.reading_uuid))
            .where(_is_due(now), owned_by(owner))
        ).one()


def next_outbox_attempt_at(*, store: Store, now: datetime, owner: int | None = None) -> datetime | None:
    """When the earliest outbox row (``owner``'s when given) not yet due becomes due, or None if none waits."""
    with store.transaction() as session:
        return session.exec(
            select(func.min(OutboxEntry.next_attempt_at))
            .join(LocalReading, col(LocalReading.uuid) == col(OutboxEntry.reading_uuid))
            .where(col(OutboxEntry.next_attempt_at) > now, owned_by(owner))
        ).one()


def apply_push_results(*, store: Store, results: Iterable[PushResult], now: datetime) -> int:
    """Record the server's per-reading answers; returns how many named a reading on this phone.

    Every outcome is an answer, so the outbox row goes: ``stored``/``duplicate`` mark the reading uploaded;
    ``rejected``/``conflict`` are terminal and mark it with the server's code and message (a fix is a new
    reading that names it in ``replaces``). Results for unknown uuids are ignored. One transaction for all.
    """
    applied = 0
    with store.transaction() as session:
        for result in results:
            uuid = str(result.uuid)
            reading = session.exec(select(LocalReading).where(LocalReading.uuid == uuid)).first()
            if reading is None:
                continue
            applied += 1
            reading.state = _STATE_BY_OUTCOME[result.outcome]
            reading.answered_at = now
            if result.outcome is Outcome.CONFLICT:
                # The server may send no code for a conflict; the sync screen still needs one to show.
                reading.server_code = result.code or "reading.conflict"
            else:
                reading.server_code = result.code
            reading.server_message = result.message
            reading.flags = list(result.flags)
            if result.status is not None:
                reading.review_status = result.status
            session.add(reading)
            session.exec(delete(OutboxEntry).where(col(OutboxEntry.reading_uuid) == uuid))
    return applied


def mark_retry(*, store: Store, uuids: Sequence[str], error: str, next_attempt_at: datetime) -> None:
    """Keep these readings in the outbox for another try at ``next_attempt_at``, counting the failed attempt.

    Uuids whose outbox row is already gone (answered meanwhile) are left alone.
    """
    if not uuids:
        return
    with store.transaction() as session:
        session.exec(
            update(OutboxEntry)
            .where(col(OutboxEntry.reading_uuid).in_(list(uuids)))
            .values(
                attempts=col(OutboxEntry.attempts) + 1,
                next_attempt_at=next_attempt_at,
                last_error=error[:500],
            )
        )


def mark_server_failure(
    *,
    store: Store,
    uuid: str,
    error: str,
    now: datetime,
    retry_at: datetime,
    park_after: int,
    parked_retry_at: datetime,
) -> int | None:
    """Count one more 500 for this reading sent alone; park it once that happened ``park_after`` times.

    A parked reading waits until ``parked_retry_at`` (or a forced pass) and is listed as held back; the others
    wait until ``retry_at``. The attempt itself was already counted by ``mark_retry``. Returns the reading's
    count, or None if its outbox row is gone (answered meanwhile). The parking time is kept from the first time.
    """
    with store.transaction() as session:
        entry = session.get(OutboxEntry, uuid)
        if entry is None:
            return None
        entry.server_failures += 1
        entry.last_error = error[:500]
        if entry.server_failures >= park_after:
            entry.parked_at = entry.parked_at or now
            entry.next_attempt_at = parked_retry_at
        else:
            entry.next_attempt_at = retry_at
        session.add(entry)
        return entry.server_failures
