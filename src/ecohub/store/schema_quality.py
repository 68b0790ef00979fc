"""Tables of data quality control (``ecohub.quality``): QC flags beside the raw data, QC rule settings, the
worker's watermarks. Migration ``0005_quality_alerts`` creates exactly these (with ``schema_alerts``).

* ``qc_flag`` — one row per (observation key, rule) that raised a flag. Keyed like ``observation``
  (series, time, source) plus the rule: re-running QC rewrites the flags of the window it evaluated, so a
  re-run changes nothing. Raw observations are never touched. ``level`` 2 = invalid (left out of aggregates
  and assessments), 1 = suspect (kept, shown for review).
* ``qc_setting`` — configuration overrides of the built-in rule parameters, per rule and optionally per
  parameter and/or site kind (the most specific row wins).
* ``worker_state`` — per step of the worker, the highest ``received_at`` it has processed (incremental runs).
* ``ix_observation_received_at`` — an index on ``observation.received_at`` so that "what arrived since the
  last run" is an index range scan (SQLite: a covering index, since ``observation`` is WITHOUT ROWID and
  its secondary indexes carry the primary key).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    true,
)

from ecohub.store.schema import metadata, observation
from ecohub.store.types import UTCTime

qc_flag = Table(
    "qc_flag", metadata,
    Column("series_id", Integer, nullable=False, primary_key=True),
    Column("time", UTCTime, nullable=False, primary_key=True),
    Column("source_id", SmallInteger, nullable=False, primary_key=True),
    Column("rule", String(24), nullable=False, primary_key=True),
    Column("level", SmallInteger, nullable=False),  # 2 invalid, 1 suspect
    Column("detail", String(200), nullable=True),
    Column("created_at", UTCTime, nullable=False),
)

qc_setting = Table(
    "qc_setting", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule", String(24), nullable=False),
    Column("parameter", String(32), nullable=False, server_default=""),  # "" = every parameter
    Column("site_kind", String(32), nullable=False, server_default=""),  # "" = every kind
    Column("params", JSON, nullable=False),  # e.g. {"min": 0, "max": 1000} or {"enabled": false}
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("updated_at", UTCTime, nullable=False),
    UniqueConstraint("rule", "parameter", "site_kind"),
)

worker_state = Table(
    "worker_state", metadata,
    Column("name", String(48), primary_key=True),
    Column("watermark", UTCTime, nullable=True),  # highest observation.received_at processed
    Column("updated_at", UTCTime, nullable=False),
    Column("info", JSON, nullable=True),
)

Index("ix_observation_received_at", observation.c.received_at)
