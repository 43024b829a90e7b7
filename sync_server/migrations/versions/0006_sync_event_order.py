"""sync event order

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 01:10:00

The pull cursor stops relying on sync-event ids being handed out in commit order (which took one advisory lock
per writing transaction). On PostgreSQL each event records ``cursor_key``: its inserting transaction's id plus
2**31, so it lies above every INTEGER id; the pull delivers events only below the oldest transaction still in
flight (sync_server/pull.py). Existing events keep their id as key, so a cursor a phone holds from before (an
id) still means exactly what it meant. SQLite serializes writers: the column stays empty and the id is the key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# xid8 as a number (epoch included, so it never wraps) + 2**31: keys of new events exceed every INTEGER id.
_PG_CURSOR_KEY_DEFAULT = sa.text("(pg_current_xact_id()::text::bigint + 2147483648)")


def upgrade() -> None:
    with op.batch_alter_table("sync_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cursor_key", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_sync_event_engineer_cursor", ["engineer_id", "cursor_key"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE sync_event SET cursor_key = id")
        # Set after the backfill, so existing rows keep their id (what cursors already handed out count in).
        op.alter_column("sync_event", "cursor_key", server_default=_PG_CURSOR_KEY_DEFAULT)


def downgrade() -> None:
    # Back to id order (the older code's writers take the advisory lock again). Cursors handed out meanwhile on
    # PostgreSQL are 2**31 or more, outside the older server's bound: such a phone needs a full pull (cursor 0).
    with op.batch_alter_table("sync_event", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_event_engineer_cursor")
        batch_op.drop_column("cursor_key")
