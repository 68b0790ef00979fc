"""Alerts for a caller — the one service that reads alerts and acts on them, used by the API (list, detail,
acknowledge, close), the web (live feed, map badges, cockpit counts, the cockpit's and one map's buttons) and
the command line (``ecohub alerts list/show/ack/close``).

**Visibility.** An alert about a site is visible to whoever may see that site
(:meth:`~ecohub.store.queries.Scope.site_condition`); an alert without a site (region- or platform-wide) only
to the full roles (system, admin, analyst). A caller asking for an alert it may not see gets
:class:`~ecohub.domain.errors.NotFound` — the same answer as for an alert that does not exist.

**Acting.** Acknowledge and close need a role of :data:`ACT_ROLES`. An officer acts only on alerts of sites in
its own region: open data from elsewhere may be seen, not acted on (:class:`PermissionError`). Each action is
one write transaction (``BEGIN IMMEDIATE`` on SQLite) holding the transition, its event in the alert's history
and the audit row (:class:`~ecohub.store.audit.Origin`), so none is kept without the others. The transitions
themselves are declared once, in :mod:`ecohub.alerts.lifecycle`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from ecohub.alerts.lifecycle import SEVERITIES, STATUSES, acknowledge_in, close_in
from ecohub.domain.errors import InputError, NotFound
from ecohub.store.audit import Origin
from ecohub.store.db import Store
from ecohub.store.queries import SYSTEM, Scope
from ecohub.store.queries import region_prefix as prefix_of
from ecohub.store.schema import parameter, site
from ecohub.store.schema_alerts import alert, alert_event
from ecohub.store.tx import write_tx

#: Roles that may acknowledge and close alerts (``system``: the command line and the worker).
ACT_ROLES = ("system", "admin", "officer")
SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


# --- reading ----------------------------------------------------------------------------------------------
def alert_select(*cols) -> Select:
    """``alert`` (or the given columns) with the site's code and region and the parameter's name."""
    return (select(*(cols or (alert,)), site.c.code.label("site"), site.c.region_code.label("region"),
                   parameter.c.name.label("parameter"))
            .select_from(alert.outerjoin(site, site.c.id == alert.c.site_id)
                         .outerjoin(parameter, parameter.c.id == alert.c.parameter_id)))


def visible(q: Select, scope: Scope) -> Select:
    """Limit a query over ``alert`` (outer-joined with ``site``) to what the scope may see."""
    cond = scope.site_condition()
    return q if cond is None else q.where(and_(alert.c.site_id.is_not(None), cond))


def filter_alerts(q: Select, *, status: str | None = None, severity: str | None = None,
                  site_code: str | None = None, rule: str | None = None, region_prefix: str | None = None) -> Select:
    """The list filters, on a query over ``alert`` joined with ``site``."""
    if status:
        q = q.where(alert.c.status == status)
    if severity:
        q = q.where(alert.c.severity == severity)
    if site_code:
        q = q.where(site.c.code == site_code)
    if rule:
        q = q.where(alert.c.rule == rule)
    if region_prefix:
        q = q.where(site.c.region_code.startswith(region_prefix, autoescape=True))
    return q


def query_alerts(store: Store, scope: Scope = SYSTEM, *, status: str | None = None, severity: str | None = None,
                 site_code: str | None = None, rule: str | None = None, region: str | None = None,
                 prefix: str | None = None, limit: int = 1000, before_id: int | None = None,
                 after_id: int | None = None, alert_id: int | None = None, columns=()) -> list[dict]:
    """Alerts the scope may see, newest first, as rows (times as ``datetime``). ``region``: a division code
    (its subtree), or ``prefix`` (a code prefix); ``before_id`` / ``after_id``: keyset bounds; ``alert_id``: just that one;
    ``columns``: names of ``alert`` columns to return (default all) besides site, region and parameter."""
    if status is not None and status not in STATUSES:
        raise InputError("status", status, "must be one of " + ", ".join(STATUSES))
    if severity is not None and severity not in SEVERITIES:
        raise InputError("severity", severity, "must be one of " + ", ".join(SEVERITIES))
    prefix = prefix_of(region) if region else prefix
    cols = [alert.c[c] for c in columns]
    q = filter_alerts(visible(alert_select(*cols), scope).order_by(alert.c.id.desc()).limit(limit), status=status,
                      severity=severity, site_code=site_code, rule=rule, region_prefix=prefix)
    if before_id is not None:
        q = q.where(alert.c.id < before_id)
    if after_id is not None:
        q = q.where(alert.c.id > after_id)
    if alert_id is not None:
        q = q.where(alert.c.id == alert_id)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def _public(row) -> dict:
    """JSON-ready (times as ISO-8601 UTC text), without internal ids."""
    d = dict(row)
    d.pop("site_id", None)
    d.pop("parameter_id", None)
    for k, v in list(d.items()):
        if isinstance(v, datetime):
            d[k] = v.isoformat()
    return d


def list_alerts(store: Store, status: str | None = None, *, site_code: str | None = None, rule: str | None = None,
                region_prefix: str | None = None, severity: str | None = None, limit: int = 1000,
                after_id: int | None = None, scope: Scope = SYSTEM) -> list[dict]:
    """Alerts, newest first, JSON-ready (times as ISO-8601 text) — the command line's list."""
    return [_public(r) for r in query_alerts(store, scope, status=status, severity=severity, site_code=site_code,
                                             rule=rule, prefix=region_prefix, limit=limit,
                                             after_id=after_id)]


