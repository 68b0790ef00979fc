"""initial schema: regions, parameters, enterprises, sites, devices, series, observations (+ conflicts,
corrections, latest), quarantine, ingest log. PostgreSQL: PostGIS point on site, observation partitioned by month.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

import ecohub.store.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('correction',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('time', ecohub.store.types.UTCTime(), nullable=False),
    sa.Column('source_id', sa.SmallInteger(), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('flag', sa.String(length=4), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('created_at', ecohub.store.types.UTCTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_correction'))
    )
    with op.batch_alter_table('correction', schema=None) as batch_op:
        batch_op.create_index('ix_correction_series', ['series_id', 'time'], unique=False)

    op.create_table('ingest_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('origin', sa.String(length=500), nullable=False),
    sa.Column('started_at', ecohub.store.types.UTCTime(), nullable=False),
    sa.Column('finished_at', ecohub.store.types.UTCTime(), nullable=True),
    sa.Column('imported', sa.Integer(), server_default='0', nullable=False),
    sa.Column('duplicates', sa.Integer(), server_default='0', nullable=False),
    sa.Column('conflicts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rejected', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingest_log'))
    )
    op.create_table('latest',
    sa.Column('series_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('time', ecohub.store.types.UTCTime(), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('flag', sa.String(length=4), nullable=True),
    sa.Column('source_id', sa.SmallInteger(), nullable=False),
    sa.Column('received_at', ecohub.store.types.UTCTime(), nullable=False),
    sa.PrimaryKeyConstraint('series_id', name=op.f('pk_latest'))
    )
    op.create_table('observation',
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('time', ecohub.store.types.UTCTime(), nullable=False),
    sa.Column('source_id', sa.SmallInteger(), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('flag', sa.String(length=4), nullable=True),
    sa.Column('received_at', ecohub.store.types.UTCTime(), nullable=False),
    sa.PrimaryKeyConstraint('series_id', 'time', 'source_id', name=op.f('pk_observation')),
    sqlite_with_rowid=False,
    postgresql_partition_by='RANGE (time)',  # monthly partitions are created by the writer on demand
    )
    op.create_table('observation_conflict',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('time', ecohub.store.types.UTCTime(), nullable=False),
    sa.Column('source_id', sa.SmallInteger(), nullable=False),
    sa.Column('stored_value', sa.Float(), nullable=True),
    sa.Column('stored_flag', sa.String(length=4), nullable=True),
    sa.Column('new_value', sa.Float(), nullable=True),
    sa.Column('new_flag', sa.String(length=4), nullable=True),
    sa.Column('origin', sa.String(length=500), nullable=True),
    sa.Column('received_at', ecohub.store.types.UTCTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observation_conflict'))
    )
    with op.batch_alter_table('observation_conflict', schema=None) as batch_op:
        batch_op.create_index('ix_observation_conflict_series', ['series_id', 'time'], unique=False)

    op.create_table('parameter',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('domain', sa.String(length=16), nullable=False),
    sa.Column('hj212_2017', sa.String(length=16), nullable=True),
    sa.Column('hj212_2005', sa.String(length=16), nullable=True),
    sa.Column('decimals', sa.SmallInteger(), server_default='3', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parameter')),
    sa.UniqueConstraint('name', name=op.f('uq_parameter_name'))
    )
    op.create_table('quarantine',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('origin', sa.String(length=500), nullable=False),
    sa.Column('line', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=True),
    sa.Column('received_at', ecohub.store.types.UTCTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantine'))
    )
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.create_index('ix_quarantine_received_at', ['received_at'], unique=False)

    op.create_table('region',
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('parent', sa.String(length=6), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.CheckConstraint('level BETWEEN 1 AND 3', name=op.f('ck_region_level')),
    sa.ForeignKeyConstraint(['parent'], ['region.code'], name=op.f('fk_region_parent_region')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_region'))
    )
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.create_index('ix_region_parent', ['parent'], unique=False)

    op.create_table('source',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source')),
    sa.UniqueConstraint('name', name=op.f('uq_source_name'))
    )
    op.create_table('enterprise',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('created_at', ecohub.store.types.UTCTime(), nullable=False),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_enterprise_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise')),
    sa.UniqueConstraint('uscc', name=op.f('uq_enterprise_uscc'))
    )
    op.create_table('site',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('attrs', sa.JSON(), nullable=True),
    sa.Column('created_at', ecohub.store.types.UTCTime(), nullable=False),
    sa.CheckConstraint('lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90', name=op.f('ck_site_position')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_site_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_site_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site')),
    sa.UniqueConstraint('code', name=op.f('uq_site_code'))
    )
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.create_index('ix_site_kind', ['kind'], unique=False)
        batch_op.create_index('ix_site_region_code', ['region_code'], unique=False)

    op.create_table('device',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('mn', sa.String(length=64), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('protocol', sa.String(length=8), server_default='2017', nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('sm4_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', ecohub.store.types.UTCTime(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_device_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device')),
    sa.UniqueConstraint('mn', name=op.f('uq_device_mn'))
    )
    op.create_table('series',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('parameter_id', sa.SmallInteger(), nullable=False),
    sa.Column('interval', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['parameter_id'], ['parameter.id'], name=op.f('fk_series_parameter_id_parameter')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_series_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series')),
    sa.UniqueConstraint('site_id', 'parameter_id', 'interval', name=op.f('uq_series_site_id_parameter_id_interval'))
    )
    _postgis()


def _postgis() -> None:
    """PostgreSQL only: PostGIS point generated from lon/lat, with a GiST index."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute(
        "ALTER TABLE site ADD COLUMN geom geometry(Point, 4326) "
        "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED"
    )
    op.execute("CREATE INDEX ix_site_geom ON site USING gist (geom)")


def downgrade() -> None:
    op.drop_table('series')
    op.drop_table('device')
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_index('ix_site_region_code')
        batch_op.drop_index('ix_site_kind')

    op.drop_table('site')
    op.drop_table('enterprise')
    op.drop_table('source')
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.drop_index('ix_region_parent')

    op.drop_table('region')
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_index('ix_quarantine_received_at')

    op.drop_table('quarantine')
    op.drop_table('parameter')
    with op.batch_alter_table('observation_conflict', schema=None) as batch_op:
        batch_op.drop_index('ix_observation_conflict_series')

    op.drop_table('observation_conflict')
    op.drop_table('observation')
    op.drop_table('latest')
    op.drop_table('ingest_log')
    with op.batch_alter_table('correction', schema=None) as batch_op:
        batch_op.drop_index('ix_correction_series')

    op.drop_table('correction')
