"""photo_blob, photo_partial: photo bytes and pieces kept in the central database (FIELDMETER_PHOTO_STORE=database)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "photo_blob",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "photo_partial",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_index("ix_photo_partial_updated_at", "photo_partial", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_photo_partial_updated_at", table_name="photo_partial")
    op.drop_table("photo_partial")
    op.drop_table("photo_blob")
