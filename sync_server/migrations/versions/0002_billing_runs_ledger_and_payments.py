"""billing runs, ledger and payments

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 11:09:51.267011
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _exact(precision: int, scale: int) -> sa.types.TypeEngine[Decimal]:
    """An exact decimal as this revision stored it: NUMERIC(p, s) on PostgreSQL, its text in VARCHAR(40) on SQLite.

    Written out here, not imported from the application's column types: a migration must create the same schema
    for ever, whatever those types become.
    """
    return sa.Numeric(precision=precision, scale=scale).with_variant(sa.String(length=40), "sqlite")


def upgrade() -> None:
    # Existing bills were issued when made (issue 2): they become 'issued' with unknown charges until re-rated.
    op.create_table('bill_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('block_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('total_units', sa.Integer(), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.JSON(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_by_id', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['block_id'], ['block.id'], ),
    sa.ForeignKeyConstraint(['started_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bill_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bill_run_block_id'), ['block_id'], unique=False)

    op.create_table('closed_period',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('block_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['block_id'], ['block.id'], ),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('block_id', 'period', name='uq_closed_block_period')
    )
    op.create_table('bill_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('amount', _exact(14, 2), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bill_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bill_note_bill_id'), ['bill_id'], unique=False)

    op.create_table('payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=True),
    sa.Column('amount', _exact(14, 2), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('mode', sa.String(length=12), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_unit_id'), ['unit_id'], unique=False)

    op.create_table('ledger_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('amount', _exact(14, 2), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], ),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entry_unit_id'), ['unit_id'], unique=False)

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_sha256', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('sha256', sa.String(length=64), nullable=False, server_default=''))
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=12), nullable=False, server_default='issued'))
        batch_op.add_column(sa.Column('run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('charges', _exact(14, 2), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('estimated_units', _exact(18, 4), nullable=True))
        batch_op.alter_column('bill_number',
               existing_type=sa.VARCHAR(length=16),
               nullable=True)
        batch_op.alter_column('reading_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_bill_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bill_status'), ['status'], unique=False)
        batch_op.create_foreign_key('fk_bill_run_id', 'bill_run', ['run_id'], ['id'])

    # ### end Alembic commands ###


def downgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_column('sha256')
        batch_op.drop_column('prev_sha256')
    # Existing bills were issued when made (issue 2): they become 'issued' with unknown charges until re-rated.
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.drop_constraint('fk_bill_run_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_bill_status'))
        batch_op.drop_index(batch_op.f('ix_bill_run_id'))
        batch_op.alter_column('reading_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.alter_column('bill_number',
               existing_type=sa.VARCHAR(length=16),
               nullable=False)
        batch_op.drop_column('estimated_units')
        batch_op.drop_column('charges')
        batch_op.drop_column('due_on')
        batch_op.drop_column('issued_at')
        batch_op.drop_column('run_id')
        batch_op.drop_column('status')

    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entry_unit_id'))

    op.drop_table('ledger_entry')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_unit_id'))
        batch_op.drop_index(batch_op.f('ix_payment_bill_id'))

    op.drop_table('payment')
    with op.batch_alter_table('bill_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bill_note_bill_id'))

    op.drop_table('bill_note')
    op.drop_table('closed_period')
    with op.batch_alter_table('bill_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bill_run_block_id'))

    op.drop_table('bill_run')
    # ### end Alembic commands ###
