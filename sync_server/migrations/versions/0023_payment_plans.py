"""payment_plan: an account's debt paid in instalments; one plan not cancelled per unit

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 11:50:00
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("cancelled_at IS NULL")


def _money() -> sa.types.TypeEngine[Decimal]:
    """Money as this revision stores it: NUMERIC(14, 2) on PostgreSQL, its text in VARCHAR(40) on SQLite."""
    return sa.Numeric(precision=14, scale=2).with_variant(sa.String(length=40), "sqlite")


def upgrade() -> None:
    op.create_table(
        "payment_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("total", _money(), nullable=False),
        sa.Column("instalments", sa.JSON(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["cancelled_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_payment_plan_unit_id", "payment_plan", ["unit_id"])
    op.create_index(
        "uq_payment_plan_active", "payment_plan", ["unit_id"], unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE
    )


def downgrade() -> None:
    op.drop_index("uq_payment_plan_active", table_name="payment_plan")
    op.drop_index("ix_payment_plan_unit_id", table_name="payment_plan")
    op.drop_table("payment_plan")
