"""Sync events: what an engineer's next pull must learn, and where the pull cursor places them.

Writers only insert events, with no lock: two writers never wait on each other here. On PostgreSQL ids come from
a sequence before commit, so ids are not commit order; each event therefore records its inserting transaction
(``cursor_key``, a server default: the transaction id + ``PG_CURSOR_BASE``) and the pull delivers events only up
to the oldest transaction still in flight (``sync_server.pull``), which no later commit can precede. SQLite
serializes writers, so there an event's id is its place.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, select

from sync_server.models import Assignment, SyncEvent, SyncEventKind

__all__ = ["PG_CURSOR_BASE", "record_events", "record_meter_event"]

# Added to transaction ids so that cursor keys of new events exceed every INTEGER id: events from before migration
# 0006 keep their id as key, and cursors handed out then keep their meaning.
PG_CURSOR_BASE = 2**31


def record_events(session: Session, events: Iterable[SyncEvent]) -> None:
    session.add_all(list(events))


def record_meter_event(session: Session, *, meter_id: int, kind: SyncEventKind, now: datetime) -> None:
    """Tell the engineer currently assigned to a meter (if any) that it changed."""
    assignment = session.exec(select(Assignment).where(Assignment.meter_id == meter_id)).first()
    if assignment is not None:
        record_events(
            session,
            [SyncEvent(engineer_id=assignment.engineer_id, kind=kind, meter_id=meter_id, created_at=now)],
        )
