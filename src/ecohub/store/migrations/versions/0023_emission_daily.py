"""emission_daily: per outlet × pollutant × Beijing day the sums of its emission_hourly rows (the annual totals'
rows), filled from the hourly rows that exist

Revision ID: 0023
Revises: 0018
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0018"
branch_labels = None
depends_on = None

DAY = "((hour + 28800) / 86400) * 86400 - 28800"  # start of the Beijing day (UTC+8) of an hour, epoch seconds


def upgrade() -> None:
    op.create_table('emission_daily',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('parameter_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.BigInteger(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('kg', sa.Float(), nullable=False),
    sa.Column('cou', sa.Integer(), nullable=False),
    sa.Column('stopped', sa.Integer(), nullable=False),
    sa.Column('first_hour', sa.BigInteger(), nullable=False),
    sa.Column('last_hour', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['parameter_id'], ['parameter.id'], name=op.f('fk_emission_daily_parameter_id_parameter')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_emission_daily_site_id_site')),
    sa.PrimaryKeyConstraint('site_id', 'parameter_id', 'day', name=op.f('pk_emission_daily')),
    sqlite_with_rowid=False,  # SQLite: the rows stored in key order (a series' days together), no second index
    )
    op.execute(
        "INSERT INTO emission_daily (site_id, parameter_id, day, n, kg, cou, stopped, first_hour, last_hour) "  # noqa: S608 (constants)
        f"SELECT site_id, parameter_id, {DAY}, COUNT(*), SUM(kg), SUM(CASE WHEN method = 'cou' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN method = 'stopped' THEN 1 ELSE 0 END), MIN(hour), MAX(hour) FROM emission_hourly "
        f"GROUP BY site_id, parameter_id, {DAY}")


def downgrade() -> None:
    op.drop_table('emission_daily')