def get_alert(store: Store | None, alert_id: int, conn: Connection | None = None, *, scope: Scope = SYSTEM) -> dict:
    """One alert with its history (events), JSON-ready. :class:`NotFound` when missing or not visible."""
    if conn is None:
        with store.engine.connect() as c:  # type: ignore[union-attr]
            return get_alert(store, alert_id, c, scope=scope)
    row = conn.execute(visible(alert_select(), scope).where(alert.c.id == alert_id)).mappings().first()
    if row is None:
        raise NotFound(f"alert {alert_id} not found")
    d = _public(row)
    d["events"] = [_public(e) for e in conn.execute(
        select(alert_event).where(alert_event.c.alert_id == alert_id).order_by(alert_event.c.id)).mappings()]
    return d


CONTRACT_FIELDS = ("id", "rule", "site", "parameter", "severity", "status", "opened_at", "last_seen_at", "message")


def contract_view(a: dict) -> dict:
    """The fields of ``ecohub alerts list --json`` (one JSON object per line)."""
    return {k: a.get(k) for k in CONTRACT_FIELDS}


# --- the live feed ----------------------------------------------------------------------------------------
def last_event_id(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.coalesce(func.max(alert_event.c.id), 0))))


def events_after(store: Store, scope: Scope, after: int, limit: int = 200) -> list[dict]:
    """Alert events after id ``after`` that the scope may see, in id order, with their alert (rows)."""
    q = (select(alert_event.c.id, alert_event.c.kind, alert_event.c.at, alert.c.id.label("alert_id"), alert.c.rule,
                alert.c.severity, alert.c.status, alert.c.active, alert.c.message, alert.c.level, alert.c.value,
                alert.c.opened_at, site.c.code.label("site"), site.c.name.label("site_name"),
                site.c.kind.label("site_kind"), site.c.region_code, parameter.c.name.label("parameter"))
         .select_from(alert_event.join(alert, alert.c.id == alert_event.c.alert_id)
                      .outerjoin(site, site.c.id == alert.c.site_id)
                      .outerjoin(parameter, parameter.c.id == alert.c.parameter_id))
         .where(alert_event.c.id > after).order_by(alert_event.c.id).limit(limit))
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(visible(q, scope)).mappings()]


