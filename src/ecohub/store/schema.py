"""The relational schema (SQLAlchemy Core). Migrations in ``store/migrations`` create exactly this.

Observations are keyed by their natural key (series, time, source): writing the same observation twice
changes nothing, and a different value for a stored key is kept in ``observation_conflict`` instead of
overwriting (raw data are immutable; corrections are rows of ``correction`` with author and reason).
On PostgreSQL ``observation`` is partitioned by month on ``time`` and ``site.geom`` (PostGIS point,
generated from lon/lat) has a GiST index; both are created by the migration.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ecohub.store.types import UTCTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

region = Table(
    "region", metadata,
    Column("code", String(6), primary_key=True),  # GB/T 2260 administrative division code
    Column("name", String(64), nullable=False),
    Column("level", SmallInteger, nullable=False),  # 1 province, 2 city, 3 county
    Column("parent", String(6), ForeignKey("region.code"), nullable=True),
    Column("lon", Float), Column("lat", Float),
    CheckConstraint("level BETWEEN 1 AND 3", name="level"),
)
Index("ix_region_parent", region.c.parent)

parameter = Table(
    "parameter", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(32), nullable=False, unique=True),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(64), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("domain", String(16), nullable=False),
    Column("hj212_2017", String(16)),
    Column("hj212_2005", String(16)),
    Column("decimals", SmallInteger, nullable=False, server_default="3"),
)

enterprise = Table(
    "enterprise", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uscc", String(18), nullable=False, unique=True),  # GB 32100-2015, check character validated
    Column("name", String(200), nullable=False),
    Column("region_code", String(6), ForeignKey("region.code"), nullable=False),
    Column("created_at", UTCTime, nullable=False),
)

site = Table(
    "site", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("lon", Float, nullable=False),  # WGS-84
    Column("lat", Float, nullable=False),
    Column("region_code", String(6), ForeignKey("region.code"), nullable=False),
    Column("enterprise_id", Integer, ForeignKey("enterprise.id"), nullable=True),
    Column("attrs", JSON, nullable=True),
    Column("created_at", UTCTime, nullable=False),
    # water sections: river / lake / reservoir (domain.kinds.WaterBody; GB 3838 lake/reservoir TP limits)
    Column("water_body", String(16), nullable=True),
    CheckConstraint("lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90", name="position"),
)
Index("ix_site_region_code", site.c.region_code)
Index("ix_site_kind", site.c.kind)

device = Table(
    "device", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mn", String(64), nullable=False, unique=True),  # HJ 212 MN
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False),
    Column("protocol", String(8), nullable=False, server_default="2017"),
    Column("password_hash", String(200), nullable=False),  # argon2
    Column("sm4_key", String(64), nullable=True),  # HJ 212-2025 data-area key (hex)
    Column("created_at", UTCTime, nullable=False),
    # decoding profile: NULL/"lenient" (deviations accepted with a warning) or "strict" (rejected) — 0015
    Column("dialect", String(16), nullable=True),
    # HJ 212-2025 SM4 variant (preset name or form/padding/crc/length spec); NULL: the standard's text, the
    # others detected with a warning — 0015
    Column("sm4_variant", String(64), nullable=True),
)

source = Table(
    "source", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(32), nullable=False, unique=True),  # import, hj212, mqtt, http, demo, …
)

series = Table(
    "series", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False),
    Column("parameter_id", SmallInteger, ForeignKey("parameter.id"), nullable=False),
    Column("interval", String(8), nullable=False),
    UniqueConstraint("site_id", "parameter_id", "interval"),
)

observation = Table(
    "observation", metadata,
    Column("series_id", Integer, nullable=False, primary_key=True),
    Column("time", UTCTime, nullable=False, primary_key=True),
    Column("source_id", SmallInteger, nullable=False, primary_key=True),
    Column("value", Float, nullable=True),
    Column("flag", String(4), nullable=True),
    Column("received_at", UTCTime, nullable=False),
    sqlite_with_rowid=False,
)

observation_conflict = Table(
    "observation_conflict", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("series_id", Integer, nullable=False),
    Column("time", UTCTime, nullable=False),
    Column("source_id", SmallInteger, nullable=False),
    Column("stored_value", Float), Column("stored_flag", String(4)),
    Column("new_value", Float), Column("new_flag", String(4)),
    Column("origin", String(500)),
    Column("received_at", UTCTime, nullable=False),
)
Index("ix_observation_conflict_series", observation_conflict.c.series_id, observation_conflict.c.time)

correction = Table(
    "correction", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("series_id", Integer, nullable=False),
    Column("time", UTCTime, nullable=False),
    Column("source_id", SmallInteger, nullable=False),
    Column("value", Float), Column("flag", String(4)),
    Column("reason", Text, nullable=False),
    Column("author", String(100), nullable=False),
    Column("created_at", UTCTime, nullable=False),
)
Index("ix_correction_series", correction.c.series_id, correction.c.time)

latest = Table(
    "latest", metadata,
    Column("series_id", Integer, primary_key=True, autoincrement=False),
    Column("time", UTCTime, nullable=False),
    Column("value", Float), Column("flag", String(4)),
    Column("source_id", SmallInteger, nullable=False),
    Column("received_at", UTCTime, nullable=False),
)

api_key = Table(
    "api_key", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),  # shown to people; looked up first
    Column("key_hash", String(64), nullable=False),  # SHA-256 of the whole key (keys are 256-bit random)
    Column("scopes", JSON, nullable=False),  # e.g. ["ingest"]; the identity work adds roles and users
    Column("owner", String(100), nullable=True),
    Column("created_at", UTCTime, nullable=False),
    Column("expires_at", UTCTime, nullable=True),
    Column("revoked_at", UTCTime, nullable=True),
    Column("last_used_at", UTCTime, nullable=True),
)

quarantine = Table(
    "quarantine", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),  # file, hj212, mqtt, http
    Column("origin", String(500), nullable=False),  # file path, peer address, topic, API key id
    Column("line", Integer, nullable=True),
    Column("field", String(64), nullable=True),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=True),
    Column("received_at", UTCTime, nullable=False),
)
Index("ix_quarantine_received_at", quarantine.c.received_at)

ingest_log = Table(
    "ingest_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("origin", String(500), nullable=False),
    Column("started_at", UTCTime, nullable=False),
    Column("finished_at", UTCTime),
    Column("imported", Integer, nullable=False, server_default="0"),
    Column("duplicates", Integer, nullable=False, server_default="0"),
    Column("conflicts", Integer, nullable=False, server_default="0"),
    Column("rejected", Integer, nullable=False, server_default="0"),
)

# --- HJ 212 gateway: device events and the platform → device command queue (migration 0003) ---------------
device_event = Table(
    "device_event", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mn", String(64), nullable=False),  # as sent (may be an unknown MN: auth failures)
    Column("device_id", Integer, ForeignKey("device.id"), nullable=True),
    Column("kind", String(32), nullable=False),  # status, runtime, boot, time_request, upload, auth_failure, online, offline
    Column("cn", String(4), nullable=True),
    Column("ref", String(32), nullable=True),  # the packet's QN (or DataTime without QN): retransmissions stored once
    Column("time", UTCTime, nullable=True),  # DataTime / RestartTime of the event, when it has one
    Column("payload", JSON, nullable=True),
    Column("peer", String(64), nullable=True),
    Column("received_at", UTCTime, nullable=False),
    UniqueConstraint("mn", "cn", "ref"),
)
Index("ix_device_event_mn_received_at", device_event.c.mn, device_event.c.received_at)
Index("ix_device_event_kind_received_at", device_event.c.kind, device_event.c.received_at)

device_command = Table(
    "device_command", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mn", String(64), nullable=False),
    Column("kind", String(32), nullable=False),  # backfill, set-interval, set-time
    Column("cn", String(4), nullable=False),
    Column("params", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("qn", String(20), nullable=True),
    Column("attempts", SmallInteger, nullable=False, server_default="0"),
    Column("requested_by", String(100), nullable=True),
    Column("created_at", UTCTime, nullable=False),
    Column("sent_at", UTCTime, nullable=True),
    Column("finished_at", UTCTime, nullable=True),
    Column("result", JSON, nullable=True),
    CheckConstraint("status IN ('pending', 'sent', 'accepted', 'refused', 'done', 'failed', 'timeout', 'cancelled')",
                    name="status"),
)
Index("ix_device_command_status_mn", device_command.c.status, device_command.c.mn)
Index("ix_device_command_mn_created_at", device_command.c.mn, device_command.c.created_at)
