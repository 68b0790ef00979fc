"""Self-monitoring completeness against the plan (自行监测方案, HJ 819-2017) and execution reports (执行报告)
with their review workflow.

**Completeness against the plan.** Each plan row (outlet × pollutant: method and frequency) says what is due in
a period: ``automatic`` — every hour of the period (valid hours of the quality layer counted against them);
``manual`` — one result per ``frequency`` interval (month, quarter, half-year, year; week/day by count) filed as a
manual monitoring report. A manual interval without a report is a **finding** ("missing manual monitoring
report"). HJ 819-2017 sets the minimum frequencies per outlet type and pollutant; the plan's frequencies come
from the permit (we check against the plan, not against HJ 819's tables — UNCONFIRMED which of its tables apply
per industry).

**Execution reports** (:data:`TRANSITIONS`, declared once)::

    submitted ──accept──▶ accepted
        └──────return (reasons)──▶ returned ──submit──▶ submitted

The enterprise submits (month ``2026-03``, quarter ``2026-Q1``, year ``2026``); the report is pre-filled with the
platform's figures for the period (emissions per pollutant, permit exceedance alerts, completeness and findings)
kept beside what the enterprise declares. An officer of the region (or an admin) accepts it or returns it with
reasons; the enterprise may resubmit a returned report. Every step: compare-and-set on ``version`` and an audit
row, in one ``write_tx``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy import and_, func, insert, select, update

from ecohub.domain.errors import InputError, NotFound
from ecohub.domain.timeutil import BEIJING
from ecohub.quality.outlets import outlet_hourly
from ecohub.store.audit import Origin
from ecohub.store.db import Store
from ecohub.store.queries import Scope, region_prefix
from ecohub.store.schema import enterprise, parameter, site
from ecohub.store.schema_alerts import alert
from ecohub.store.schema_permits import (
    monitoring_plan,
    monitoring_report,
    permit,
    permit_outlet,
    permit_report,
)
from ecohub.store.tx import write_tx
from ecohub.supervision.permits.emissions import outlet_pollutants, outlet_totals
from ecohub.supervision.permits.register import permit_detail

TRANSITIONS: dict[str, dict[str, str]] = {
    "submitted": {"accept": "accepted", "return": "returned"},
    "returned": {"submit": "submitted"},
    "accepted": {},
}
MONTHS_PER = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


class IllegalReportStep(InputError):
    pass


def period_bounds(kind: str, period: str) -> tuple[datetime, datetime]:
    """Beijing calendar bounds of ``2026-03`` (month), ``2026-Q1`` (quarter), ``2026`` (year)."""
    p = (period or "").strip().upper()
    try:
        if kind == "month" and re.fullmatch(r"\d{4}-\d{2}", p):
            y, m = int(p[:4]), int(p[5:])
            a = datetime(y, m, 1, tzinfo=BEIJING)
            b = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=BEIJING)
        elif kind == "quarter" and re.fullmatch(r"\d{4}-Q[1-4]", p):
            y, q = int(p[:4]), int(p[-1])
            a = datetime(y, 3 * q - 2, 1, tzinfo=BEIJING)
            b = datetime(y + (q == 4), (3 * q) % 12 + 1, 1, tzinfo=BEIJING)
        elif kind == "year" and re.fullmatch(r"\d{4}", p):
            a, b = datetime(int(p), 1, 1, tzinfo=BEIJING), datetime(int(p) + 1, 1, 1, tzinfo=BEIJING)
        else:
            raise ValueError
    except ValueError:
        raise InputError("period", period, f"a {kind} period: 2026-03 (month), 2026-Q1 (quarter), 2026 (year)") \
            from None
    return a, b


def _intervals(freq: str, a: datetime, b: datetime) -> list[tuple[date, date]]:
    """The manual-monitoring intervals of ``freq`` inside [a, b) (Beijing dates)."""
    out = []
    if freq in MONTHS_PER:
        step = MONTHS_PER[freq]
        y, m = a.year, a.month
        while datetime(y, m, 1, tzinfo=BEIJING) < b:
            m2, y2 = m + step, y
            while m2 > 12:
                m2, y2 = m2 - 12, y2 + 1
            if (m - 1) % step == 0:
                out.append((date(y, m, 1), date(y2, m2, 1)))
            m, y = (m + 1, y) if m < 12 else (1, y + 1)
        return out
    days = {"day": 1, "week": 7, "hour": 1}[freq]
    d = a.date()
    while d < b.date():
        e = date.fromordinal(min(d.toordinal() + days, b.date().toordinal()))
        out.append((d, e))
        d = e
    return out


def plan_completeness(store: Store, permit_id: int, a: datetime, b: datetime) -> dict:
    """Per plan row: due, done, rate; and the findings (missing manual reports)."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(monitoring_plan.c.id, monitoring_plan.c.site_id, site.c.code, parameter.c.name,
                                   monitoring_plan.c.method, monitoring_plan.c.frequency)
                            .select_from(monitoring_plan.join(site, site.c.id == monitoring_plan.c.site_id)
                                         .join(parameter, parameter.c.id == monitoring_plan.c.parameter_id))
                            .where(monitoring_plan.c.permit_id == permit_id)
                            .order_by(site.c.code, parameter.c.name)).all()
        auto = [r for r in rows if r.method == "automatic"]
        hourly = outlet_hourly(conn, sorted({r.site_id for r in auto}), int(a.timestamp()), int(b.timestamp()),
                               {r.name for r in auto}) if auto else {}
        filed: dict[int, list[date]] = {}
        man = [r.id for r in rows if r.method == "manual"]
        if man:
            for pid, d in conn.execute(select(monitoring_report.c.plan_id, monitoring_report.c.sampled_on).where(
                    monitoring_report.c.plan_id.in_(man))):
                filed.setdefault(pid, []).append(d)
    items, findings = [], []
    hours = int((b - a).total_seconds() // 3600)
    for r in rows:
        if r.method == "automatic":
            t, v = hourly.get(r.site_id, {}).get(r.name, (np.zeros(0), np.zeros(0)))
            done = int(np.isfinite(v).sum())
            items.append({"site": r.code, "parameter": r.name, "method": "automatic", "frequency": r.frequency,
                          "due": hours, "done": done, "rate": done / hours if hours else None})
            continue
        iv = _intervals(r.frequency, a, b)
        have = filed.get(r.id, [])
        missing = [(s, e) for s, e in iv if not any(s <= d < e for d in have)]
        items.append({"site": r.code, "parameter": r.name, "method": "manual", "frequency": r.frequency,
                      "due": len(iv), "done": len(iv) - len(missing),
                      "rate": (len(iv) - len(missing)) / len(iv) if iv else None})
        for s, e in missing:
            findings.append({"finding": "missing manual monitoring report", "site": r.code, "parameter": r.name,
                             "frequency": r.frequency, "interval": f"{s} … {e}", "start": str(s), "end": str(e)})
    return {"items": items, "findings": findings}


def file_manual_report(store: Store, scope: Scope, origin: Origin, number: str, *, site_code: str, parameter_name: str,
                       sampled_on: date, value: float | None = None, lab: str | None = None) -> dict:
    pid, eid = _permit_ids(store, scope, number)
    if scope.role not in ("system", "admin") and not (scope.role == "enterprise" and scope.enterprise_id == eid):
        raise PermissionError("manual monitoring reports are filed by the enterprise")
    with write_tx(store) as conn:
        plan = conn.scalar(select(monitoring_plan.c.id).select_from(
            monitoring_plan.join(site, site.c.id == monitoring_plan.c.site_id)
            .join(parameter, parameter.c.id == monitoring_plan.c.parameter_id))
            .where(monitoring_plan.c.permit_id == pid, site.c.code == site_code, parameter.c.name == parameter_name))
        if plan is None:
            raise InputError("parameter", f"{site_code}/{parameter_name}", "not in this permit's monitoring plan")
        conn.execute(insert(monitoring_report).values(plan_id=plan, sampled_on=sampled_on, value=value, lab=lab,
                                                      filed_at=datetime.now(UTC), filed_by=origin.actor))
        origin.record(conn, "write", f"permit:{number}", {"change": "manual monitoring report", "site": site_code,
                                                           "parameter": parameter_name, "sampled_on": str(sampled_on)})
    return {"permit": number, "site": site_code, "parameter": parameter_name, "sampled_on": str(sampled_on)}


def _permit_ids(store: Store, scope: Scope, number: str) -> tuple[int, int]:
    d = permit_detail(store, scope, number)
    return d["id"], d["enterprise_id"]


def prefill(store: Store, permit_id: int, a: datetime, b: datetime) -> dict:
    """The platform's figures for the period: emissions per pollutant (t), permit exceedance alerts, plan
    completeness and findings."""
    with store.engine.connect() as conn:
        items = outlet_pollutants(conn, [permit_id])
        stop = min(b, datetime.now(UTC))
        sites = [s for s in conn.scalars(select(permit_outlet.c.site_id).where(permit_outlet.c.permit_id == permit_id))]
        exc = conn.scalar(select(func.count()).select_from(alert).where(
            alert.c.rule == "permit", alert.c.site_id.in_(sites or [-1]), alert.c.opened_at >= a,
            alert.c.opened_at < b)) or 0
    em = outlet_totals(store, items, int(a.timestamp()), int(stop.timestamp())) if stop > a else {}
    per: dict[str, float] = {}
    for (_sid, pol), e in em.items():
        per[pol] = per.get(pol, 0.0) + e.kg / 1000
    comp = plan_completeness(store, permit_id, a, b)
    return {"emissions_t": {k: round(v, 6) for k, v in sorted(per.items())}, "exceedance_alerts": int(exc),
            "completeness": comp["items"], "findings": comp["findings"]}


def _report_q(scope: Scope):
    q = (select(permit_report, permit.c.number, enterprise.c.uscc.label("enterprise"), enterprise.c.region_code)
         .select_from(permit_report.join(permit, permit.c.id == permit_report.c.permit_id)
                      .join(enterprise, enterprise.c.id == permit.c.enterprise_id)))
    if scope.full:
        return q
    if scope.role == "officer":
        return q.where(enterprise.c.region_code.startswith(region_prefix(scope.region_code) or "-", autoescape=True))
    if scope.role == "enterprise" and scope.enterprise_id is not None:
        return q.where(permit.c.enterprise_id == scope.enterprise_id)
    return q.where(permit.c.id == -1)


def _out(r: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items() if k != "region_code"}


def list_reports(store: Store, scope: Scope, *, number: str | None = None, state: str | None = None) -> list[dict]:
    q = _report_q(scope).order_by(permit_report.c.submitted_at.desc())
    if number:
        q = q.where(permit.c.number == number.strip().upper())
    if state:
        q = q.where(permit_report.c.state == state)
    with store.engine.connect() as conn:
        return [_out(dict(r)) for r in conn.execute(q).mappings()]


def submit(store: Store, scope: Scope, origin: Origin, number: str, kind: str, period: str,
           content: dict | None = None) -> dict:
    """Submit (or resubmit a returned) execution report, pre-filled with the platform's figures."""
    if kind not in ("month", "quarter", "year"):
        raise InputError("kind", kind, "month, quarter or year")
    a, b = period_bounds(kind, period)
    pid, eid = _permit_ids(store, scope, number)
    if scope.role not in ("system", "admin") and not (scope.role == "enterprise" and scope.enterprise_id == eid):
        raise PermissionError("execution reports are submitted by the enterprise")
    pre = prefill(store, pid, a, b)
    now = datetime.now(UTC)
    p = period.strip().upper()
    with write_tx(store) as conn:
        cur = conn.execute(select(permit_report).where(permit_report.c.permit_id == pid, permit_report.c.kind == kind,
                                                       permit_report.c.period == p)).mappings().first()
        values = {"prefilled": pre, "content": content or {}, "submitted_at": now, "submitted_by": origin.actor}
        if cur is None:
            rid = conn.execute(insert(permit_report).values(permit_id=pid, kind=kind, period=p, state="submitted",
                                                            version=1, **values).returning(permit_report.c.id)
                               ).scalar_one()
            frm = None
        else:
            if "submit" not in TRANSITIONS[cur["state"]]:
                raise IllegalReportStep("state", cur["state"], f"the {kind} report {p} is {cur['state']}; "
                                        f"allowed: {', '.join(TRANSITIONS[cur['state']]) or 'nothing'}")
            rid, frm = cur["id"], cur["state"]
            n = conn.execute(update(permit_report).where(permit_report.c.id == rid,
                                                         permit_report.c.version == cur["version"])
                             .values(state="submitted", version=cur["version"] + 1, reviewed_at=None,
                                     reviewed_by=None, **values)).rowcount
            if n != 1:
                raise IllegalReportStep("state", cur["state"], "the report changed meanwhile; reload")
        origin.record(conn, "write", f"permit_report:{number}:{kind}:{p}",
                      {"change": f"report {frm or 'new'} → submitted"})
    return get_report(store, scope, rid)


def get_report(store: Store, scope: Scope, report_id: int) -> dict:
    with store.engine.connect() as conn:
        r = conn.execute(_report_q(scope).where(permit_report.c.id == report_id)).mappings().first()
    if r is None:
        raise NotFound(f"report {report_id}")
    return _out(dict(r))


def review(store: Store, scope: Scope, origin: Origin, report_id: int, action: str, note: str | None = None) -> dict:
    """``accept`` or ``return`` (with reasons) a submitted report — officers of the region and admins."""
    if scope.role not in ("system", "admin", "officer"):
        raise PermissionError("execution reports are reviewed by officers")
    if action == "return" and not (note or "").strip():
        raise InputError("note", note, "the reasons are required to return a report")
    with write_tx(store) as conn:
        r = conn.execute(_report_q(scope).where(permit_report.c.id == report_id)).mappings().first()
        if r is None:
            raise NotFound(f"report {report_id}")
        nxt = TRANSITIONS[r["state"]].get(action)
        if nxt is None:
            raise IllegalReportStep("state", r["state"], f"cannot {action} a report that is {r['state']}; allowed: "
                                    f"{', '.join(TRANSITIONS[r['state']]) or 'nothing (final)'}")
        n = conn.execute(update(permit_report).where(and_(permit_report.c.id == report_id,
                                                          permit_report.c.version == r["version"]))
                         .values(state=nxt, version=r["version"] + 1, reviewed_at=datetime.now(UTC),
                                 reviewed_by=origin.actor, review_note=(note or "").strip() or None)).rowcount
        if n != 1:
            raise IllegalReportStep("state", r["state"], "the report changed meanwhile; reload")
        origin.record(conn, "write", f"permit_report:{r['number']}:{r['kind']}:{r['period']}",
                      {"change": f"report {r['state']} → {nxt}", "note": note})
    return get_report(store, scope, report_id)
