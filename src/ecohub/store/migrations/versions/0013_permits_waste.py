"""permits and waste: permit register (permits, versions, outlets, tonnage), self-monitoring plans, execution
reports; hazardous-waste codes, licences, manifests and their events, ledger; permit_limit gains permit_id and
standard (the limits imported before the register are the register's limit rows: attached, never copied)

Revision ID: 0013
Revises: 0005
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

import ecohub.store.types

revision = "0013"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    UTC = ecohub.store.types.UTCTime
    op.create_table('waste_code',
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('category', sa.String(length=4), nullable=False),
    sa.Column('industry', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('hazard', sa.String(length=16), nullable=False),
    sa.Column('edition', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_waste_code'))
    )
    with op.batch_alter_table('waste_code', schema=None) as batch_op:
        batch_op.create_index('ix_waste_code_category', ['category'], unique=False)

    op.create_table('manifest',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('generator_id', sa.Integer(), nullable=False),
    sa.Column('receiver_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('quantity_t', sa.Float(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('cross_region', sa.Boolean(), nullable=False),
    sa.Column('approval_ref', sa.String(length=64), nullable=True),
    sa.Column('transporter', sa.String(length=200), nullable=True),
    sa.Column('vehicle', sa.String(length=32), nullable=True),
    sa.Column('dispatched_at', UTC(), nullable=True),
    sa.Column('deadline_at', UTC(), nullable=True),
    sa.Column('received_at', UTC(), nullable=True),
    sa.Column('received_quantity_t', sa.Float(), nullable=True),
    sa.Column('closed_at', UTC(), nullable=True),
    sa.Column('created_at', UTC(), nullable=False),
    sa.Column('updated_at', UTC(), nullable=False),
    sa.CheckConstraint("state IN ('created', 'approved', 'dispatched', 'received', 'closed', 'cancelled')", name=op.f('ck_manifest_state')),
    sa.CheckConstraint('quantity_t > 0', name=op.f('ck_manifest_quantity_positive')),
    sa.ForeignKeyConstraint(['code'], ['waste_code.code'], name=op.f('fk_manifest_code_waste_code')),
    sa.ForeignKeyConstraint(['generator_id'], ['enterprise.id'], name=op.f('fk_manifest_generator_id_enterprise')),
    sa.ForeignKeyConstraint(['receiver_id'], ['enterprise.id'], name=op.f('fk_manifest_receiver_id_enterprise')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifest')),
    sa.UniqueConstraint('number', name=op.f('uq_manifest_number'))
    )
    with op.batch_alter_table('manifest', schema=None) as batch_op:
        batch_op.create_index('ix_manifest_generator_id', ['generator_id'], unique=False)
        batch_op.create_index('ix_manifest_receiver_id', ['receiver_id'], unique=False)
        batch_op.create_index('ix_manifest_state', ['state'], unique=False)

    op.create_table('permit',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('industry', sa.String(length=100), nullable=True),
    sa.Column('authority', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('created_at', UTC(), nullable=False),
    sa.Column('updated_at', UTC(), nullable=False),
    sa.CheckConstraint("category IN ('key', 'simplified', 'registration')", name=op.f('ck_permit_category')),
    sa.CheckConstraint("status IN ('valid', 'revoked')", name=op.f('ck_permit_status')),
    sa.CheckConstraint('valid_to >= valid_from', name=op.f('ck_permit_validity')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_permit_enterprise_id_enterprise')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit')),
    sa.UniqueConstraint('number', name=op.f('uq_permit_number'))
    )
    with op.batch_alter_table('permit', schema=None) as batch_op:
        batch_op.create_index('ix_permit_enterprise_id', ['enterprise_id'], unique=False)

    op.create_table('waste_licence',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('licence_no', sa.String(length=64), nullable=False),
    sa.Column('codes', sa.JSON(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('created_at', UTC(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_waste_licence_enterprise_id_enterprise')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waste_licence')),
    sa.UniqueConstraint('licence_no', name=op.f('uq_waste_licence_licence_no'))
    )
    with op.batch_alter_table('waste_licence', schema=None) as batch_op:
        batch_op.create_index('ix_waste_licence_enterprise_id', ['enterprise_id'], unique=False)

    op.create_table('manifest_event',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('manifest_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.String(length=12), nullable=True),
    sa.Column('to_state', sa.String(length=12), nullable=False),
    sa.Column('at', UTC(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifest.id'], name=op.f('fk_manifest_event_manifest_id_manifest')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifest_event')),
    sa.UniqueConstraint('manifest_id', 'seq', name=op.f('uq_manifest_event_manifest_id_seq'))
    )
    op.create_table('monitoring_plan',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('parameter_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=12), nullable=False),
    sa.Column('frequency', sa.String(length=12), nullable=False),
    sa.CheckConstraint("frequency IN ('hour', 'day', 'week', 'month', 'quarter', 'half_year', 'year')", name=op.f('ck_monitoring_plan_frequency')),
    sa.CheckConstraint("method IN ('automatic', 'manual')", name=op.f('ck_monitoring_plan_method')),
    sa.ForeignKeyConstraint(['parameter_id'], ['parameter.id'], name=op.f('fk_monitoring_plan_parameter_id_parameter')),
    sa.ForeignKeyConstraint(['permit_id'], ['permit.id'], name=op.f('fk_monitoring_plan_permit_id_permit')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_monitoring_plan_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_plan')),
    sa.UniqueConstraint('site_id', 'parameter_id', name=op.f('uq_monitoring_plan_site_id_parameter_id'))
    )
    op.create_table('permit_outlet',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('outlet_code', sa.String(length=16), nullable=False),
    sa.Column('outlet_type', sa.String(length=12), nullable=False),
    sa.CheckConstraint("outlet_type IN ('main', 'general', 'special')", name=op.f('ck_permit_outlet_outlet_type')),
    sa.ForeignKeyConstraint(['permit_id'], ['permit.id'], name=op.f('fk_permit_outlet_permit_id_permit')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_permit_outlet_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit_outlet')),
    sa.UniqueConstraint('permit_id', 'outlet_code', name=op.f('uq_permit_outlet_permit_id_outlet_code')),
    sa.UniqueConstraint('site_id', name=op.f('uq_permit_outlet_site_id'))
    )
    op.create_table('permit_report',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('prefilled', sa.JSON(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('submitted_at', UTC(), nullable=False),
    sa.Column('submitted_by', sa.String(length=100), nullable=True),
    sa.Column('reviewed_at', UTC(), nullable=True),
    sa.Column('reviewed_by', sa.String(length=100), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('month', 'quarter', 'year')", name=op.f('ck_permit_report_kind')),
    sa.CheckConstraint("state IN ('submitted', 'accepted', 'returned')", name=op.f('ck_permit_report_state')),
    sa.ForeignKeyConstraint(['permit_id'], ['permit.id'], name=op.f('fk_permit_report_permit_id_permit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit_report')),
    sa.UniqueConstraint('permit_id', 'kind', 'period', name=op.f('uq_permit_report_permit_id_kind_period'))
    )
    op.create_table('permit_tonnage',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('parameter_id', sa.Integer(), nullable=False),
    sa.Column('tonnes_per_year', sa.Float(), nullable=False),
    sa.CheckConstraint('tonnes_per_year > 0', name=op.f('ck_permit_tonnage_positive')),
    sa.ForeignKeyConstraint(['parameter_id'], ['parameter.id'], name=op.f('fk_permit_tonnage_parameter_id_parameter')),
    sa.ForeignKeyConstraint(['permit_id'], ['permit.id'], name=op.f('fk_permit_tonnage_permit_id_permit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit_tonnage')),
    sa.UniqueConstraint('permit_id', 'parameter_id', name=op.f('uq_permit_tonnage_permit_id_parameter_id'))
    )
    op.create_table('permit_version',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('origin', sa.String(length=500), nullable=True),
    sa.Column('recorded_at', UTC(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=True),
    sa.CheckConstraint("kind IN ('issue', 'renewal', 'change', 'revocation')", name=op.f('ck_permit_version_kind')),
    sa.ForeignKeyConstraint(['permit_id'], ['permit.id'], name=op.f('fk_permit_version_permit_id_permit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit_version')),
    sa.UniqueConstraint('permit_id', 'seq', name=op.f('uq_permit_version_permit_id_seq'))
    )
    op.create_table('waste_ledger',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('quantity_t', sa.Float(), nullable=False),
    sa.Column('at', UTC(), nullable=False),
    sa.Column('manifest_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=100), nullable=True),
    sa.CheckConstraint("kind IN ('generated', 'shipped', 'received')", name=op.f('ck_waste_ledger_kind')),
    sa.CheckConstraint('quantity_t > 0', name=op.f('ck_waste_ledger_quantity_positive')),
    sa.ForeignKeyConstraint(['code'], ['waste_code.code'], name=op.f('fk_waste_ledger_code_waste_code')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_waste_ledger_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifest.id'], name=op.f('fk_waste_ledger_manifest_id_manifest')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waste_ledger'))
    )
    with op.batch_alter_table('waste_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_waste_ledger_enterprise_code', ['enterprise_id', 'code'], unique=False)

    op.create_table('monitoring_report',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('sampled_on', sa.Date(), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('lab', sa.String(length=200), nullable=True),
    sa.Column('filed_at', UTC(), nullable=False),
    sa.Column('filed_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['monitoring_plan.id'], name=op.f('fk_monitoring_report_plan_id_monitoring_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_report'))
    )
    with op.batch_alter_table('monitoring_report', schema=None) as batch_op:
        batch_op.create_index('ix_monitoring_report_plan_id', ['plan_id', 'sampled_on'], unique=False)

    with op.batch_alter_table('permit_limit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('permit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('standard', sa.String(length=100), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_permit_limit_permit_id_permit'), 'permit', ['permit_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('permit_limit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_permit_limit_permit_id_permit'), type_='foreignkey')
        batch_op.drop_column('standard')
        batch_op.drop_column('permit_id')

    with op.batch_alter_table('monitoring_report', schema=None) as batch_op:
        batch_op.drop_index('ix_monitoring_report_plan_id')

    op.drop_table('monitoring_report')
    with op.batch_alter_table('waste_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_waste_ledger_enterprise_code')

    op.drop_table('waste_ledger')
    op.drop_table('permit_version')
    op.drop_table('permit_tonnage')
    op.drop_table('permit_report')
    op.drop_table('permit_outlet')
    op.drop_table('monitoring_plan')
    op.drop_table('manifest_event')
    with op.batch_alter_table('waste_licence', schema=None) as batch_op:
        batch_op.drop_index('ix_waste_licence_enterprise_id')

    op.drop_table('waste_licence')
    with op.batch_alter_table('permit', schema=None) as batch_op:
        batch_op.drop_index('ix_permit_enterprise_id')

    op.drop_table('permit')
    with op.batch_alter_table('manifest', schema=None) as batch_op:
        batch_op.drop_index('ix_manifest_state')
        batch_op.drop_index('ix_manifest_receiver_id')
        batch_op.drop_index('ix_manifest_generator_id')

    op.drop_table('manifest')
    with op.batch_alter_table('waste_code', schema=None) as batch_op:
        batch_op.drop_index('ix_waste_code_category')

    op.drop_table('waste_code')
