"""notification: the outbox of messages to consumers; unit.notify_language, notify_channels, notify_opt_out

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=80), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("bill_id", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["bill_id"], ["bill.id"]),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_notification_unit_id", "notification", ["unit_id"])
    op.create_index("ix_notification_bill_id", "notification", ["bill_id"])
    op.create_index("ix_notification_status", "notification", ["status"])
    with op.batch_alter_table("unit") as batch:
        batch.add_column(sa.Column("notify_language", sa.String(length=2), nullable=False, server_default="en"))
        batch.add_column(
            sa.Column("notify_channels", sa.JSON(), nullable=False, server_default=sa.text("'[\"email\", \"sms\"]'"))
        )
        batch.add_column(sa.Column("notify_opt_out", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("unit") as batch:
        batch.drop_column("notify_opt_out")
        batch.drop_column("notify_channels")
        batch.drop_column("notify_language")
    op.drop_index("ix_notification_status", table_name="notification")
    op.drop_index("ix_notification_bill_id", table_name="notification")
    op.drop_index("ix_notification_unit_id", table_name="notification")
    op.drop_table("notification")
