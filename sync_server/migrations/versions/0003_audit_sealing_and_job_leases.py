"""audit sealing and job leases

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 01:10:00

The audit chain moves from writers (plain SHA-256, extended inside every writing transaction) to one sealer that
keys its digests with the server secret. Existing events lose their old digests and come out of this migration
unsealed: the sealer re-seals them from scratch under the key, in id order, on its first pass. Nothing is lost by
that: a plain SHA-256 chain proved nothing against anyone able to write the table (they could recompute it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The inserting transaction's id, as a number comparable with pg_snapshot_xmin (both xid8, epoch included).
_PG_TXID_DEFAULT = sa.text("(pg_current_xact_id()::text::bigint)")


def upgrade() -> None:
    op.create_table(
        "job_lease",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("sha256")
        batch_op.drop_column("prev_sha256")
        batch_op.add_column(sa.Column("txid", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_event_seq"), ["seq"], unique=True)
    if op.get_bind().dialect.name == "postgresql":
        # Set after the column exists, so existing rows keep NULL (sealed first) instead of the migration's id.
        op.alter_column("audit_event", "txid", server_default=_PG_TXID_DEFAULT)


def downgrade() -> None:
    # The old writer-side chain is not rebuilt: 0002's verification reports it broken until events are re-chained.
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_seq"))
        batch_op.drop_column("digest")
        batch_op.drop_column("prev_digest")
        batch_op.drop_column("seq")
        batch_op.drop_column("txid")
        batch_op.add_column(sa.Column("prev_sha256", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("sha256", sa.String(length=64), nullable=False, server_default=""))
    op.drop_table("audit_chain_head")
    op.drop_table("job_lease")
