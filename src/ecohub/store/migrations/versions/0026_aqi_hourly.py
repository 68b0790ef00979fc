"""aqi_hourly: the maintained hourly AQI of every air station (filled by the worker's next pass)

Revision ID: 0026
Revises: 0009
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

from ecohub.store.types import UTCTime

revision = "0026"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('aqi_hourly',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('time', UTCTime(), nullable=False),
    sa.Column('aqi', sa.SmallInteger(), nullable=True),
    sa.Column('level', sa.SmallInteger(), nullable=True),
    sa.Column('primary_pollutant', sa.String(length=64), nullable=True),
    sa.Column('computed_at', UTCTime(), nullable=False),
    sa.PrimaryKeyConstraint('code', 'time', name=op.f('pk_aqi_hourly')),
    sqlite_with_rowid=False,
    )
    op.create_index('ix_aqi_hourly_time', 'aqi_hourly', ['time'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_aqi_hourly_time', table_name='aqi_hourly')
    op.drop_table('aqi_hourly')
