"""escalation_step: the steps taken for a bill still overdue, seeded; escalation: each step of each bill, once

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The defaults (docs/notifications.md "Escalation"), days after the due date: a reminder a week on (the overdue
# notice went the day after the due date), a notice at three weeks (about when the next month's bill is issued),
# the disconnection notice at 45 days, so that the 15 clear days' written notice the Electricity Act 2003 (s. 56)
# asks before a supply is cut end two months after the due date at the earliest. Written as this revision knows
# them: the steps are data an admin changes afterwards (PUT /api/escalation-steps).
DEFAULT_STEPS = (("reminder", 7), ("notice", 21), ("disconnection_notice", 45))


def upgrade() -> None:
    steps = op.create_table(
        "escalation_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("days_after", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind"),
    )
    op.bulk_insert(steps, [{"kind": kind, "days_after": days, "active": True} for kind, days in DEFAULT_STEPS])
    op.create_table(
        "escalation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bill_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("days_after", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["bill_id"], ["bill.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bill_id", "kind", name="uq_escalation_bill_kind"),
    )
    op.create_index("ix_escalation_unit_id", "escalation", ["unit_id"])


def downgrade() -> None:
    op.drop_index("ix_escalation_unit_id", table_name="escalation")
    op.drop_table("escalation")
    op.drop_table("escalation_step")
