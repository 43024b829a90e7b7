"""Payment plans (docs/domain.md "Payment plans"): an account's debt paid in instalments on agreed days."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Index, text
from sqlmodel import Field, SQLModel

from sync_server.db_types import JSON, Money, UTCDateTime

ACTIVE_PLAN_INDEX = "uq_payment_plan_active"


class PaymentPlan(SQLModel, table=True):
    """One plan per account at a time (a partial unique index: the one not cancelled)."""

    __tablename__ = "payment_plan"
    __table_args__ = (
        Index(
            ACTIVE_PLAN_INDEX,
            "unit_id",
            unique=True,
            sqlite_where=text("cancelled_at IS NULL"),
            postgresql_where=text("cancelled_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    total: Decimal = Field(sa_type=Money())  # what the account owed when the plan was agreed
    # [{"number", "due_on", "amount"}] (``shared_billing.payment_plans.Instalment``), amounts as decimal strings
    instalments: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    starts_on: date  # payments from this day count towards the plan
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by_id: int = Field(foreign_key="user.id")
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_by_id: int | None = Field(default=None, foreign_key="user.id")
