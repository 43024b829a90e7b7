"""Sync events: what an engineer's next pull must learn. Their ids are the pull cursor."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, select

from sync_server.models import Assignment, SyncEvent

__all__ = ["record_events", "record_meter_event"]


def _serialize_writers(session: Session) -> None:
    # PostgreSQL hands out sequence values before commit, so two writers could commit ids out of order and a
    # pull in between would skip the lower one forever. One transaction-scoped lock makes id order commit order.
    # SQLite already serializes writers.
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7421)"))


def record_events(session: Session, events: Iterable[SyncEvent]) -> None:
    items = list(events)
    if not items:
        return
    _serialize_writers(session)
    session.add_all(items)


def record_meter_event(session: Session, *, meter_id: int, kind: str, now: datetime) -> None:
    """Tell the engineer currently assigned to a meter (if any) that it changed."""
    assignment = session.exec(select(Assignment).where(Assignment.meter_id == meter_id)).first()
    if assignment is not None:
        record_events(
            session,
            [SyncEvent(engineer_id=assignment.engineer_id, kind=kind, meter_id=meter_id, created_at=now)],
        )
