"""Escalation of bills still overdue (docs/notifications.md "Escalation"): the steps, as data an admin edits, and
the log of each step taken (or passed over) for each bill."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared_billing.protocol import EscalationKind, EscalationOutcome
from sync_server.db_types import StrEnumColumn, UTCDateTime

__all__ = ["Escalation", "EscalationStep"]


class EscalationStep(SQLModel, table=True):
    """A step: taken ``days_after`` days after a bill's due date while the bill is still overdue. One step per
    kind (severity rises with the days: ``notifications.rules.steps_problem``), so the kind names the step."""

    __tablename__ = "escalation_step"

    id: int | None = Field(default=None, primary_key=True)
    kind: EscalationKind = Field(sa_type=StrEnumColumn(EscalationKind, 20), unique=True)
    days_after: int  # 1–365, in the society's calendar
    active: bool = True


class Escalation(SQLModel, table=True):
    """One step of one bill, once: when it was taken (or passed over), at which day, how many messages went out."""

    __tablename__ = "escalation"
    __table_args__ = (UniqueConstraint("bill_id", "kind", name="uq_escalation_bill_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    bill_id: int = Field(foreign_key="bill.id")  # the unique constraint's first column serves lookups by bill
    unit_id: int = Field(foreign_key="unit.id", index=True)
    kind: EscalationKind = Field(sa_type=StrEnumColumn(EscalationKind, 20))
    days_after: int  # the step's day when it was taken: steps may be changed later
    outcome: EscalationOutcome = Field(sa_type=StrEnumColumn(EscalationOutcome, 10))
    at: datetime = Field(sa_type=UTCDateTime)
    # Outbox rows offered: 0 when no channel is configured or the consumer opted out or has no address; the step
    # is taken all the same (the log is the society's record of where each defaulter stands).
    messages: int = 0
