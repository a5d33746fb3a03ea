"""Refunds: one row per refund reference, reserving its amount on the donation.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('refunds',
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('donation_id', sa.String(length=36), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('provider_refund_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['donation_id'], ['donations.id'], ),
    sa.PrimaryKeyConstraint('reference')
    )
    op.create_index(op.f('ix_refunds_donation_id'), 'refunds', ['donation_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_refunds_donation_id'), table_name='refunds')
    op.drop_table('refunds')
