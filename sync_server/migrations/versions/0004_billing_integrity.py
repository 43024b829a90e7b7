"""billing integrity

One running bill run per block and period (a partial unique index), and the run's heartbeat and error code.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    with op.batch_alter_table("bill_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("error_code", sa.String(length=40), nullable=True))
    # Migrations run before the server serves, so a run still 'running' now was cut off by a stop: it is
    # failed, which also clears duplicates that would keep the unique index from being built.
    op.execute(
        "UPDATE bill_run SET status = 'failed', error_code = 'billing.run_interrupted', "
        "error = 'The server stopped while the run was going; start it again' WHERE status = 'running'"
    )
    op.create_index(
        "uq_bill_run_running",
        "bill_run",
        ["block_id", "period"],
        unique=True,
        sqlite_where=RUNNING,
        postgresql_where=RUNNING,
    )


def downgrade() -> None:
    op.drop_index("uq_bill_run_running", table_name="bill_run")
    with op.batch_alter_table("bill_run", schema=None) as batch_op:
        batch_op.drop_column("error_code")
        batch_op.drop_column("heartbeat_at")
