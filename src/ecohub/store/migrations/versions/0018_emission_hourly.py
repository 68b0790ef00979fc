"""emission_hourly: the measured hourly emissions per outlet × pollutant (Cou, C×Q or stopped), kept by the worker

Revision ID: 0018
Revises: 0013
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('emission_hourly',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('parameter_id', sa.Integer(), nullable=False),
    sa.Column('hour', sa.BigInteger(), nullable=False),
    sa.Column('kg', sa.Float(), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.CheckConstraint("method IN ('cou', 'cxq', 'stopped')", name=op.f('ck_emission_hourly_method')),
    sa.ForeignKeyConstraint(['parameter_id'], ['parameter.id'], name=op.f('fk_emission_hourly_parameter_id_parameter')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_emission_hourly_site_id_site')),
    sa.PrimaryKeyConstraint('site_id', 'parameter_id', 'hour', name=op.f('pk_emission_hourly'))
    )


def downgrade() -> None:
    op.drop_table('emission_hourly')
