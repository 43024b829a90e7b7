"""people, routes and tariffs: password change, walk order, assignment history

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 05:00:00

Accounts whose password an admin chose must change it (``user.password_change_required``); an engineer's meters
carry their place on the route (``assignment.walk_order``, numbered by meter number to begin with); and who had
which meter when is kept (``assignment_history``), begun from today's assignments. Plain SQL: a migration must not
depend on today's application code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("password_change_required", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("walk_order", sa.Integer(), nullable=False, server_default="0"))
    # Each engineer's route starts in meter-number order (1, 2, ...), the order the phone showed until now.
    op.execute(
        """
        UPDATE assignment SET walk_order = (
          SELECT COUNT(*) FROM assignment AS other
          JOIN meter AS other_meter ON other_meter.id = other.meter_id
          WHERE other.engineer_id = assignment.engineer_id
            AND other_meter.number <= (SELECT number FROM meter WHERE meter.id = assignment.meter_id)
        )
        """
    )
    op.create_table(
        "assignment_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("engineer_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["engineer_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["meter_id"], ["meter.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_assignment_history_engineer_id"), "assignment_history", ["engineer_id"], unique=False)
    op.create_index(op.f("ix_assignment_history_meter_id"), "assignment_history", ["meter_id"], unique=False)
    # Today's assignments are the open spells; nothing earlier was recorded.
    op.execute(
        "INSERT INTO assignment_history (meter_id, engineer_id, valid_from, valid_to) "
        "SELECT meter_id, engineer_id, assigned_at, NULL FROM assignment"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_assignment_history_meter_id"), table_name="assignment_history")
    op.drop_index(op.f("ix_assignment_history_engineer_id"), table_name="assignment_history")
    op.drop_table("assignment_history")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_column("walk_order")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("password_change_required")
