"""Quality checks: approved reads picked at random to be read again, and what the second read said."""

from __future__ import annotations

import uuid as uuid_mod
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared_billing.protocol import QualityCheckStatus
from sync_server.db_types import StrEnumColumn, Units, UTCDateTime


class QualityCheck(SQLModel, table=True):
    """One approved read to be read again by ``engineer_id`` (its meter's engineer when picked). The check read
    is linked by engineer, meter and period when it is pushed (sync_server/quality_checks.py); it never replaces
    the approved read and is never billed. One check per meter and period."""

    __tablename__ = "quality_check"
    __table_args__ = (UniqueConstraint("meter_id", "period", name="uq_quality_check_meter_period"),)

    id: int | None = Field(default=None, primary_key=True)
    reading_id: int = Field(foreign_key="reading.id", index=True)  # the approved read checked
    meter_id: int = Field(foreign_key="meter.id")
    period: str = Field(max_length=7)
    engineer_id: int = Field(foreign_key="user.id", index=True)
    status: QualityCheckStatus = Field(
        default=QualityCheckStatus.OPEN, sa_type=StrEnumColumn(QualityCheckStatus, 8), index=True
    )
    requested_at: datetime = Field(sa_type=UTCDateTime)
    requested_by_id: int = Field(foreign_key="user.id")
    due_on: date | None = None
    check_reading_uuid: uuid_mod.UUID | None = None
    # The check read less the approved one (register units): what the meter moved between the two reads.
    difference: Decimal | None = Field(default=None, sa_type=Units())
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
