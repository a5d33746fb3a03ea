"""Patronage: matching pools, their matches and budget returns; monthly gift plans; what a
donation knew of its campaign (live or not) and its plan.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('matching_pools',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('patron_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('budget_amount', sa.BigInteger(), nullable=False),
    sa.Column('ratio', sa.Integer(), nullable=False),
    sa.Column('cap_per_donation', sa.BigInteger(), nullable=False),
    sa.Column('cap_per_campaign', sa.BigInteger(), nullable=False),
    sa.Column('categories', sa.Text(), nullable=False),
    sa.Column('regions', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('remaining_amount', sa.BigInteger(), nullable=False),
    sa.Column('matched_amount', sa.BigInteger(), nullable=False),
    sa.Column('returned_amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('charge_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('remaining_amount >= 0', name='ck_matching_pools_remaining_not_negative'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_matching_pools_patron_id', 'matching_pools', ['patron_id'], unique=False)
    op.create_index('ix_matching_pools_status_created', 'matching_pools', ['status', 'created_at', 'id'],
                    unique=False)
    op.create_table('matches',
    sa.Column('donation_id', sa.String(length=36), nullable=False),
    sa.Column('pool_id', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('campaign_region', sa.String(length=8), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('released_amount', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['donation_id'], ['donations.id'], ),
    sa.ForeignKeyConstraint(['pool_id'], ['matching_pools.id'], ),
    sa.PrimaryKeyConstraint('donation_id', 'pool_id')
    )
    op.create_index('ix_matches_pool_campaign', 'matches', ['pool_id', 'campaign_id'], unique=False)
    op.create_table('pool_returns',
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('pool_id', sa.String(length=36), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('provider_refund_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['pool_id'], ['matching_pools.id'], ),
    sa.PrimaryKeyConstraint('reference')
    )
    op.create_index('ix_pool_returns_pool_id', 'pool_returns', ['pool_id'], unique=False)
    op.create_table('recurring_plans',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('donor_id', sa.String(length=128), nullable=False),
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('payment_token', sa.String(length=200), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('period', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('anchor_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_charge_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.String(length=128), nullable=True),
    sa.Column('cancel_reason', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_recurring_plans_donor_id', 'recurring_plans', ['donor_id'], unique=False)
    op.create_index('ix_recurring_plans_campaign_id', 'recurring_plans', ['campaign_id'], unique=False)
    op.create_index('ix_recurring_plans_next_charge_at', 'recurring_plans', ['next_charge_at'], unique=False)
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_live', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('recurring_plan_id', sa.String(length=36), nullable=True))
        batch_op.create_index('ix_donations_recurring_plan_id', ['recurring_plan_id'], unique=False)


def downgrade():
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.drop_index('ix_donations_recurring_plan_id')
        batch_op.drop_column('recurring_plan_id')
        batch_op.drop_column('campaign_live')
    op.drop_index('ix_recurring_plans_next_charge_at', table_name='recurring_plans')
    op.drop_index('ix_recurring_plans_campaign_id', table_name='recurring_plans')
    op.drop_index('ix_recurring_plans_donor_id', table_name='recurring_plans')
    op.drop_table('recurring_plans')
    op.drop_index('ix_pool_returns_pool_id', table_name='pool_returns')
    op.drop_table('pool_returns')
    op.drop_index('ix_matches_pool_campaign', table_name='matches')
    op.drop_table('matches')
    op.drop_index('ix_matching_pools_status_created', table_name='matching_pools')
    op.drop_index('ix_matching_pools_patron_id', table_name='matching_pools')
    op.drop_table('matching_pools')
