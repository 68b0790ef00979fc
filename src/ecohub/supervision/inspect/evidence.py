"""The evidence panel of an inspection: what the enterprise's outlets reported around the inspection time —
hours above the permit limits (the values the permit is judged on: converted with O2 where the permit says so,
:func:`ecohub.quality.outlets.permit_values`), QC flags, the suspicious-data indicators
(:func:`ecohub.quality.outlets.suspicious_report`), offline hours (no valid hourly value of any parameter) and
the alerts of those outlets in the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import and_, func, or_, select

from ecohub.quality.outlets import outlet_hourly, permit_values, permits, suspicious_report
from ecohub.store.db import Store
from ecohub.store.queries import Scope
from ecohub.store.schema import series, site
from ecohub.store.schema_alerts import alert
from ecohub.store.schema_quality import qc_flag
from ecohub.supervision.inspect import records

BEFORE_H, AFTER_H = 72, 24


def _iso(t: int) -> str:
    return datetime.fromtimestamp(int(t), UTC).isoformat()


def panel(store: Store, scope: Scope, inspection_id: int, *, before_h: int = BEFORE_H, after_h: int = AFTER_H) -> dict:
    rec = records.get(store, scope, inspection_id)  # scope applies
    t = datetime.fromisoformat(rec["inspected_at"])
    start_dt, end_dt = t - timedelta(hours=before_h), t + timedelta(hours=after_h)
    start, end = int(start_dt.timestamp()) // 3600 * 3600, int(end_dt.timestamp()) // 3600 * 3600
    with store.engine.connect() as conn:
        outlets = conn.execute(select(site.c.id, site.c.code, site.c.name).where(
            site.c.enterprise_id == rec["enterprise_id"], site.c.kind.in_(("gas_outlet", "water_outlet")))
            .order_by(site.c.code)).all()
        ids = [o.id for o in outlets]
        hourly = outlet_hourly(conn, ids, start, end)
        limits = permits(conn, ids)
        susp = suspicious_report(conn, start, end, ids) if ids else {}
        qc = dict(conn.execute(select(series.c.site_id, func.count()).select_from(
            qc_flag.join(series, series.c.id == qc_flag.c.series_id)).where(
            series.c.site_id.in_(ids), qc_flag.c.time >= start_dt, qc_flag.c.time < end_dt, qc_flag.c.level >= 2)
            .group_by(series.c.site_id)).all()) if ids else {}
        alerts = conn.execute(select(alert.c.id, alert.c.rule, alert.c.site_id, alert.c.severity, alert.c.message,
                                     alert.c.opened_at, alert.c.last_seen_at).where(
            alert.c.site_id.in_(ids), alert.c.opened_at < end_dt,
            or_(alert.c.last_seen_at >= start_dt, and_(alert.c.cleared_at.is_(None), alert.c.status != "closed")))
            .order_by(alert.c.opened_at)).all() if ids else []
    hours = np.arange(start, end, 3600)
    out = []
    for o in outlets:
        series_ = hourly.get(o.id, {})
        exceed = []
        for lim in (x for x in limits if x.site_id == o.id and x.period == "hour"):
            tt, vv, info = permit_values(lim, series_)
            for ti, vi in zip(tt.tolist(), vv.tolist(), strict=True):
                if start <= ti < end and vi == vi and vi > lim.limit:
                    exceed.append({"time": _iso(ti), "parameter": lim.parameter, "value": round(vi, 3),
                                   "limit": lim.limit, "unit": lim.unit, "converted": info.get("converted", False)})
        seen = set()
        for tv in series_.values():
            tt, vv = tv
            seen.update(int(x) for x, y in zip(tt.tolist(), vv.tolist(), strict=True) if y == y)
        offline = [int(h) for h in hours if int(h) not in seen]
        out.append({
            "site": o.code, "name": o.name, "exceedance_hours": sorted(exceed, key=lambda e: e["time"]),
            "exceedance_hour_count": len({e["time"] for e in exceed}),
            "qc_invalid_flags": int(qc.get(o.id, 0)),
            "suspicious": susp.get(o.code, {}),
            "offline_hours": len(offline), "offline_periods": _periods(offline),
            "alerts": [{"id": a.id, "rule": a.rule, "severity": a.severity, "message": a.message,
                        "opened_at": a.opened_at.isoformat()} for a in alerts if a.site_id == o.id],
        })
    return {"inspection": inspection_id, "enterprise": rec["uscc"], "inspected_at": rec["inspected_at"],
            "window": [_iso(start), _iso(end)], "outlets": out}


def _periods(hours: list[int]) -> list[list[str]]:
    """Consecutive missing hours as [first hour start, last hour end)."""
    out: list[list[int]] = []
    for h in hours:
        if out and out[-1][1] == h:
            out[-1][1] = h + 3600
        else:
            out.append([h, h + 3600])
    return [[_iso(a), _iso(b)] for a, b in out]
