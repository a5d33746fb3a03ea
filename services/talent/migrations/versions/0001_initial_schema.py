"""Initial schema: talents (private fields encrypted), programs, applications, scores,
certificates, the scholarship projection, outbox and processed events.

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 10:38:38.617376
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('envelope', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('event_id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_unpublished', ['published_at', 'seq'], unique=False)

    op.create_table('processed_events',
    sa.Column('consumer', sa.String(length=200), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id')
    )
    op.create_table('programs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('mentor_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('regional_quota', sa.Integer(), nullable=True),
    sa.Column('application_deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('min_age', sa.Integer(), nullable=True),
    sa.Column('max_age', sa.Integer(), nullable=True),
    sa.Column('offer_hours', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('enrolled_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('programs', schema=None) as batch_op:
        batch_op.create_index('ix_programs_created', ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programs_mentor_id'), ['mentor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programs_status'), ['status'], unique=False)

    op.create_table('scholarship_campaigns',
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('program_id', sa.String(length=36), nullable=True),
    sa.Column('seat_cost_amount', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('snapshot_raised_amount', sa.BigInteger(), nullable=False),
    sa.Column('donated_amount', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('campaign_id')
    )
    with op.batch_alter_table('scholarship_campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scholarship_campaigns_program_id'), ['program_id'], unique=False)

    op.create_table('talents',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('region', sa.String(length=8), nullable=False),
    sa.Column('fields', sa.Text(), nullable=False),
    sa.Column('bio', sa.Text(), nullable=True),
    sa.Column('birth_date_encrypted', sa.Text(), nullable=False),
    sa.Column('iin_encrypted', sa.Text(), nullable=True),
    sa.Column('guardian_consent_encrypted', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id')
    )
    with op.batch_alter_table('talents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_talents_region'), ['region'], unique=False)

    op.create_table('applications',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('program_id', sa.String(length=36), nullable=False),
    sa.Column('talent_id', sa.String(length=36), nullable=False),
    sa.Column('talent_user_id', sa.String(length=128), nullable=False),
    sa.Column('region', sa.String(length=8), nullable=False),
    sa.Column('motivation', sa.Text(), nullable=False),
    sa.Column('portfolio_urls', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('waitlist_position', sa.Integer(), nullable=True),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('offer_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], ),
    sa.ForeignKeyConstraint(['talent_id'], ['talents.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('program_id', 'talent_id', name='uq_applications_program_talent')
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_program_created', ['program_id', 'created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_region'), ['region'], unique=False)
        batch_op.create_index('ix_applications_status_expires', ['status', 'offer_expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_talent_id'), ['talent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_talent_user_id'), ['talent_user_id'], unique=False)

    op.create_table('certificates',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('application_id', sa.String(length=36), nullable=False),
    sa.Column('talent_id', sa.String(length=36), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('signature', sa.String(length=200), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id')
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_talent_id'), ['talent_id'], unique=False)

    op.create_table('scores',
    sa.Column('application_id', sa.String(length=36), nullable=False),
    sa.Column('mentor_id', sa.String(length=128), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.String(length=2000), nullable=True),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], ),
    sa.PrimaryKeyConstraint('application_id', 'mentor_id')
    )


def downgrade():
    op.drop_table('scores')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_talent_id'))

    op.drop_table('certificates')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_applications_talent_user_id'))
        batch_op.drop_index(batch_op.f('ix_applications_talent_id'))
        batch_op.drop_index('ix_applications_status_expires')
        batch_op.drop_index(batch_op.f('ix_applications_region'))
        batch_op.drop_index('ix_applications_program_created')

    op.drop_table('applications')
    with op.batch_alter_table('talents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_talents_region'))

    op.drop_table('talents')
    with op.batch_alter_table('scholarship_campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scholarship_campaigns_program_id'))

    op.drop_table('scholarship_campaigns')
    with op.batch_alter_table('programs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programs_status'))
        batch_op.drop_index(batch_op.f('ix_programs_mentor_id'))
        batch_op.drop_index('ix_programs_created')

    op.drop_table('programs')
    op.drop_table('processed_events')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unpublished')

    op.drop_table('outbox')
