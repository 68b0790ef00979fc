"""Alert lifecycle: open → acknowledged → closed (who and when), de-duplicated per cause by the database,
cleared / re-activated with the condition, escalated when not acknowledged in time.

``status`` × ``active`` give the four states of ThingsBoard's alarms: open+active (ACTIVE_UNACK),
acknowledged+active (ACTIVE_ACK), open+cleared (CLEARED_UNACK); an acknowledged alert whose condition clears is
closed by the system (CLEARED_ACK), as is any alert closed by a person (with a reason).

One open alert per cause: ``ux_alert_open_cause`` is a unique index on ``cause_key`` over the alerts that are
not closed; :func:`raise_condition` is one ``INSERT … ON CONFLICT (cause_key) WHERE status != 'closed' DO
UPDATE`` statement, so concurrent workers update the same alert instead of opening two.

This module is the state machine (transitions in the caller's transaction); reading alerts and acting on them
for a caller (scope, role, audit) is :mod:`ecohub.alerts.service`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Connection

from ecohub.domain.errors import InputError, NotFound
from ecohub.quality import store_io as io
from ecohub.store.schema_alerts import alert, alert_event

SEVERITIES = ("info", "warning", "major", "critical")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
STATUSES = ("open", "acknowledged", "closed")
#: Escalation deadlines: an open alert not acknowledged within this time escalates (and again after each period).
ESCALATION_AFTER = {"critical": timedelta(minutes=30), "major": timedelta(hours=2), "warning": timedelta(hours=8),
                    "info": None}


@dataclass
class Condition:
    """A rule's finding: the cause, where, how bad, and why."""

    rule: str
    cause_key: str
    severity: str
    message: str
    site_id: int | None = None
    site: str | None = None
    region: str | None = None
    parameter_id: int | None = None
    parameter: str | None = None
    level: float | None = None
    value: float | None = None
    period_time: int | None = None  # epoch of the data period that raised it
    details: dict = field(default_factory=dict)


@dataclass
class Outcome:
    alert_id: int
    created: bool
    reactivated: bool = False
    severity_raised: bool = False


def _rank_sql(col: str) -> str:
    return ("CASE " + col + " " + " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(SEVERITIES))
            + " ELSE 0 END")


def raise_condition(conn: Connection, c: Condition, now: int, *, notify: bool = True) -> Outcome:
    """Open an alert for the condition's cause, or update the open one (last seen, value, message, severity
    never lowered). Records events; queues notifications for a new alert."""
    if c.severity not in SEVERITY_RANK:
        raise InputError("severity", c.severity, "must be one of " + ", ".join(SEVERITIES))
    prev = conn.execute(select(alert.c.id, alert.c.active, alert.c.severity).where(
        alert.c.cause_key == c.cause_key, alert.c.status != "closed")).first()
    true_ = "true" if io.is_pg(conn) else "1"
    sql = (
        "INSERT INTO alert (rule, cause_key, site_id, parameter_id, severity, status, active, level, value, message, "  # noqa: S608 (integer ids and fixed names only)
        "details, period_time, opened_at, last_seen_at, occurrences, escalation_level) VALUES (:rule, :cause, :site, "
        f":par, :sev, 'open', {true_}, :level, :value, :msg, :details, {io.ts(conn, 'pt')}, {io.ts(conn, 'now')}, "
        f"{io.ts(conn, 'now')}, 1, 0) "
        "ON CONFLICT (cause_key) WHERE status != 'closed' DO UPDATE SET "
        "last_seen_at = excluded.last_seen_at, level = excluded.level, value = excluded.value, "
        "message = excluded.message, details = excluded.details, "
        "period_time = CASE WHEN alert.period_time IS NULL OR excluded.period_time > alert.period_time "
        "THEN excluded.period_time ELSE alert.period_time END, "
        f"active = {true_}, cleared_at = NULL, occurrences = alert.occurrences + 1, "
        f"severity = CASE WHEN {_rank_sql('excluded.severity')} > {_rank_sql('alert.severity')} "
        "THEN excluded.severity ELSE alert.severity END "
        "RETURNING id, occurrences, severity"
    )
    import json

    details = json.dumps(c.details, ensure_ascii=False, default=str)
    if io.is_pg(conn):
        sql = sql.replace(":details", "CAST(:details AS json)")
    row = conn.execute(text(sql), {
        "rule": c.rule, "cause": c.cause_key, "site": c.site_id, "par": c.parameter_id, "sev": c.severity,
        "level": c.level, "value": c.value, "msg": c.message, "details": details, "pt": c.period_time,
        "now": now}).first()
    aid, occ, sev = int(row[0]), int(row[1]), row[2]
    created = prev is None or occ == 1
    out = Outcome(aid, created)
    when = io.from_epoch(now)
    if created:
        _event(conn, aid, "opened", when, None, c.message)
        if notify:
            from ecohub.alerts.notify import enqueue_for_alert

            enqueue_for_alert(conn, aid, "opened", when)
    else:
        if prev is not None and not prev.active:
            out.reactivated = True
            _event(conn, aid, "reactivated", when, None, c.message)
        if prev is not None and SEVERITY_RANK[sev] > SEVERITY_RANK[prev.severity]:
            out.severity_raised = True
            _event(conn, aid, "severity", when, None, f"{prev.severity} → {sev}")
    return out


