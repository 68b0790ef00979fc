"""complaint_handling: the 12369 complaint loop — stage with its deadline, handler and supervisor, transfer to the
county, merged duplicates, the inspection and case it led to, reply, return visit (回访), publication

Revision ID: 0019
Revises: 0014b
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

import ecohub.store.types

revision = "0019"
down_revision = ("0014b", "0006")
branch_labels = None
depends_on = None


def upgrade() -> None:
    UTC = ecohub.store.types.UTCTime
    op.create_table('complaint_handling',
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=12), nullable=False),
    sa.Column('stage_since', UTC(), nullable=False),
    sa.Column('stage_due', sa.Date(), nullable=True),
    sa.Column('due_provisional', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('accepted_on', sa.Date(), nullable=True),
    sa.Column('handler', sa.String(length=100), nullable=True),
    sa.Column('supervisor', sa.String(length=100), nullable=True),
    sa.Column('located_region', sa.String(length=6), nullable=True),
    sa.Column('transferred_to', sa.String(length=6), nullable=True),
    sa.Column('merged_into', sa.Integer(), nullable=True),
    sa.Column('inspection_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_at', UTC(), nullable=True),
    sa.Column('satisfaction', sa.String(length=12), nullable=True),
    sa.Column('visit_note', sa.Text(), nullable=True),
    sa.Column('visited_at', UTC(), nullable=True),
    sa.Column('published', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('published_at', UTC(), nullable=True),
    sa.Column('updated_at', UTC(), nullable=False),
    sa.CheckConstraint("stage IN ('received', 'accepted', 'transferred', 'handling', 'handled', 'replied', 'visited', 'closed', 'rejected', 'merged')", name=op.f('ck_complaint_handling_stage')),
    sa.CheckConstraint("satisfaction IS NULL OR satisfaction IN ('satisfied', 'basic', 'unsatisfied')", name=op.f('ck_complaint_handling_satisfaction')),
    sa.CheckConstraint('merged_into IS NULL OR merged_into <> complaint_id', name=op.f('ck_complaint_handling_not_self')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_complaint_handling_complaint_id_complaint')),
    sa.ForeignKeyConstraint(['merged_into'], ['complaint.id'], name=op.f('fk_complaint_handling_merged_into_complaint')),
    sa.ForeignKeyConstraint(['located_region'], ['region.code'], name=op.f('fk_complaint_handling_located_region_region')),
    sa.ForeignKeyConstraint(['transferred_to'], ['region.code'], name=op.f('fk_complaint_handling_transferred_to_region')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], name=op.f('fk_complaint_handling_inspection_id_inspection')),
    sa.ForeignKeyConstraint(['case_id'], ['enf_case.id'], name=op.f('fk_complaint_handling_case_id_enf_case')),
    sa.PrimaryKeyConstraint('complaint_id', name=op.f('pk_complaint_handling'))
    )
    with op.batch_alter_table('complaint_handling', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_handling_stage_due', ['stage', 'stage_due'], unique=False)
        batch_op.create_index('ix_complaint_handling_merged_into', ['merged_into'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaint_handling', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_handling_merged_into')
        batch_op.drop_index('ix_complaint_handling_stage_due')
    op.drop_table('complaint_handling')
