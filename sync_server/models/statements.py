"""Bank and UPI statements brought in by the accountant (docs/reconciliation.md): each import, and each credit line
once, under the key every download of the statement gives it, with what became of it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from shared_billing.protocol import MatchRule, StatementLineStatus
from sync_server.db_types import JSON, Money, StrEnumColumn, UTCDateTime

__all__ = ["StatementImport", "StatementLine"]


class StatementImport(SQLModel, table=True):
    """One statement file imported: who, when, and what it did (the counts and the lines it could not read)."""

    __tablename__ = "statement_import"

    id: int | None = Field(default=None, primary_key=True)
    file_name: str = Field(max_length=200)
    file_sha256: str = Field(max_length=64)
    size_bytes: int = 0
    imported_at: datetime = Field(sa_type=UTCDateTime)
    imported_by_id: int = Field(foreign_key="user.id")
    counts: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    problems: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))


class StatementLine(SQLModel, table=True):
    """A credit of a statement, stored once under its ``key``: matched (its payment recorded through the ledger),
    unmatched (waiting for the accountant) or dismissed (not a bill's payment)."""

    __tablename__ = "statement_line"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)  # sync_server.statements.parse: the same in every download
    import_id: int = Field(foreign_key="statement_import.id", index=True)  # the import that first brought it
    line: int  # in that file
    txn_date: date
    narration: str = Field(max_length=500)
    reference: str | None = Field(default=None, max_length=64)
    amount: Decimal = Field(sa_type=Money())
    status: StatementLineStatus = Field(sa_type=StrEnumColumn(StatementLineStatus, 12), index=True)
    rule: MatchRule | None = Field(default=None, sa_type=StrEnumColumn(MatchRule, 12))
    bill_id: int | None = Field(default=None, foreign_key="bill.id", index=True)
    payment_id: int | None = Field(default=None, foreign_key="payment.id", unique=True)
    reason: str | None = Field(default=None, max_length=300)  # why it is unmatched, or why it was dismissed
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by_id: int | None = Field(default=None, foreign_key="user.id")
