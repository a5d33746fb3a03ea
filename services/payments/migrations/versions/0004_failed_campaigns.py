"""Failed campaigns known to payments, so gifts captured after a failure are refunded.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'failed_campaigns',
        sa.Column('campaign_id', sa.String(length=36), nullable=False),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('campaign_id'),
    )


def downgrade():
    op.drop_table('failed_campaigns')
