"""statement lines: bank and UPI statements imported, each credit once under its key, matched to a bill or not

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 11:40:00

``statement_line.key`` is unique: the same line in a statement imported again is found, never recorded twice
(docs/reconciliation.md "Idempotency"); ``payment_id`` is unique too, one payment per credit.
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _exact(precision: int, scale: int) -> sa.types.TypeEngine[Decimal]:
    """An exact decimal as this revision stores it: NUMERIC(p, s) on PostgreSQL, its text in VARCHAR(40) on SQLite."""
    return sa.Numeric(precision=precision, scale=scale).with_variant(sa.String(length=40), "sqlite")


def upgrade() -> None:
    op.create_table(
        "statement_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["imported_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "statement_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("txn_date", sa.Date(), nullable=False),
        sa.Column("narration", sa.String(length=500), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("amount", _exact(14, 2), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("rule", sa.String(length=12), nullable=True),
        sa.Column("bill_id", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["import_id"], ["statement_import.id"]),
        sa.ForeignKeyConstraint(["bill_id"], ["bill.id"]),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"]),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
        sa.UniqueConstraint("payment_id"),
    )
    op.create_index("ix_statement_line_import_id", "statement_line", ["import_id"])
    op.create_index("ix_statement_line_status", "statement_line", ["status"])
    op.create_index("ix_statement_line_bill_id", "statement_line", ["bill_id"])


def downgrade() -> None:
    op.drop_table("statement_line")
    op.drop_table("statement_import")
