"""Tables of the analytics area: the maintained daily AQI of every air station and city (migration 0009), the
maintained daily rollup of every series (0025), the maintained hourly AQI of every air station (0026).

* ``aqi_daily`` — one row per (kind, code, Beijing day): ``kind`` ``site`` (code = the station's code) or
  ``city`` (code = the city's division code, the mean of all its stations' valid daily values, HJ 663). The six
  daily values follow GB 3095 Table 4 (24-h means with ≥ 20 hours; O3 the daily maximum 8-h mean with its
  validity rule) — NULL where not valid — and the HJ 633 daily AQI, level and primary pollutant of them.
  Kept by the worker (``ecohub.analytics.aqi_daily.refresh_touched``) for the days whose observations arrived
  since its watermark (``worker_state`` row ``aqi_daily``); read by ``aqi_service.site_daily_values`` so the
  cockpit, rankings, reports and forecasts do not recompute a year of hourly data per request.
* ``aqi_hourly`` — one row per (air station code, hour) that has any of the six pollutants: the HJ 633 hourly
  AQI, level and primary pollutant of that hour's concentrations (NULL where none can be given). Kept by the
  worker (``ecohub.analytics.aqi_hourly.maintain``, ``worker_state`` row ``aqi_hourly``) for the hours whose
  observations arrived since its watermark; read by the one map's time slider (``/api/v1/web/map/replay``).
* ``series_daily`` — one row per (series, Beijing day with observations): the count of non-null values, their
  sum, minimum and maximum — the daily window of ``queries.aggregate`` (mean = sum / count). Kept by the worker
  (``ecohub.store.series_daily.maintain``, ``worker_state`` row ``series_daily``); read by ``queries.aggregate``
  for the whole days before the days with new arrivals.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Date, Float, Index, Integer, SmallInteger, String, Table

from ecohub.store.schema import metadata
from ecohub.store.types import UTCTime

aqi_daily = Table(
    "aqi_daily", metadata,
    Column("kind", String(8), primary_key=True),  # site | city
    Column("code", String(64), primary_key=True),
    Column("day", Date, primary_key=True),  # Beijing natural day
    Column("so2", Float, nullable=True),
    Column("no2", Float, nullable=True),
    Column("co", Float, nullable=True),
    Column("pm10", Float, nullable=True),
    Column("pm25", Float, nullable=True),
    Column("o3_8h", Float, nullable=True),
    Column("aqi", SmallInteger, nullable=True),
    Column("level", SmallInteger, nullable=True),
    Column("primary_pollutant", String(64), nullable=True),
    Column("computed_at", UTCTime, nullable=False),
    CheckConstraint("kind IN ('site', 'city')", name="kind"),
)
Index("ix_aqi_daily_day", aqi_daily.c.day)


aqi_hourly = Table(
    "aqi_hourly", metadata,
    Column("code", String(64), primary_key=True),  # the air station's code
    Column("time", UTCTime, primary_key=True),  # start of the hour
    Column("aqi", SmallInteger, nullable=True),
    Column("level", SmallInteger, nullable=True),
    Column("primary_pollutant", String(64), nullable=True),
    Column("computed_at", UTCTime, nullable=False),
    sqlite_with_rowid=False,
)
Index("ix_aqi_hourly_time", aqi_hourly.c.time)

series_daily = Table(
    "series_daily", metadata,
    Column("series_id", Integer, primary_key=True, autoincrement=False),
    Column("day", Date, primary_key=True),  # Beijing natural day
    Column("n", Integer, nullable=False),  # non-null values (the rollup's count)
    Column("total", Float, nullable=True),  # their sum (NULL when n = 0)
    Column("vmin", Float, nullable=True),
    Column("vmax", Float, nullable=True),
    sqlite_with_rowid=False,  # SQLite: stored in key order (a series' days together), no second index
)
