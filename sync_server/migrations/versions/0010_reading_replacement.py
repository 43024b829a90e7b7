"""reading replacement: a reading may carry a meter replacement (protocol 2)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The replacement a protocol-2 reading reported (old final value, new meter number and initial value), as
    # JSON; NULL for every reading before it and for readings without one.
    with op.batch_alter_table("reading", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replacement", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reading", schema=None) as batch_op:
        batch_op.drop_column("replacement")
