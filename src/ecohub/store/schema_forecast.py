"""Tables of the forecast (``ecohub.forecast``): issues, their per-day values, and the observations they are
verified against.

* ``forecast_issue`` — one row per issue of one city (``target_kind`` city) or station (``site``): when it was
  issued, by which model version and method (``model`` = gradient boosting; ``persistence`` when the history
  is too short for the model — labelled as such everywhere it is shown), the span of the input days, whether
  meteorology was used, the heavy-pollution warning it implies (level, scheme, reason). **Insert-only**: a
  re-run is a new issue (a unique key on target and issue time refuses a second row at the same instant;
  nothing updates an issue), so every earlier issue stays available for verification.
* ``forecast_day`` — the values of an issue for each target day (lead 1 … 3): AQI, range, HJ 633 level,
  primary pollutant, the six pollutants' daily values, and the baselines computed alongside (persistence
  and climatology).
* ``forecast_observation`` — the observed daily AQI (and level, primary pollutant) of a target and day, as
  computed from the stored data when the forecast was verified; refreshed by re-verification (observations
  can arrive late or be corrected), never part of an issue.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ecohub.store.schema import metadata
from ecohub.store.types import UTCTime

forecast_issue = Table(
    "forecast_issue", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target_kind", String(8), nullable=False),  # city | site
    Column("target_code", String(64), nullable=False),  # region code (city) or site code
    Column("region_code", String(6), nullable=False),  # for scope filtering
    Column("name", String(200), nullable=True),
    Column("issued_at", UTCTime, nullable=False),
    Column("issue_day", Date, nullable=False),  # Beijing day of issue (D); leads count from it
    Column("model_version", String(32), nullable=False),
    Column("method", String(16), nullable=False),  # model | persistence
    Column("inputs_from", Date, nullable=True),
    Column("inputs_to", Date, nullable=True),
    Column("input_days", Integer, nullable=False),
    Column("met_used", Boolean, nullable=False),
    Column("warning_level", SmallInteger, nullable=False),  # 0 none, 1 blue … 4 red
    Column("warning_scheme", String(8), nullable=False),
    Column("warning_reason", Text, nullable=True),
    Column("details", JSON, nullable=True),
    Column("created_by", String(100), nullable=True),
    UniqueConstraint("target_kind", "target_code", "issued_at"),
    CheckConstraint("target_kind IN ('city', 'site')", name="target_kind"),
    CheckConstraint("method IN ('model', 'persistence')", name="method"),
    CheckConstraint("warning_level BETWEEN 0 AND 4", name="warning_level"),
)
Index("ix_forecast_issue_target_issued", forecast_issue.c.target_code, forecast_issue.c.issued_at)
Index("ix_forecast_issue_region_code", forecast_issue.c.region_code)

forecast_day = Table(
    "forecast_day", metadata,
    Column("issue_id", Integer, ForeignKey("forecast_issue.id"), primary_key=True, autoincrement=False),
    Column("day", Date, primary_key=True),
    Column("lead", SmallInteger, nullable=False),
    Column("aqi", Float, nullable=True),
    Column("aqi_low", Float, nullable=True),
    Column("aqi_high", Float, nullable=True),
    Column("level", SmallInteger, nullable=True),
    Column("primary_pollutant", String(32), nullable=True),
    Column("so2", Float), Column("no2", Float), Column("co", Float), Column("o3_8h", Float),
    Column("pm10", Float), Column("pm25", Float),
    Column("persistence_aqi", Float, nullable=True),
    Column("climatology_aqi", Float, nullable=True),
    Column("climatology_level", SmallInteger, nullable=True),
    CheckConstraint("lead BETWEEN 1 AND 3", name="lead"),
)

#: Hourly values of an issue for the 72 hours of D+1 … D+3 (``forecast.hourly``: the daily forecast spread over
#: the target's diurnal profile; O3 is the 1-h value), where hourly history exists (migration 0021).
forecast_hour = Table(
    "forecast_hour", metadata,
    Column("issue_id", Integer, ForeignKey("forecast_issue.id"), primary_key=True, autoincrement=False),
    Column("time", UTCTime, primary_key=True),
    Column("lead_hour", SmallInteger, nullable=False),
    Column("aqi", Float, nullable=True),
    Column("level", SmallInteger, nullable=True),
    Column("primary_pollutant", String(32), nullable=True),
    Column("so2", Float), Column("no2", Float), Column("co", Float), Column("o3", Float),
    Column("pm10", Float), Column("pm25", Float),
    CheckConstraint("lead_hour BETWEEN 1 AND 72", name="lead_hour"),
)

forecast_observation = Table(
    "forecast_observation", metadata,
    Column("target_kind", String(8), primary_key=True),
    Column("target_code", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("aqi", Float, nullable=True),
    Column("level", SmallInteger, nullable=True),
    Column("primary_pollutant", String(32), nullable=True),
    Column("computed_at", UTCTime, nullable=False),
)
