"""a unit's rate override keeps four decimal places (₹4.125), as tariff orders write rates

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite keeps the decimal's text (VARCHAR(40)): any number of places already fits.
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("unit", "rate_override", type_=sa.Numeric(precision=14, scale=4), existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("unit", "rate_override", type_=sa.Numeric(precision=14, scale=2), existing_nullable=True)
