"""reading evidence: what a protocol-3 reading carries beyond its value, fix and photo

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The evidence as sent (photo-check verdicts with the override reason, the label scanned, the meter-room
    # session) as JSON; the label's verdict on the meter at the push; the session on its own, indexed, to find a
    # room's readings together. NULL for every reading before protocol 3 and for readings without evidence.
    with op.batch_alter_table("reading") as batch:
        batch.add_column(sa.Column("evidence", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("label_verdict", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("room_session", sa.Uuid(), nullable=True))
        batch.create_index("ix_reading_room_session", ["room_session"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reading") as batch:
        batch.drop_index("ix_reading_room_session")
        batch.drop_column("room_session")
        batch.drop_column("label_verdict")
        batch.drop_column("evidence")
