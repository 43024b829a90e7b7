"""accounts throttling and sessions

Failed sign-in counters shared by every worker (``login_throttle``) and a family per sign-in on refresh tokens
(logout, deactivation and theft detection revoke a family; its access tokens are refused at once).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("family", sa.String(length=32), nullable=False, server_default=""))
        batch_op.create_index(batch_op.f("ix_refresh_token_family"), ["family"], unique=False)
    # Tokens issued before families existed: each is its own family (its device is still revoked on reuse).
    op.execute("UPDATE refresh_token SET family = 'legacy-' || CAST(id AS VARCHAR(20))")


def downgrade() -> None:
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_token_family"))
        batch_op.drop_column("family")
    op.drop_table("login_throttle")
