"""Tables of the permit register (``ecohub.supervision.permits``, 排污许可"一证式"管理), migration 0013.

* ``permit`` — one discharge permit (or registration, 排污登记): its number (HJ 608-2017 code: the enterprise's
  USCC, a 3-digit sequence, a letter; checked on entry — ``docs/permits.md``), enterprise, management category
  (``key`` 重点 / ``simplified`` 简化 / ``registration`` 登记), industry, and the *current* validity and status
  (kept equal to its latest version).
* ``permit_version`` — every dated event of a permit's life: ``issue``, ``renewal`` (延续), ``change`` (变更),
  ``revocation`` (撤销/注销); each with its own validity and a JSON snapshot of the permit's outlets, limits
  and tonnage as they stood after it. Versions are only ever added (``seq`` 1, 2, …), never overwritten.
* ``permit_outlet`` — an outlet of the permit: the monitored site (``site`` of kind gas_outlet/water_outlet,
  whose lon/lat are the outlet's coordinates), the outlet code of the permit (e.g. ``DA001``) and its type
  (``main`` 主要排放口 / ``general`` 一般排放口 / ``special`` 特殊排放口). A site belongs to one permit.
* ``permit_tonnage`` — the permitted annual emission (t/a) of a pollutant (许可排放量) under the permit.

The concentration limits per outlet, pollutant and period are the rows of ``permit_limit`` (the table the
``permit`` alert rule reads, schema_alerts), linked to their permit by ``permit_limit.permit_id`` — the limits
imported before the register existed are the same rows, attached when their outlet is registered, never copied.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ecohub.store.schema import metadata
from ecohub.store.types import UTCTime

PERMIT_CATEGORIES = ("key", "simplified", "registration")
PERMIT_STATUSES = ("valid", "revoked")
VERSION_KINDS = ("issue", "renewal", "change", "revocation")
OUTLET_TYPES = ("main", "general", "special")

permit = Table(
    "permit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("number", String(24), nullable=False, unique=True),
    Column("enterprise_id", Integer, ForeignKey("enterprise.id"), nullable=False),
    Column("category", String(16), nullable=False),
    Column("industry", String(100), nullable=True),
    Column("authority", String(100), nullable=True),
    Column("status", String(12), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("created_at", UTCTime, nullable=False),
    Column("updated_at", UTCTime, nullable=False),
    CheckConstraint("category IN ('key', 'simplified', 'registration')", name="category"),
    CheckConstraint("status IN ('valid', 'revoked')", name="status"),
    CheckConstraint("valid_to >= valid_from", name="validity"),
)
Index("ix_permit_enterprise_id", permit.c.enterprise_id)

permit_version = Table(
    "permit_version", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("permit_id", Integer, ForeignKey("permit.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(12), nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("note", Text, nullable=True),
    Column("snapshot", JSON, nullable=False),
    Column("origin", String(500), nullable=True),
    Column("recorded_at", UTCTime, nullable=False),
    Column("recorded_by", String(100), nullable=True),
    UniqueConstraint("permit_id", "seq"),
    CheckConstraint("kind IN ('issue', 'renewal', 'change', 'revocation')", name="kind"),
)

permit_outlet = Table(
    "permit_outlet", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("permit_id", Integer, ForeignKey("permit.id"), nullable=False),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False, unique=True),
    Column("outlet_code", String(16), nullable=False),
    Column("outlet_type", String(12), nullable=False),
    UniqueConstraint("permit_id", "outlet_code"),
    CheckConstraint("outlet_type IN ('main', 'general', 'special')", name="outlet_type"),
)

permit_tonnage = Table(
    "permit_tonnage", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("permit_id", Integer, ForeignKey("permit.id"), nullable=False),
    Column("parameter_id", Integer, ForeignKey("parameter.id"), nullable=False),
    Column("tonnes_per_year", Float, nullable=False),
    UniqueConstraint("permit_id", "parameter_id"),
    CheckConstraint("tonnes_per_year > 0", name="positive"),
)

# --- self-monitoring plans (自行监测方案, HJ 819) and execution reports (执行报告) -----------------------------
MONITORING_METHODS = ("automatic", "manual")
MONITORING_FREQUENCIES = ("hour", "day", "week", "month", "quarter", "half_year", "year")
REPORT_KINDS = ("month", "quarter", "year")
REPORT_STATES = ("submitted", "accepted", "returned")

monitoring_plan = Table(
    "monitoring_plan", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("permit_id", Integer, ForeignKey("permit.id"), nullable=False),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False),
    Column("parameter_id", Integer, ForeignKey("parameter.id"), nullable=False),
    Column("method", String(12), nullable=False),
    Column("frequency", String(12), nullable=False),
    UniqueConstraint("site_id", "parameter_id"),
    CheckConstraint("method IN ('automatic', 'manual')", name="method"),
    CheckConstraint("frequency IN ('hour', 'day', 'week', 'month', 'quarter', 'half_year', 'year')",
                    name="frequency"),
)

monitoring_report = Table(  # a manual monitoring result (手工监测报告) filed against the plan
    "monitoring_report", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", Integer, ForeignKey("monitoring_plan.id"), nullable=False),
    Column("sampled_on", Date, nullable=False),
    Column("value", Float, nullable=True),
    Column("lab", String(200), nullable=True),
    Column("filed_at", UTCTime, nullable=False),
    Column("filed_by", String(100), nullable=True),
)
Index("ix_monitoring_report_plan_id", monitoring_report.c.plan_id, monitoring_report.c.sampled_on)

permit_report = Table(
    "permit_report", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("permit_id", Integer, ForeignKey("permit.id"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("period", String(8), nullable=False),  # 2026-03 | 2026-Q1 | 2026
    Column("state", String(12), nullable=False),
    Column("version", Integer, nullable=False),
    Column("prefilled", JSON, nullable=False),  # the platform's figures when it was submitted
    Column("content", JSON, nullable=False),  # what the enterprise declares
    Column("submitted_at", UTCTime, nullable=False),
    Column("submitted_by", String(100), nullable=True),
    Column("reviewed_at", UTCTime, nullable=True),
    Column("reviewed_by", String(100), nullable=True),
    Column("review_note", Text, nullable=True),
    UniqueConstraint("permit_id", "kind", "period"),
    CheckConstraint("kind IN ('month', 'quarter', 'year')", name="kind"),
    CheckConstraint("state IN ('submitted', 'accepted', 'returned')", name="state"),
)

# --- the hourly emissions rollup (migration 0018) ------------------------------------------------------------
EMISSION_METHODS = ("cou", "cxq", "stopped")

emission_hourly = Table(  # measured hourly emissions per outlet × pollutant, kept by the worker (permits.rollup)
    "emission_hourly", metadata,
    Column("site_id", Integer, ForeignKey("site.id"), primary_key=True),
    Column("parameter_id", Integer, ForeignKey("parameter.id"), primary_key=True),
    Column("hour", BigInteger, primary_key=True),  # hour start, epoch seconds (UTC; Beijing hours align)
    Column("kg", Float, nullable=False),
    Column("method", String(8), nullable=False),
    CheckConstraint("method IN ('cou', 'cxq', 'stopped')", name="method"),
)

emission_daily = Table(  # per outlet × pollutant × Beijing day: the sums of its emission_hourly rows (permits.rollup)
    "emission_daily", metadata,
    Column("site_id", Integer, ForeignKey("site.id"), primary_key=True),
    Column("parameter_id", Integer, ForeignKey("parameter.id"), primary_key=True),
    Column("day", BigInteger, primary_key=True),  # start of the Beijing day, epoch seconds
    Column("n", Integer, nullable=False),  # hourly rows of the day
    Column("kg", Float, nullable=False),
    Column("cou", Integer, nullable=False),  # rows by method: cou, stopped (the rest cxq)
    Column("stopped", Integer, nullable=False),
    Column("first_hour", BigInteger, nullable=False),
    Column("last_hour", BigInteger, nullable=False),
    sqlite_with_rowid=False,  # stored in key order: a series' days together (the annual totals read them so)
)
