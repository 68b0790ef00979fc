"""inspection records: random and targeted inspections with checklist, findings, inspectors, location and time;
attachments (photos, PDFs) stored with their SHA-256, size and checked content type

Revision ID: 0014b
Revises: 0014
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

import ecohub.store.types

revision = "0014b"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    UTC = ecohub.store.types.UTCTime
    op.create_table('inspection',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('draw_item_id', sa.Integer(), nullable=True),
    sa.Column('trigger_kind', sa.String(length=12), nullable=True),
    sa.Column('trigger_ref', sa.String(length=64), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('inspected_at', UTC(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('inspectors', sa.JSON(), nullable=False),
    sa.Column('industry', sa.String(length=40), nullable=True),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', UTC(), nullable=False),
    sa.CheckConstraint("kind = 'random' OR trigger_kind IS NOT NULL", name=op.f('ck_inspection_targeted_trigger')),
    sa.CheckConstraint("kind IN ('random', 'targeted')", name=op.f('ck_inspection_kind')),
    sa.ForeignKeyConstraint(['draw_item_id'], ['insp_draw_item.id'], name=op.f('fk_inspection_draw_item_id_insp_draw_item')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_inspection_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_inspection_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection'))
    )
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.create_index('ix_inspection_enterprise_id', ['enterprise_id', 'inspected_at'], unique=False)

    op.create_table('insp_attachment',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', UTC(), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], name=op.f('fk_insp_attachment_inspection_id_inspection')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insp_attachment'))
    )
    with op.batch_alter_table('insp_attachment', schema=None) as batch_op:
        batch_op.create_index('ix_insp_attachment_inspection_id', ['inspection_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('insp_attachment', schema=None) as batch_op:
        batch_op.drop_index('ix_insp_attachment_inspection_id')

    op.drop_table('insp_attachment')
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.drop_index('ix_inspection_enterprise_id')

    op.drop_table('inspection')
