from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from shared_billing.protocol import BillStatus, LedgerEntryKind, NoteKind, PaymentMode, RunStatus
from sync_server.db_types import JSON, Money, StrEnumColumn, Units, UTCDateTime


class TariffRecord(SQLModel, table=True):
    """A tariff stored as data: ``config`` is ``shared_billing`` tariff's ``to_dict()``. Named apart from the domain
    ``shared_billing.tariffs.Tariff`` that ``config`` is loaded into."""

    __tablename__ = "tariff"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=120)
    valid_from: date
    config: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class Bill(SQLModel, table=True):
    """A unit's bill for a period. Drafts have no number; issuing numbers it and makes it immutable."""

    __table_args__ = (UniqueConstraint("unit_id", "period", name="uq_bill_unit_period"),)

    id: int | None = Field(default=None, primary_key=True)
    bill_number: str | None = Field(default=None, max_length=16, unique=True)
    status: BillStatus = Field(default=BillStatus.ISSUED, sa_type=StrEnumColumn(BillStatus, 12), index=True)
    run_id: int | None = Field(default=None, foreign_key="bill_run.id", index=True)
    issued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    due_on: date | None = None
    charges: Decimal = Field(default=Decimal(0), sa_type=Money())  # this period's charges, rounded to the rupee
    unit_id: int = Field(foreign_key="unit.id", index=True)
    period: str = Field(max_length=7)
    reading_id: int | None = Field(default=None, foreign_key="reading.id", unique=True)  # None: estimated
    estimated_units: Decimal | None = Field(default=None, sa_type=Units())  # set on bills made on an estimate
    tariff_id: int = Field(foreign_key="tariff.id")
    lines: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    trace: list[str] = Field(sa_column=Column(JSON, nullable=False))
    total: Decimal = Field(sa_type=Money())
    round_off: Decimal = Field(sa_type=Money())
    payable: Decimal = Field(sa_type=Money())
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by_id: int = Field(foreign_key="user.id")


#: At most one running run per block and period, enforced by the database (a partial unique index, on SQLite
#: and PostgreSQL alike) so two concurrent starts cannot both win.
RUNNING_RUN_INDEX = "uq_bill_run_running"


class BillRun(SQLModel, table=True):
    """One run of billing for a block and period; its counters show progress while it runs."""

    __tablename__ = "bill_run"
    __table_args__ = (
        Index(
            RUNNING_RUN_INDEX,
            "block_id",
            "period",
            unique=True,
            sqlite_where=text(f"status = '{RunStatus.RUNNING.value}'"),
            postgresql_where=text(f"status = '{RunStatus.RUNNING.value}'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    block_id: int = Field(foreign_key="block.id", index=True)
    period: str = Field(max_length=7)
    status: RunStatus = Field(default=RunStatus.RUNNING, sa_type=StrEnumColumn(RunStatus, 12))
    total_units: int = 0
    processed: int = 0
    created: int = 0
    skipped: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_by_id: int = Field(foreign_key="user.id")
    # When the run last committed progress: a run whose heartbeat stopped (its server was killed) may be
    # superseded by a new start (billing.runs.RUN_STALE_AFTER).
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, max_length=500)  # plain words, never an exception's text
    error_code: str | None = Field(default=None, max_length=40)  # a problems.CODES code


class ClosedPeriod(SQLModel, table=True):
    """A block's period closed for billing runs: corrections go through credit/debit notes."""

    __tablename__ = "closed_period"
    __table_args__ = (UniqueConstraint("block_id", "period", name="uq_closed_block_period"),)

    id: int | None = Field(default=None, primary_key=True)
    block_id: int = Field(foreign_key="block.id")
    period: str = Field(max_length=7)
    closed_at: datetime = Field(sa_type=UTCDateTime)
    closed_by_id: int = Field(foreign_key="user.id")


class BillNote(SQLModel, table=True):
    """A credit (negative) or debit (positive) note against an issued bill: issued bills never change."""

    __tablename__ = "bill_note"

    id: int | None = Field(default=None, primary_key=True)
    bill_id: int = Field(foreign_key="bill.id", index=True)
    kind: NoteKind = Field(sa_type=StrEnumColumn(NoteKind, 8))
    amount: Decimal = Field(sa_type=Money())
    reason: str = Field(max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by_id: int = Field(foreign_key="user.id")


class Payment(SQLModel, table=True):
    __tablename__ = "payment"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    bill_id: int | None = Field(default=None, foreign_key="bill.id", index=True)
    amount: Decimal = Field(sa_type=Money())
    paid_on: date
    mode: PaymentMode = Field(sa_type=StrEnumColumn(PaymentMode, 12))
    reference: str | None = Field(default=None, max_length=64)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    recorded_by_id: int = Field(foreign_key="user.id")


class LedgerEntry(SQLModel, table=True):
    """An account's ledger: charges positive, payments and credits negative; arrears are its balance."""

    __tablename__ = "ledger_entry"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    kind: LedgerEntryKind = Field(sa_type=StrEnumColumn(LedgerEntryKind, 12))
    amount: Decimal = Field(sa_type=Money())
    booked_on: date
    bill_id: int | None = Field(default=None, foreign_key="bill.id")
    payment_id: int | None = Field(default=None, foreign_key="payment.id")
    description: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)


class BillNumberCounter(SQLModel, table=True):
    """Consecutive bill numbers per financial year (bill-of-supply rule)."""

    __tablename__ = "bill_number_counter"

    financial_year: str = Field(primary_key=True, max_length=9)
    last_number: int = 0
