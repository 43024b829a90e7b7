"""meter replacement: the confirmed replacement event (old meter retired, new meter in its place)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 05:00:00

One row per replacement: the old meter's final read and the new meter's initial read on a date, and the reading
that reported it (none when an admin recorded it). The new meter's initial read is also stored as its baseline
reading (source ``install``, a value of an existing VARCHAR column: no schema change for it).
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _units() -> sa.types.TypeEngine[Decimal]:
    """A register value as readings store it: NUMERIC(18, 4) on PostgreSQL, its text on SQLite (as 0001)."""
    return sa.Numeric(precision=18, scale=4).with_variant(sa.String(length=40), "sqlite")


def upgrade() -> None:
    op.create_table(
        "meter_replacement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("old_meter_id", sa.Integer(), nullable=False),
        sa.Column("new_meter_id", sa.Integer(), nullable=False),
        sa.Column("replaced_on", sa.Date(), nullable=False),
        sa.Column("old_final", _units(), nullable=False),
        sa.Column("new_initial", _units(), nullable=False),
        sa.Column("reading_uuid", sa.Uuid(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["new_meter_id"], ["meter.id"]),
        sa.ForeignKeyConstraint(["old_meter_id"], ["meter.id"]),
        sa.ForeignKeyConstraint(["reading_uuid"], ["reading.uuid"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("new_meter_id"),
        sa.UniqueConstraint("old_meter_id"),
        sa.UniqueConstraint("reading_uuid"),
    )


def downgrade() -> None:
    op.drop_table("meter_replacement")
