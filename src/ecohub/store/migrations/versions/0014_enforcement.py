"""inspection and enforcement: enforcement cases (steps, penalties, documents), random-inspection directories and
draws (双随机), enterprise environmental credit ratings (versioned) and the blacklist with credit repair

Revision ID: 0014
Revises: 0002
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

import ecohub.store.types

revision = "0014"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    UTC = ecohub.store.types.UTCTime
    op.create_table('insp_draw',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('scope_code', sa.String(length=6), nullable=False),
    sa.Column('seed', sa.String(length=100), nullable=False),
    sa.Column('algorithm', sa.String(length=60), nullable=False),
    sa.Column('ratios', sa.JSON(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('objects_sha256', sa.String(length=64), nullable=False),
    sa.Column('inspectors_sha256', sa.String(length=64), nullable=False),
    sa.Column('result_sha256', sa.String(length=64), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('drawn_at', UTC(), nullable=False),
    sa.Column('drawn_by', sa.String(length=100), nullable=True),
    sa.Column('closed_at', UTC(), nullable=True),
    sa.CheckConstraint("status IN ('drawn', 'published', 'closed')", name=op.f('ck_insp_draw_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insp_draw')),
    sa.UniqueConstraint('period', 'scope_code', name='ux_insp_draw_period')
    )
    op.create_table('inspector',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('qualifications', sa.JSON(), nullable=True),
    sa.Column('linked_enterprises', sa.JSON(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('updated_at', UTC(), nullable=False),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_inspector_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspector')),
    sa.UniqueConstraint('code', name=op.f('uq_inspector_code'))
    )
    with op.batch_alter_table('inspector', schema=None) as batch_op:
        batch_op.create_index('ix_inspector_region_code', ['region_code'], unique=False)

    op.create_table('credit_rating',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('points', sa.JSON(), nullable=False),
    sa.Column('vetoes', sa.JSON(), nullable=False),
    sa.Column('method', sa.String(length=60), nullable=False),
    sa.Column('computed_at', UTC(), nullable=False),
    sa.Column('computed_by', sa.String(length=100), nullable=True),
    sa.CheckConstraint("level IN ('green', 'blue', 'yellow', 'red')", name=op.f('ck_credit_rating_level')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_credit_rating_enterprise_id_enterprise')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_rating')),
    sa.UniqueConstraint('enterprise_id', 'year', 'version', name='ux_credit_rating_version')
    )
    op.create_table('enf_case',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('violation', sa.String(length=40), nullable=False),
    sa.Column('legal_basis', sa.JSON(), nullable=False),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=64), nullable=True),
    sa.Column('discovered_on', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('state_since', UTC(), nullable=False),
    sa.Column('state_due', sa.Date(), nullable=True),
    sa.Column('decision_due', sa.Date(), nullable=True),
    sa.Column('filed_on', sa.Date(), nullable=True),
    sa.Column('notified_on', sa.Date(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('served_on', sa.Date(), nullable=True),
    sa.Column('owner', sa.String(length=100), nullable=False),
    sa.Column('supervisor', sa.String(length=100), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('published', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('opened_at', UTC(), nullable=False),
    sa.Column('updated_at', UTC(), nullable=False),
    sa.CheckConstraint("source_kind IN ('alert', 'complaint', 'inspection', 'other')", name=op.f('ck_enf_case_source_kind')),
    sa.CheckConstraint("state IN ('clue', 'filed', 'investigating', 'notified', 'hearing', 'decided', 'executing', 'closed', 'not_filed', 'revoked')", name=op.f('ck_enf_case_state')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_enf_case_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_enf_case_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enf_case')),
    sa.UniqueConstraint('number', name=op.f('uq_enf_case_number'))
    )
    with op.batch_alter_table('enf_case', schema=None) as batch_op:
        batch_op.create_index('ix_enf_case_enterprise_id', ['enterprise_id'], unique=False)
        batch_op.create_index('ix_enf_case_region_code', ['region_code'], unique=False)
        batch_op.create_index('ix_enf_case_state_due', ['state', 'state_due'], unique=False)

    op.create_table('insp_draw_item',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('inspector_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['draw_id'], ['insp_draw.id'], name=op.f('fk_insp_draw_item_draw_id_insp_draw')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_insp_draw_item_enterprise_id_enterprise')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insp_draw_item')),
    sa.UniqueConstraint('draw_id', 'enterprise_id', name='ux_insp_draw_item')
    )
    with op.batch_alter_table('insp_draw_item', schema=None) as batch_op:
        batch_op.create_index('ix_insp_draw_item_draw_id', ['draw_id'], unique=False)

    op.create_table('insp_object',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('updated_at', UTC(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_insp_object_enterprise_id_enterprise')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insp_object')),
    sa.UniqueConstraint('enterprise_id', name=op.f('uq_insp_object_enterprise_id'))
    )
    op.create_table('credit_blacklist',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('rating_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('repair_applied_on', sa.Date(), nullable=True),
    sa.Column('repair_statement', sa.Text(), nullable=True),
    sa.Column('repair_conditions', sa.JSON(), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('restored_on', sa.Date(), nullable=True),
    sa.Column('updated_at', UTC(), nullable=False),
    sa.CheckConstraint("status IN ('listed', 'applied', 'restored', 'refused')", name=op.f('ck_credit_blacklist_status')),
    sa.ForeignKeyConstraint(['case_id'], ['enf_case.id'], name=op.f('fk_credit_blacklist_case_id_enf_case')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_credit_blacklist_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['rating_id'], ['credit_rating.id'], name=op.f('fk_credit_blacklist_rating_id_credit_rating')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_blacklist'))
    )
    with op.batch_alter_table('credit_blacklist', schema=None) as batch_op:
        batch_op.create_index('ix_credit_blacklist_enterprise_id', ['enterprise_id'], unique=False)

    op.create_table('enf_case_event',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('at', UTC(), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['enf_case.id'], name=op.f('fk_enf_case_event_case_id_enf_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enf_case_event'))
    )
    with op.batch_alter_table('enf_case_event', schema=None) as batch_op:
        batch_op.create_index('ix_enf_case_event_case_id', ['case_id'], unique=False)

    op.create_table('enf_document',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', UTC(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['enf_case.id'], name=op.f('fk_enf_document_case_id_enf_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enf_document'))
    )
    with op.batch_alter_table('enf_document', schema=None) as batch_op:
        batch_op.create_index('ix_enf_document_case_id', ['case_id'], unique=False)

    op.create_table('enf_penalty',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount_yuan', sa.Float(), nullable=True),
    sa.Column('base_yuan', sa.Float(), nullable=True),
    sa.Column('from_date', sa.Date(), nullable=True),
    sa.Column('to_date', sa.Date(), nullable=True),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('created_at', UTC(), nullable=False),
    sa.CheckConstraint("kind IN ('warning', 'fine', 'daily_fine', 'confiscation', 'suspension', 'permit_revocation', 'order_correction')", name=op.f('ck_enf_penalty_kind')),
    sa.CheckConstraint('amount_yuan IS NULL OR amount_yuan >= 0', name=op.f('ck_enf_penalty_amount')),
    sa.ForeignKeyConstraint(['case_id'], ['enf_case.id'], name=op.f('fk_enf_penalty_case_id_enf_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enf_penalty'))
    )
    with op.batch_alter_table('enf_penalty', schema=None) as batch_op:
        batch_op.create_index('ix_enf_penalty_case_id', ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('enf_penalty', schema=None) as batch_op:
        batch_op.drop_index('ix_enf_penalty_case_id')

    op.drop_table('enf_penalty')
    with op.batch_alter_table('enf_document', schema=None) as batch_op:
        batch_op.drop_index('ix_enf_document_case_id')

    op.drop_table('enf_document')
    with op.batch_alter_table('enf_case_event', schema=None) as batch_op:
        batch_op.drop_index('ix_enf_case_event_case_id')

    op.drop_table('enf_case_event')
    with op.batch_alter_table('credit_blacklist', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_blacklist_enterprise_id')

    op.drop_table('credit_blacklist')
    op.drop_table('insp_object')
    with op.batch_alter_table('insp_draw_item', schema=None) as batch_op:
        batch_op.drop_index('ix_insp_draw_item_draw_id')

    op.drop_table('insp_draw_item')
    with op.batch_alter_table('enf_case', schema=None) as batch_op:
        batch_op.drop_index('ix_enf_case_state_due')
        batch_op.drop_index('ix_enf_case_region_code')
        batch_op.drop_index('ix_enf_case_enterprise_id')

    op.drop_table('enf_case')
    op.drop_table('credit_rating')
    with op.batch_alter_table('inspector', schema=None) as batch_op:
        batch_op.drop_index('ix_inspector_region_code')

    op.drop_table('inspector')
    op.drop_table('insp_draw')
