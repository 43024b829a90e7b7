from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shared_billing.protocol import ScheduleCadence, ScheduleKind, ScheduleStatus
from sync_server.db_types import StrEnumColumn, UTCDateTime

__all__ = ["ScheduledJob"]


class ScheduledJob(SQLModel, table=True):
    """A job the server runs by itself (``sync_server.scheduling``): its cadence, its next run and its last result.

    The cadence fields that matter follow ``cadence``: ``day_of_month`` and ``at_time`` for monthly, ``at_time``
    for daily, ``every_minutes`` for interval. Claiming a run moves ``next_run_at`` on with a compare-and-set, so a
    firing is claimed by one process only.
    """

    __tablename__ = "scheduled_job"

    name: str = Field(primary_key=True, max_length=40)
    kind: ScheduleKind = Field(sa_type=StrEnumColumn(ScheduleKind, 20))
    cadence: ScheduleCadence = Field(sa_type=StrEnumColumn(ScheduleCadence, 10))
    enabled: bool = True
    day_of_month: int | None = None  # 1–28: every month has it
    at_time: str | None = Field(default=None, max_length=5)  # "HH:MM" in the society's time zone
    # Minutes between runs; fractional only when set from FIELDMETER_STATUS_REFRESH_MINUTES (tests run it quickly).
    every_minutes: float | None = None
    next_run_at: datetime = Field(sa_type=UTCDateTime)
    last_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status: ScheduleStatus | None = Field(default=None, sa_type=StrEnumColumn(ScheduleStatus, 10))
    last_result: str | None = Field(default=None, max_length=500)  # plain words, never an exception's text
