"""emergency: red lines and change patches, risk sources and substances, receptors, incidents and tasks

Revision ID: 0011
Revises: 0002
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

import ecohub.store.types
from ecohub.store.schema_emergency import PG_GEOM_COLUMNS

revision = "0011"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('redline_patch',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('batch', sa.String(length=200), nullable=True),
    sa.Column('activity', sa.String(length=100), nullable=True),
    sa.Column('observed_on', sa.String(length=10), nullable=True),
    sa.Column('geojson', sa.Text(), nullable=False),
    sa.Column('area_km2', sa.Float(), nullable=False),
    sa.Column('min_lon', sa.Float(), nullable=False),
    sa.Column('min_lat', sa.Float(), nullable=False),
    sa.Column('max_lon', sa.Float(), nullable=False),
    sa.Column('max_lat', sa.Float(), nullable=False),
    sa.Column('imported_at', ecohub.store.types.UTCTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redline_patch')),
    sa.UniqueConstraint('code', name=op.f('uq_redline_patch_code'))
    )
    op.create_table('receptor',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('geojson', sa.Text(), nullable=True),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('imported_at', ecohub.store.types.UTCTime(), nullable=False),
    sa.CheckConstraint('lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90', name=op.f('ck_receptor_position')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_receptor_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receptor')),
    sa.UniqueConstraint('code', name=op.f('uq_receptor_code'))
    )
    op.create_index('ix_receptor_lat_lon', 'receptor', ['lat', 'lon'], unique=False)
    op.create_table('redline',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('geojson', sa.Text(), nullable=False),
    sa.Column('area_km2', sa.Float(), nullable=False),
    sa.Column('min_lon', sa.Float(), nullable=False),
    sa.Column('min_lat', sa.Float(), nullable=False),
    sa.Column('max_lon', sa.Float(), nullable=False),
    sa.Column('max_lat', sa.Float(), nullable=False),
    sa.Column('source_datum', sa.String(length=8), nullable=False),
    sa.Column('source_name', sa.String(length=200), nullable=True),
    sa.Column('imported_at', ecohub.store.types.UTCTime(), nullable=False),
    sa.Column('imported_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_redline_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redline')),
    sa.UniqueConstraint('code', name=op.f('uq_redline_code'))
    )
    op.create_index('ix_redline_bbox', 'redline', ['min_lon', 'max_lon', 'min_lat', 'max_lat'], unique=False)
    op.create_table('incident',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('occurred_at', ecohub.store.types.UTCTime(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('substance', sa.String(length=200), nullable=True),
    sa.Column('amount_kg', sa.Float(), nullable=True),
    sa.Column('source_desc', sa.Text(), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(length=4), nullable=True),
    sa.Column('level_basis', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('dispersion', sa.JSON(), nullable=True),
    sa.Column('reported_by', sa.String(length=100), nullable=True),
    sa.Column('reported_at', ecohub.store.types.UTCTime(), nullable=False),
    sa.Column('closed_at', ecohub.store.types.UTCTime(), nullable=True),
    sa.Column('closed_by', sa.String(length=100), nullable=True),
    sa.Column('updated_at', ecohub.store.types.UTCTime(), nullable=False),
    sa.CheckConstraint("status IN ('reported', 'responding', 'closed')", name=op.f('ck_incident_status')),
    sa.CheckConstraint('lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90', name=op.f('ck_incident_position')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_incident_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_incident_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident')),
    sa.UniqueConstraint('code', name=op.f('uq_incident_code'))
    )
    op.create_index('ix_incident_region_code', 'incident', ['region_code'], unique=False)
    op.create_table('risk_source',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('process_m', sa.Integer(), nullable=True),
    sa.Column('e_level', sa.String(length=2), nullable=True),
    sa.Column('q_ratio', sa.Float(), nullable=True),
    sa.Column('grade', sa.String(length=16), nullable=True),
    sa.Column('grade_code', sa.String(length=40), nullable=True),
    sa.Column('grade_detail', sa.JSON(), nullable=True),
    sa.Column('plan_record_no', sa.String(length=64), nullable=True),
    sa.Column('plan_filed_on', sa.String(length=10), nullable=True),
    sa.Column('plan_valid_until', sa.String(length=10), nullable=True),
    sa.Column('supplies', sa.JSON(), nullable=True),
    sa.Column('contacts', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=12), server_default='draft', nullable=False),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('updated_at', ecohub.store.types.UTCTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'approved', 'rejected')", name=op.f('ck_risk_source_status')),
    sa.CheckConstraint('lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90', name=op.f('ck_risk_source_position')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_risk_source_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_risk_source_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_source')),
    sa.UniqueConstraint('enterprise_id', name=op.f('uq_risk_source_enterprise_id'))
    )
    op.create_index('ix_risk_source_region_code', 'risk_source', ['region_code'], unique=False)
    op.create_table('incident_task',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=True),
    sa.Column('due_at', ecohub.store.types.UTCTime(), nullable=True),
    sa.Column('done_at', ecohub.store.types.UTCTime(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('created_at', ecohub.store.types.UTCTime(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_task_incident_id_incident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_task'))
    )
    op.create_index('ix_incident_task_incident_id', 'incident_task', ['incident_id'], unique=False)
    op.create_table('risk_substance',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('risk_source_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('cas', sa.String(length=20), nullable=True),
    sa.Column('quantity_t', sa.Float(), nullable=False),
    sa.Column('critical_t', sa.Float(), nullable=True),
    sa.Column('ratio', sa.Float(), nullable=True),
    sa.CheckConstraint('quantity_t >= 0', name=op.f('ck_risk_substance_quantity')),
    sa.ForeignKeyConstraint(['risk_source_id'], ['risk_source.id'], name=op.f('fk_risk_substance_risk_source_id_risk_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_substance'))
    )
    op.create_index('ix_risk_substance_risk_source_id', 'risk_substance', ['risk_source_id'], unique=False)
    _postgis()


def _postgis() -> None:
    """PostgreSQL only: generated PostGIS geometry columns (from the GeoJSON text or lon/lat), GiST-indexed."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    for table, expr in PG_GEOM_COLUMNS.items():
        kind = "MultiPolygon" if "GeoJSON" in expr else "Point"
        op.execute(f"ALTER TABLE {table} ADD COLUMN geom geometry({kind}, 4326) GENERATED ALWAYS AS ({expr}) STORED")
        op.execute(f"CREATE INDEX ix_{table}_geom ON {table} USING gist (geom)")


def downgrade() -> None:
    op.drop_index('ix_risk_substance_risk_source_id', table_name='risk_substance')
    op.drop_table('risk_substance')
    op.drop_index('ix_incident_task_incident_id', table_name='incident_task')
    op.drop_table('incident_task')
    op.drop_index('ix_risk_source_region_code', table_name='risk_source')
    op.drop_table('risk_source')
    op.drop_index('ix_incident_region_code', table_name='incident')
    op.drop_table('incident')
    op.drop_index('ix_redline_bbox', table_name='redline')
    op.drop_table('redline')
    op.drop_index('ix_receptor_lat_lon', table_name='receptor')
    op.drop_table('receptor')
    op.drop_table('redline_patch')
