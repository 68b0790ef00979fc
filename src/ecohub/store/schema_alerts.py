"""Tables of alerts (``ecohub.alerts``): permits and section targets (what rules compare with), alerts with
their history, subscriptions (staff and public) and the notification outbox.

* ``permit_limit`` — a permit's concentration limit per outlet, parameter and averaging period (hour/day);
  ``converted_o2`` is the reference O2 (%) when the limit applies to the converted (折算) concentration.
* ``section_target`` — a surface-water section's target class (水质目标, GB 3838 I…V).
* ``alert`` — one row per alert. ``cause_key`` names the cause (rule, site, parameter, period …). The
  database enforces **one open alert per cause**: a unique index on ``cause_key`` restricted to alerts that
  are not closed (partial unique index, PostgreSQL and SQLite), so two workers cannot both open one.
  ``status`` open → acknowledged → closed (who and when kept); ``active`` says whether the condition is
  still present (the four ThingsBoard states are status × active); ``escalation_level`` rises when an open
  alert is not acknowledged in time.
* ``alert_event`` — the history of every alert (opened, updated, cleared, acknowledged, closed, escalated);
  its ids also drive the live feed (server-sent events).
* ``subscription`` — who is told: staff (webhook signed with HMAC, e-mail), escalation targets, and public
  subscriptions to a city or a station and a level (定制推送), confirmed and with an unsubscribe token.
* ``outbox`` — one row per message to deliver, written in the same transaction as the alert change
  (transactional outbox); the sender retries with exponential back-off.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)

from ecohub.store.schema import metadata
from ecohub.store.types import UTCTime

permit_limit = Table(
    "permit_limit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False),
    Column("parameter_id", SmallInteger, ForeignKey("parameter.id"), nullable=False),
    Column("period", String(8), nullable=False),  # hour | day
    Column("limit_value", Float, nullable=False),
    Column("unit", String(16), nullable=False),
    Column("converted_o2", Float, nullable=True),  # reference O2 %, when the limit is on converted concentration
    Column("origin", String(500), nullable=True),
    Column("updated_at", UTCTime, nullable=False),
    # the permit of the register (schema_permits) these limits belong to, and the emission standard they come
    # from (0013); null for limits of outlets not (yet) registered in a permit
    Column("permit_id", Integer, ForeignKey("permit.id"), nullable=True),
    Column("standard", String(100), nullable=True),
    UniqueConstraint("site_id", "parameter_id", "period"),
    CheckConstraint("period IN ('hour', 'day')", name="period"),
    CheckConstraint("limit_value > 0", name="limit_positive"),
)

section_target = Table(
    "section_target", metadata,
    Column("site_id", Integer, ForeignKey("site.id"), primary_key=True, autoincrement=False),
    Column("target_class", SmallInteger, nullable=False),  # 1..5 = I..V
    Column("updated_at", UTCTime, nullable=False),
    Column("updated_by", String(100), nullable=True),
    CheckConstraint("target_class BETWEEN 1 AND 5", name="target_class"),
)

alert = Table(
    "alert", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule", String(32), nullable=False),
    Column("cause_key", String(200), nullable=False),
    Column("site_id", Integer, nullable=True),
    Column("parameter_id", SmallInteger, nullable=True),
    Column("severity", String(12), nullable=False),  # info | warning | major | critical
    Column("status", String(16), nullable=False, server_default="open"),  # open | acknowledged | closed
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("level", Float, nullable=True),  # rule-specific level (AQI level, water class, multiple …)
    Column("value", Float, nullable=True),
    Column("message", Text, nullable=False),
    Column("details", JSON, nullable=True),
    Column("period_time", UTCTime, nullable=True),  # the data time (period start) that last raised it
    Column("opened_at", UTCTime, nullable=False),
    Column("last_seen_at", UTCTime, nullable=False),
    Column("occurrences", Integer, nullable=False, server_default="1"),
    Column("cleared_at", UTCTime, nullable=True),
    Column("acknowledged_at", UTCTime, nullable=True),
    Column("acknowledged_by", String(100), nullable=True),
    Column("closed_at", UTCTime, nullable=True),
    Column("closed_by", String(100), nullable=True),
    Column("close_reason", Text, nullable=True),
    Column("escalation_level", SmallInteger, nullable=False, server_default="0"),
    Column("escalated_at", UTCTime, nullable=True),
    CheckConstraint("status IN ('open', 'acknowledged', 'closed')", name="status"),
)
Index("ux_alert_open_cause", alert.c.cause_key, unique=True,
      sqlite_where=text("status != 'closed'"), postgresql_where=text("status != 'closed'"))
Index("ix_alert_status", alert.c.status, alert.c.opened_at)
Index("ix_alert_site_id", alert.c.site_id)

alert_event = Table(
    "alert_event", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alert.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # opened updated cleared acknowledged closed escalated
    Column("at", UTCTime, nullable=False),
    Column("actor", String(100), nullable=True),
    Column("note", Text, nullable=True),
)
Index("ix_alert_event_alert_id", alert_event.c.alert_id)

subscription = Table(
    "subscription", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("audience", String(12), nullable=False),  # staff | escalation | public
    Column("channel", String(12), nullable=False),  # webhook | email
    Column("target", String(500), nullable=False),  # URL or e-mail address
    Column("secret", String(128), nullable=True),  # webhook HMAC key
    Column("name", String(100), nullable=True),
    Column("rules", JSON, nullable=True),  # list of rule names; null = all (public: aqi, water_class)
    Column("min_severity", String(12), nullable=False, server_default="info"),
    Column("region_prefix", String(6), nullable=True),  # city / county / province code prefix
    Column("site_code", String(64), nullable=True),  # one station
    Column("min_level", Float, nullable=True),  # public: AQI level (1-6) or water class (1-6)
    Column("confirmed", Boolean, nullable=False, server_default=false()),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("token", String(64), nullable=False),  # confirm / unsubscribe token
    Column("created_at", UTCTime, nullable=False),
    UniqueConstraint("token"),
    CheckConstraint("channel IN ('webhook', 'email')", name="channel"),
    CheckConstraint("audience IN ('staff', 'escalation', 'public')", name="audience"),
)

outbox = Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscription_id", Integer, ForeignKey("subscription.id"), nullable=True),
    Column("alert_id", Integer, nullable=True),
    Column("event", String(16), nullable=False),  # opened | escalated | test …
    Column("channel", String(12), nullable=False),
    Column("target", String(500), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(8), nullable=False, server_default="pending"),  # pending | sent | dead
    Column("attempts", SmallInteger, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCTime, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCTime, nullable=False),
    Column("sent_at", UTCTime, nullable=True),
)
Index("ix_outbox_due", outbox.c.status, outbox.c.next_attempt_at)
