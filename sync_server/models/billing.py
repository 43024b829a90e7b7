from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from sync_server.db_types import JSON, Money, UTCDateTime


class Tariff(SQLModel, table=True):
    """A tariff stored as data: ``config`` is ``shared_billing`` tariff's ``to_dict()``."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=120)
    valid_from: date
    config: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class Bill(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("unit_id", "period", name="uq_bill_unit_period"),)

    id: int | None = Field(default=None, primary_key=True)
    bill_number: str = Field(max_length=16, unique=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    period: str = Field(max_length=7)
    reading_id: int = Field(foreign_key="reading.id", unique=True)
    tariff_id: int = Field(foreign_key="tariff.id")
    lines: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    trace: list[str] = Field(sa_column=Column(JSON, nullable=False))
    total: Decimal = Field(sa_type=Money())
    round_off: Decimal = Field(sa_type=Money())
    payable: Decimal = Field(sa_type=Money())
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by_id: int = Field(foreign_key="user.id")


class BillNumberCounter(SQLModel, table=True):
    """Consecutive bill numbers per financial year (bill-of-supply rule)."""

    __tablename__ = "bill_number_counter"

    financial_year: str = Field(primary_key=True, max_length=9)
    last_number: int = 0
