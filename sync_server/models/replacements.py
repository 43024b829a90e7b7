"""A meter replacement: one event on a date pairing the old meter's final read with the new meter's initial one.

The old meter is retired, the new one takes its place (routes, assignments, the unit); the period's bill measures
across both (docs/domain.md "Meter replacement"). Recorded by an admin, or confirmed by a supervisor from a
reading that reported it (``reading_uuid``).
"""

from __future__ import annotations

import uuid as uuid_mod
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Field, SQLModel

from sync_server.db_types import Units, UTCDateTime


class MeterReplacement(SQLModel, table=True):
    __tablename__ = "meter_replacement"

    id: int | None = Field(default=None, primary_key=True)
    # A meter is retired once and installed once: each side of the pair is unique.
    old_meter_id: int = Field(foreign_key="meter.id", unique=True)
    new_meter_id: int = Field(foreign_key="meter.id", unique=True)
    replaced_on: date  # in the society's time zone; the period of the replacement is its month
    old_final: Decimal = Field(sa_type=Units())
    new_initial: Decimal = Field(sa_type=Units())
    # The reading that reported it (pushed against the old meter, its value the new meter's register); None when
    # an admin recorded the replacement directly.
    reading_uuid: uuid_mod.UUID | None = Field(default=None, foreign_key="reading.uuid", unique=True)
    recorded_by_id: int = Field(foreign_key="user.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    reason: str | None = Field(default=None, max_length=500)