# --- summaries (map, cockpit) -----------------------------------------------------------------------------
def open_by_site(store: Store, scope: Scope) -> dict[str, dict]:
    """Per visible site: open alerts (status not closed) — count, worst severity, rules of the active ones."""
    q = (select(site.c.code, alert.c.rule, alert.c.severity, alert.c.active, func.count().label("n"))
         .select_from(alert.join(site, site.c.id == alert.c.site_id))
         .where(alert.c.status != "closed")
         .group_by(site.c.code, alert.c.rule, alert.c.severity, alert.c.active))
    q = scope.apply(q)
    out: dict[str, dict] = {}
    with store.engine.connect() as conn:
        for code, rule, sev, active, n in conn.execute(q):
            d = out.setdefault(code, {"count": 0, "severity": None, "active_rules": set()})
            d["count"] += int(n)
            if d["severity"] is None or SEVERITY_ORDER.get(sev, 0) > SEVERITY_ORDER.get(d["severity"], 0):
                d["severity"] = sev
            if active:
                d["active_rules"].add(rule)
    return out


def counts(store: Store, scope: Scope, since: datetime) -> dict:
    """Open alerts by severity, and permit exceedances opened since ``since`` (the cockpit's figures)."""
    base = visible(select(alert.c.severity, func.count()).select_from(
        alert.outerjoin(site, site.c.id == alert.c.site_id)), scope)
    open_q = base.where(alert.c.status != "closed").group_by(alert.c.severity)
    exc_q = visible(select(func.count()).select_from(alert.outerjoin(site, site.c.id == alert.c.site_id)), scope
                    ).where(alert.c.rule == "permit", alert.c.opened_at >= since)
    with store.engine.connect() as conn:
        by_sev = dict(conn.execute(open_q).all())
        exc = int(conn.scalar(exc_q) or 0)
    return {"open": int(sum(by_sev.values())), "by_severity": by_sev, "exceedances_today": exc, "available": True}


def version(store: Store) -> int:
    """The newest alert event id: changes whenever any alert does (a cache validator)."""
    return last_event_id(store)


# --- acting -----------------------------------------------------------------------------------------------
def _may_act(conn: Connection, scope: Scope, alert_id: int) -> None:
    if scope.role not in ACT_ROLES:
        raise PermissionError("acknowledging or closing alerts needs the role admin or officer")
    row = conn.execute(visible(select(alert.c.id, site.c.region_code).select_from(
        alert.outerjoin(site, site.c.id == alert.c.site_id)), scope).where(alert.c.id == alert_id)).first()
    if row is None:
        raise NotFound(f"alert {alert_id} not found")
    if scope.role == "officer":
        prefix = prefix_of(scope.region_code)
        if not prefix or not (row.region_code or "").startswith(prefix):
            raise PermissionError(f"alert {alert_id} is outside your region ({scope.region_code})")


def acknowledge(store: Store, alert_id: int, by: str, note: str | None = None, now: datetime | None = None, *,
                scope: Scope = SYSTEM, origin: Origin | None = None) -> dict:
    """open → acknowledged by ``by`` (an acknowledged alert stays as it is), role-checked, scoped, audited."""
    when = now or datetime.now(UTC)
    origin = origin or Origin(by, scope.role)
    with write_tx(store) as conn:
        _may_act(conn, scope, alert_id)
        changed = acknowledge_in(conn, alert_id, by, note, when)
        origin.record(conn, "alert_acknowledge", f"alert:{alert_id}",
                      {"by": by.strip(), "note": note, "changed": changed}, status=200)
    return get_alert(store, alert_id, scope=scope)


def close(store: Store, alert_id: int, by: str, reason: str, now: datetime | None = None, *,
          scope: Scope = SYSTEM, origin: Origin | None = None) -> dict:
    """→ closed by ``by`` with a reason, role-checked, scoped, audited."""
    when = now or datetime.now(UTC)
    origin = origin or Origin(by, scope.role)
    with write_tx(store) as conn:
        _may_act(conn, scope, alert_id)
        close_in(conn, alert_id, by, reason, when)
        origin.record(conn, "alert_close", f"alert:{alert_id}", {"by": by.strip(), "reason": reason.strip()},
                      status=200)
    return get_alert(store, alert_id, scope=scope)


__all__ = ["ACT_ROLES", "acknowledge", "close", "get_alert", "list_alerts", "query_alerts", "events_after",
           "last_event_id", "open_by_site", "counts", "version", "visible", "filter_alerts", "contract_view"]
