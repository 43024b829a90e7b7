"""Who had a meter on their route when: the effective-dated record behind ``Assignment`` (the current one).

A reading saved offline before a route change is judged by the engineer who had the meter at its captured-at
(docs/domain.md "Routes"), so a route move never makes such a reading ``reading.not_assigned``.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from sync_server.db_types import UTCDateTime

__all__ = ["AssignmentHistory"]


class AssignmentHistory(SQLModel, table=True):
    """One engineer's spell with one meter, in UTC instants: ``valid_to`` is exclusive, None while it lasts."""

    __tablename__ = "assignment_history"

    id: int | None = Field(default=None, primary_key=True)
    meter_id: int = Field(foreign_key="meter.id", index=True)
    engineer_id: int = Field(foreign_key="user.id", index=True)
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_to: datetime | None = Field(default=None, sa_type=UTCDateTime)
