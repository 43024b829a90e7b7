"""directory details: unit contact and load, meter install date and status

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 05:00:00

Units get the consumer's phone and email and the sanctioned load; meters their install date and a status
(active | retired) in place of the ``active`` flag, so a replaced meter can say what it is. Plain ``sa`` types:
a migration must create the same schema for ever, whatever the application's column types become.
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _exact(precision: int, scale: int) -> sa.types.TypeEngine[Decimal]:
    """An exact decimal as the schema stores it: NUMERIC(p, s) on PostgreSQL, its text in VARCHAR(40) on SQLite."""
    return sa.Numeric(precision=precision, scale=scale).with_variant(sa.String(length=40), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("sanctioned_load_kw", _exact(8, 2), nullable=True))
    with op.batch_alter_table("meter", schema=None) as batch_op:
        batch_op.add_column(sa.Column("install_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(length=8), nullable=True))
    op.execute("UPDATE meter SET status = CASE WHEN active THEN 'active' ELSE 'retired' END")
    with op.batch_alter_table("meter", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=sa.String(length=8), nullable=False)
        batch_op.drop_column("active")


def downgrade() -> None:
    with op.batch_alter_table("meter", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active", sa.Boolean(), nullable=True))
    op.execute("UPDATE meter SET active = (status = 'active')")
    with op.batch_alter_table("meter", schema=None) as batch_op:
        batch_op.alter_column("active", existing_type=sa.Boolean(), nullable=False)
        batch_op.drop_column("status")
        batch_op.drop_column("install_date")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("sanctioned_load_kw")
        batch_op.drop_column("email")
        batch_op.drop_column("phone")
