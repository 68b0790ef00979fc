"""Tables of environmental emergencies and spatial supervision (``ecohub.emergency``).

Geometries are stored as GeoJSON text in WGS-84 (lon, lat) on both backends, with their bounding box for
prefiltering; on PostgreSQL the migration adds a generated PostGIS column ``geom`` (SRID 4326, GiST index)
computed from that text, so spatial checks run in the database there and in shapely on SQLite.

* ``redline`` — ecological protection red-line polygons (生态保护红线): code, name, type, the datum they came in.
* ``redline_patch`` — change patches (polygons of new human activity from remote-sensing interpretation).
* ``risk_source`` / ``risk_substance`` — the risk-source register (一源一档) with its HJ 169/HJ 941 grading inputs
  and results, emergency plan filing (备案), supplies and contacts; ``status`` draft → submitted → approved.
* ``receptor`` — sensitive receptors (schools, hospitals, residential areas, water intakes and protection
  zones, nature reserves): a point, optionally a polygon, type and population.
* ``incident`` / ``incident_task`` — 突发环境事件 and their timeline (monitoring points, sampling results,
  actions, notifications) with owners and deadlines; ``dispersion`` keeps the last model run (inputs+result).
"""

from __future__ import annotations

from sqlalchemy import JSON, CheckConstraint, Column, Float, ForeignKey, Index, Integer, String, Table, Text

from ecohub.store.schema import metadata
from ecohub.store.types import UTCTime

REDLINE_TYPES = ("water_conservation", "biodiversity", "soil_conservation", "sand_fixation", "coastal",
                 "soil_erosion", "desertification", "other")
RECEPTOR_TYPES = ("school", "hospital", "residential", "water_intake", "water_protection_zone", "nature_reserve",
                  "other")
RISK_STATUSES = ("draft", "submitted", "approved", "rejected")
INCIDENT_STATUSES = ("reported", "responding", "closed")
INCIDENT_LEVELS = ("I", "II", "III", "IV")


def _bbox() -> list[Column]:
    return [Column("min_lon", Float, nullable=False), Column("min_lat", Float, nullable=False),
            Column("max_lon", Float, nullable=False), Column("max_lat", Float, nullable=False)]


redline = Table(
    "redline", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("type", String(32), nullable=False),
    Column("region_code", String(6), ForeignKey("region.code"), nullable=True),  # county of its largest part
    Column("geojson", Text, nullable=False),  # MultiPolygon, WGS-84
    Column("area_km2", Float, nullable=False),
    *_bbox(),
    Column("source_datum", String(8), nullable=False),  # wgs84 | gcj02 (converted on import)
    Column("source_name", String(200), nullable=True),
    Column("imported_at", UTCTime, nullable=False),
    Column("imported_by", String(100), nullable=True),
)
Index("ix_redline_bbox", redline.c.min_lon, redline.c.max_lon, redline.c.min_lat, redline.c.max_lat)

redline_patch = Table(
    "redline_patch", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("batch", String(200), nullable=True),
    Column("activity", String(100), nullable=True),  # e.g. construction, mining, road
    Column("observed_on", String(10), nullable=True),  # YYYY-MM-DD of the imagery
    Column("geojson", Text, nullable=False),
    Column("area_km2", Float, nullable=False),
    *_bbox(),
    Column("imported_at", UTCTime, nullable=False),
)

