"""quality checks: approved reads picked to be read again, and the verdict of the second read

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 19:00:00
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _exact(precision: int, scale: int) -> sa.types.TypeEngine[Decimal]:
    """An exact decimal as this revision stores it: NUMERIC(p, s) on PostgreSQL, its text in VARCHAR(40) on SQLite
    (written out here: a migration creates the same schema for ever, whatever the application's types become)."""
    return sa.Numeric(precision=precision, scale=scale).with_variant(sa.String(length=40), "sqlite")


def upgrade() -> None:
    op.create_table(
        "quality_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reading_id", sa.Integer(), nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("engineer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("check_reading_uuid", sa.Uuid(), nullable=True),
        sa.Column("difference", _exact(18, 4), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["engineer_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["meter_id"], ["meter.id"]),
        sa.ForeignKeyConstraint(["reading_id"], ["reading.id"]),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meter_id", "period", name="uq_quality_check_meter_period"),
    )
    op.create_index("ix_quality_check_engineer_id", "quality_check", ["engineer_id"])
    op.create_index("ix_quality_check_reading_id", "quality_check", ["reading_id"])
    op.create_index("ix_quality_check_status", "quality_check", ["status"])


def downgrade() -> None:
    op.drop_table("quality_check")
