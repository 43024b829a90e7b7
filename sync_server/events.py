"""Sync events: what an engineer's next pull must learn, and where the pull cursor places them.

Writers only insert events, with no lock: two writers never wait on each other here. On PostgreSQL ids come from
a sequence before commit, so ids are not commit order; each event therefore records its inserting transaction
(``cursor_key``, a server default: the transaction id + ``PG_CURSOR_BASE``) and the pull delivers events only up
to the oldest transaction still in flight (``sync_server.pull``), which no later commit can precede. SQLite
serializes writers, so there an event's id is its place.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import Integer
from sqlmodel import Session, select

from sync_server.models import Assignment, SyncEvent, SyncEventKind
from sync_server.sql import one_of

__all__ = ["PG_CURSOR_BASE", "record_events", "record_meter_event", "record_meter_events"]

# Added to transaction ids so that cursor keys of new events exceed every INTEGER id: events from before migration
# 0006 keep their id as key, and cursors handed out then keep their meaning.
PG_CURSOR_BASE = 2**31


def record_events(session: Session, events: Iterable[SyncEvent]) -> None:
    session.add_all(list(events))


def record_meter_event(session: Session, *, meter_id: int, kind: SyncEventKind, now: datetime) -> None:
    """Tell the engineer currently assigned to a meter (if any) that it changed."""
    record_meter_events(session, meter_ids=[meter_id], kind=kind, now=now)


def record_meter_events(session: Session, *, meter_ids: Collection[int], kind: SyncEventKind, now: datetime) -> None:
    """``record_meter_event`` for many meters, in one query for their assignments (a bulk approval)."""
    if not meter_ids:
        return
    assignments = session.exec(
        select(Assignment.meter_id, Assignment.engineer_id).where(
            one_of(session, Assignment.meter_id, meter_ids, Integer)
        )
    ).all()
    record_events(
        session,
        [
            SyncEvent(engineer_id=engineer_id, kind=kind, meter_id=meter_id, created_at=now)
            for meter_id, engineer_id in sorted(assignments)
        ],
    )