risk_source = Table(
    "risk_source", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("enterprise_id", Integer, ForeignKey("enterprise.id"), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("region_code", String(6), ForeignKey("region.code"), nullable=False),
    Column("process_m", Integer, nullable=True),  # HJ 941 M score (process and risk-control level)
    Column("e_level", String(2), nullable=True),  # HJ 941 environment sensitivity E1/E2/E3
    Column("q_ratio", Float, nullable=True),
    Column("grade", String(16), nullable=True),  # general | larger | major (一般/较大/重大)
    Column("grade_code", String(40), nullable=True),  # e.g. 较大-大气(Q2-M2-E1)
    Column("grade_detail", JSON, nullable=True),
    Column("plan_record_no", String(64), nullable=True),  # 备案编号
    Column("plan_filed_on", String(10), nullable=True),
    Column("plan_valid_until", String(10), nullable=True),
    Column("supplies", JSON, nullable=True),
    Column("contacts", JSON, nullable=True),  # personal data: staff only
    Column("status", String(12), nullable=False, server_default="draft"),
    Column("review_note", Text, nullable=True),
    Column("updated_at", UTCTime, nullable=False),
    Column("updated_by", String(100), nullable=True),
    CheckConstraint("lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90", name="position"),
    CheckConstraint("status IN ('draft', 'submitted', 'approved', 'rejected')", name="status"),
)
Index("ix_risk_source_region_code", risk_source.c.region_code)

risk_substance = Table(
    "risk_substance", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("risk_source_id", Integer, ForeignKey("risk_source.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("cas", String(20), nullable=True),
    Column("quantity_t", Float, nullable=False),  # maximum quantity present (t)
    Column("critical_t", Float, nullable=True),  # critical quantity Q (t), HJ 169-2018 Appendix B
    Column("ratio", Float, nullable=True),  # q/Q
    CheckConstraint("quantity_t >= 0", name="quantity"),
)
Index("ix_risk_substance_risk_source_id", risk_substance.c.risk_source_id)

receptor = Table(
    "receptor", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("type", String(32), nullable=False),
    Column("lon", Float, nullable=False),  # representative point
    Column("lat", Float, nullable=False),
    Column("geojson", Text, nullable=True),  # polygon, when known
    Column("population", Integer, nullable=True),
    Column("region_code", String(6), ForeignKey("region.code"), nullable=True),
    Column("imported_at", UTCTime, nullable=False),
    CheckConstraint("lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90", name="position"),
)
Index("ix_receptor_lat_lon", receptor.c.lat, receptor.c.lon)

incident = Table(
    "incident", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("occurred_at", UTCTime, nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("region_code", String(6), ForeignKey("region.code"), nullable=False),
    Column("substance", String(200), nullable=True),
    Column("amount_kg", Float, nullable=True),
    Column("source_desc", Text, nullable=True),
    Column("enterprise_id", Integer, ForeignKey("enterprise.id"), nullable=True),
    Column("level", String(4), nullable=True),  # national plan grading I (特别重大) … IV (一般)
    Column("level_basis", Text, nullable=True),
    Column("status", String(12), nullable=False),
    Column("summary", Text, nullable=True),
    Column("dispersion", JSON, nullable=True),  # last screening run: inputs and result
    Column("reported_by", String(100), nullable=True),
    Column("reported_at", UTCTime, nullable=False),
    Column("closed_at", UTCTime, nullable=True),
    Column("closed_by", String(100), nullable=True),
    Column("updated_at", UTCTime, nullable=False),
    CheckConstraint("status IN ('reported', 'responding', 'closed')", name="status"),
    CheckConstraint("lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90", name="position"),
)
Index("ix_incident_region_code", incident.c.region_code)

incident_task = Table(
    "incident_task", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incident.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # monitoring | sampling | action | notification | note
    Column("title", String(300), nullable=False),
    Column("owner", String(100), nullable=True),
    Column("due_at", UTCTime, nullable=True),
    Column("done_at", UTCTime, nullable=True),
    Column("result", JSON, nullable=True),
    Column("lon", Float, nullable=True),
    Column("lat", Float, nullable=True),
    Column("created_at", UTCTime, nullable=False),
    Column("created_by", String(100), nullable=True),
)
Index("ix_incident_task_incident_id", incident_task.c.incident_id)

#: PostgreSQL-only generated PostGIS columns (added by migration 0011; left out of metadata comparisons).
PG_GEOM_COLUMNS = {
    "redline": "ST_SetSRID(ST_Multi(ST_GeomFromGeoJSON(geojson)), 4326)",
    "redline_patch": "ST_SetSRID(ST_Multi(ST_GeomFromGeoJSON(geojson)), 4326)",
    "risk_source": "ST_SetSRID(ST_MakePoint(lon, lat), 4326)",
    "receptor": "ST_SetSRID(ST_MakePoint(lon, lat), 4326)",
    "incident": "ST_SetSRID(ST_MakePoint(lon, lat), 4326)",
}
