"""resident → unit: the unit whose bills, payments and balance a resident's account sees

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: staff have no unit, and a resident account made before this revision (the role was reserved: it
    # could sign in and see /api/me only) has none until an admin links it; such a resident sees nothing.
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch.create_index("ix_user_unit_id", ["unit_id"], unique=False)
        batch.create_foreign_key("fk_user_unit_id_unit", "unit", ["unit_id"], ["id"])
        # A staff account never carries a unit: the resident routes scope every query by it.
        batch.create_check_constraint("ck_user_unit_only_resident", "role = 'resident' OR unit_id IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_constraint("ck_user_unit_only_resident", type_="check")
        batch.drop_constraint("fk_user_unit_id_unit", type_="foreignkey")
        batch.drop_index("ix_user_unit_id")
        batch.drop_column("unit_id")
