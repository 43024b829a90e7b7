"""photo_ocr: the register read off each stored photo by the server's own recogniser; reading.ocr_verdict

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 08:20:00
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _exact(precision: int, scale: int) -> sa.types.TypeEngine[Decimal]:
    """An exact decimal as this revision stores it: NUMERIC(p, s) on PostgreSQL, its text in VARCHAR(40) on SQLite."""
    return sa.Numeric(precision=precision, scale=scale).with_variant(sa.String(length=40), "sqlite")


def upgrade() -> None:
    op.create_table(
        "photo_ocr",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=True),
        sa.Column("confidence", _exact(4, 3), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("problem", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("sha256"),
    )
    with op.batch_alter_table("reading") as batch:
        batch.add_column(sa.Column("ocr_verdict", sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reading") as batch:
        batch.drop_column("ocr_verdict")
    op.drop_table("photo_ocr")