def clear_condition(conn: Connection, cause_key: str, now: int, note: str = "condition no longer present") -> int | None:
    """The condition of a cause is gone: the open alert becomes cleared; an acknowledged one is closed by the
    system. Returns the alert id (None when there is no open, active alert for the cause)."""
    row = conn.execute(select(alert.c.id, alert.c.status).where(
        alert.c.cause_key == cause_key, alert.c.status != "closed", alert.c.active.is_(True))).first()
    if row is None:
        return None
    when = io.from_epoch(now)
    values: dict = {"active": False, "cleared_at": when}
    if row.status == "acknowledged":
        values.update(status="closed", closed_at=when, closed_by="system", close_reason=f"cleared: {note}")
    conn.execute(update(alert).where(alert.c.id == row.id).values(**values))
    _event(conn, row.id, "cleared", when, "system", note)
    if row.status == "acknowledged":
        _event(conn, row.id, "closed", when, "system", f"cleared after acknowledgement: {note}")
    return int(row.id)


def _event(conn: Connection, alert_id: int, kind: str, when: datetime, actor: str | None, note: str | None) -> None:
    conn.execute(insert(alert_event).values(alert_id=alert_id, kind=kind, at=when, actor=actor,
                                            note=(note or None) and note[:2000]))


def acknowledge_in(conn: Connection, alert_id: int, by: str, note: str | None, when: datetime) -> bool:
    """open → acknowledged (who and when) in the caller's transaction. Acknowledging an acknowledged alert
    changes nothing (False); a closed one is refused; a missing one is :class:`NotFound`."""
    if not (by or "").strip():
        raise InputError("by", by, "who acknowledges must be given")
    row = conn.execute(select(alert.c.status).where(alert.c.id == alert_id)).first()
    if row is None:
        raise NotFound(f"alert {alert_id} not found")
    if row.status == "closed":
        raise InputError("id", alert_id, "the alert is closed")
    if row.status != "open":
        return False
    conn.execute(update(alert).where(alert.c.id == alert_id, alert.c.status == "open").values(
        status="acknowledged", acknowledged_at=when, acknowledged_by=by.strip()[:100]))
    _event(conn, alert_id, "acknowledged", when, by.strip()[:100], note)
    return True


def close_in(conn: Connection, alert_id: int, by: str, reason: str, when: datetime) -> None:
    """→ closed, with who, when and why, in the caller's transaction. A closed alert frees its cause: the
    next occurrence opens a new one. Closing a closed alert is refused."""
    if not (reason or "").strip():
        raise InputError("reason", reason, "closing an alert needs a reason")
    if not (by or "").strip():
        raise InputError("by", by, "who closes must be given")
    row = conn.execute(select(alert.c.status).where(alert.c.id == alert_id)).first()
    if row is None:
        raise NotFound(f"alert {alert_id} not found")
    if row.status == "closed":
        raise InputError("id", alert_id, "the alert is already closed")
    conn.execute(update(alert).where(alert.c.id == alert_id).values(
        status="closed", closed_at=when, closed_by=by.strip()[:100], close_reason=reason.strip()))
    _event(conn, alert_id, "closed", when, by.strip()[:100], reason.strip())


def escalate_due(conn: Connection, now: int, after: dict[str, timedelta | None] | None = None) -> list[int]:
    """Raise the escalation level of open (unacknowledged) alerts past their severity's deadline (counted from
    opening or from the previous escalation); notify the escalation targets. Returns the escalated ids."""
    after = ESCALATION_AFTER if after is None else after
    rows = conn.execute(select(alert.c.id, alert.c.severity, alert.c.opened_at, alert.c.escalated_at,
                               alert.c.escalation_level).where(alert.c.status == "open")).all()
    when = io.from_epoch(now)
    done = []
    for r in rows:
        d = after.get(r.severity)
        if d is None:
            continue
        since = r.escalated_at or r.opened_at
        if when - since >= d:
            res = conn.execute(update(alert).where(alert.c.id == r.id, alert.c.status == "open",
                                                   alert.c.escalation_level == r.escalation_level).values(
                escalation_level=r.escalation_level + 1, escalated_at=when))
            if res.rowcount:
                _event(conn, r.id, "escalated", when, "system",
                       f"not acknowledged within {d}; escalation level {r.escalation_level + 1}")
                from ecohub.alerts.notify import enqueue_for_alert

                enqueue_for_alert(conn, r.id, "escalated", when)
                done.append(int(r.id))
    return done


