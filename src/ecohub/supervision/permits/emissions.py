"""Emissions accounting (实际排放量) per outlet and pollutant from the online-monitoring hourly data, compared
with the permitted annual tonnage (许可排放量).

**Per hour** (valid hourly values of the quality layer, :func:`ecohub.quality.outlets.outlet_hourly`: device
flags and stored QC flags applied, minute data averaged to hours under its rules):

* ``cou`` — the device's cumulative emitted amount of the hour (HJ 212-2017 ``<code>-Cou``, stored as the
  derived parameter ``<name>_cou`` in kg), used where sent and valid;
* ``cxq`` — else concentration × flow: the measured (not O2-converted) concentration C times the flow Q over
  the hour, ``E = C · Q · 3600 s`` with the units stated: flue gas C mg/m³ × Q m³/s (standard dry flow as the
  CEMS reports it) → mg, × 10⁻⁶ → kg; wastewater C mg/L × Q L/s → mg, × 10⁻⁶ → kg. This is the mass-emission
  formula of HJ 75-2017 (emission rate G = C · Q_sn · 10⁻⁶ kg/h, summed over hours) and of HJ 353/HJ 354 for
  water — clause numbers UNCONFIRMED (docs/permits.md).
* **Invalid or missing hours** between the first and the last valid hour of the period are substituted as
  HJ 75-2017 prescribes for missing CEMS data (§ "数据缺失处理", UNCONFIRMED clause): a gap of ≤ 24 hours by
  the mean of the valid hourly emissions just before and just after it; a longer gap by the largest valid
  hourly emission of the (up to) 720 valid hours before it. Hours before the first or after the last valid hour
  are *not* substituted (the source may not have run or reported yet) and are counted as ``missing_hours``.
* **Stopped hours** (flag ``F``, 排放源停运: an hourly record flagged F, or most minute records of the hour; on the
  pollutant or on the flow) without a valid value emit **zero** (method ``stopped``) and are not substituted —
  HJ 75-2017 marks the source's stopped periods apart from invalid data and counts no emission for them (our
  reading; clause UNCONFIRMED, docs/permits.md). A stopped hour is a valid zero for the gap rule.

**Where it is computed.** The worker keeps the measured hourly emissions in the rollup table ``emission_hourly``
(:mod:`ecohub.supervision.permits.rollup`); periods are summed from it in SQL with the substitution applied to
the period. Without the rollup (the worker never ran) the same numbers are computed from the observations.

**Year** (Beijing calendar year): actual = Σ hours; projected year-end = actual ÷ elapsed share of the year
(hours since 1 January 00:00 +08:00 to ``as_of``, over the hours of the year); share = actual ÷ permitted.
Alert (rule ``permit_tonnage``, one per permit × pollutant × year): warning at ≥ 80 %, major at ≥ 100 % of the
permitted tonnage, judged on the **actual** emissions so far (the projection is in the message; an alert on a
projection alone would fire on every January start-up peak).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Connection

from ecohub.alerts.lifecycle import Condition, raise_condition
from ecohub.domain.errors import InputError, NotFound
from ecohub.domain.parameters import BY_NAME
from ecohub.domain.timeutil import BEIJING
from ecohub.quality.outlets import outlet_hours
from ecohub.store import registry as R
from ecohub.store.db import Store
from ecohub.store.queries import Scope
from ecohub.store.schema import enterprise, parameter, site
from ecohub.store.schema_alerts import permit_limit
from ecohub.store.schema_permits import permit, permit_outlet, permit_tonnage
from ecohub.store.tx import write_tx
from ecohub.supervision.permits import rollup
from ecohub.supervision.permits.hourly import (
    FLOW_OF,
    HOUR,
    MASS_FACTOR,
    HourlyEmission,
    hourly_emission,  # noqa: F401 (re-exported: callers import it from here)
    pollutant_emission,
)
from ecohub.supervision.permits.register import scope_condition

WARN_SHARE, OVER_SHARE = 0.8, 1.0


def year_bounds(year: int) -> tuple[int, int]:
    a = datetime(year, 1, 1, tzinfo=BEIJING)
    b = datetime(year + 1, 1, 1, tzinfo=BEIJING)
    return int(a.timestamp()), int(b.timestamp())


def _factor(kind: str, pollutant: str) -> float:
    c_unit = BY_NAME[pollutant].unit
    q_unit = BY_NAME[FLOW_OF[kind]].unit
    f = MASS_FACTOR.get((c_unit, q_unit))
    if f is None:
        raise InputError("parameter", pollutant, f"no mass formula for {c_unit} × {q_unit}")
    return f


def _permits_of(conn: Connection, scope: Scope, uscc: str) -> list:
    q = (select(permit.c.id, permit.c.number, enterprise.c.id.label("enterprise_id"), enterprise.c.region_code)
         .select_from(permit.join(enterprise, enterprise.c.id == permit.c.enterprise_id))
         .where(enterprise.c.uscc == uscc.strip().upper(), permit.c.status == "valid"))
    cond = scope_condition(scope)
    if cond is not None:
        q = q.where(cond)
    return list(conn.execute(q.order_by(permit.c.number)))


def outlet_pollutants(conn: Connection, permit_ids: list[int]) -> list[tuple[int, str, str, str, int]]:
    """(site id, site code, kind, pollutant, permit id) for every outlet × pollutant with a limit or tonnage."""
    outs = conn.execute(select(permit_outlet.c.site_id, permit_outlet.c.permit_id, site.c.code, site.c.kind)
                        .select_from(permit_outlet.join(site, site.c.id == permit_outlet.c.site_id))
                        .where(permit_outlet.c.permit_id.in_(permit_ids))).all()
    lim = conn.execute(select(permit_limit.c.site_id, parameter.c.name)
                       .select_from(permit_limit.join(parameter, parameter.c.id == permit_limit.c.parameter_id))
                       .where(permit_limit.c.permit_id.in_(permit_ids))).all()
    ton = conn.execute(select(permit_tonnage.c.permit_id, parameter.c.name)
                       .select_from(permit_tonnage.join(parameter, parameter.c.id == permit_tonnage.c.parameter_id))
                       .where(permit_tonnage.c.permit_id.in_(permit_ids))).all()
    out = set()
    for o in outs:
        dom = "gas" if o.kind == "gas_outlet" else "water"
        names = {n for s, n in lim if s == o.site_id} | {n for p, n in ton if p == o.permit_id}
        for n in names:
            p = BY_NAME.get(n)
            if p is not None and p.domain == dom and rollup.pollutant_of(o.kind, n):
                out.add((o.site_id, o.code, o.kind, n, o.permit_id))
    return sorted(out, key=lambda x: (x[1], x[3]))


def outlet_emissions(conn: Connection, items: list[tuple[int, str, str, str, int]], start: int, end: int,
                     *, use_cou: bool = True) -> dict[tuple[int, str], HourlyEmission]:
    """Hourly emissions of each (site id, pollutant) over [start, end) on the full hour grid, computed from the
    observations (the from-scratch definition the rollup is tested against)."""
    site_ids = sorted({i[0] for i in items})
    wanted = {i[3] for i in items} | {i[3] + "_cou" for i in items} | set(FLOW_OF.values())
    hourly = outlet_hours(conn, site_ids, start, end, wanted)
    grid = np.arange(start, end, HOUR, dtype=np.int64)
    out = {}
    for sid, _code, kind, pol, _pid in items:
        out[(sid, pol)] = pollutant_emission(grid, kind, pol, hourly.get(sid, {}), _factor(kind, pol),
                                             use_cou=use_cou)
    return out


def outlet_totals(store: Store, items: list[tuple[int, str, str, str, int]], start: int, end: int, *,
                  by_day: bool = False) -> dict[tuple[int, str], rollup.Totals]:
    """Totals of each (site id, pollutant) over [start, end): from the hourly rollup the worker keeps (brought up
    to date for these outlets first), or — when the rollup was never built — from the observations."""
    if not items or end <= start:
        return {(i[0], i[3]): rollup.Totals(by_day={} if by_day else None) for i in items}
    if rollup.refresh_stale(store, sorted({i[0] for i in items})):
        with store.engine.connect() as conn:
            pid = R.parameter_index(conn)
            got = rollup.totals(conn, [(i[0], pid[i[3]]) for i in items], start, end, by_day=by_day)
        return {(i[0], i[3]): got[(i[0], pid[i[3]])] for i in items}
    with store.engine.connect() as conn:
        em = outlet_emissions(conn, items, start, end)
    return {k: rollup.totals_of_grid(e, by_day=by_day) for k, e in em.items()}


def _now_epoch(as_of: datetime | None) -> int:
    return int((as_of or datetime.now(UTC)).timestamp())


def enterprise_emissions(store: Store, scope: Scope, uscc: str, year: int, *, as_of: datetime | None = None,
                         both_methods: bool = False, by: str | None = None) -> dict:
    """Per pollutant: actual t (so far), permitted t, share, projected year-end t and share; per outlet the same
    with the hours by method. ``both_methods``: also the totals by Cou only and by C×Q only (the cross-check).
    ``by`` = ``month`` or ``day``: also per pollutant the tonnes of every Beijing month / day (``periods``), the
    substitution applied over the year as for the total (so the periods add up to it)."""
    if not 1990 <= int(year) <= 2100:
        raise InputError("year", year, "a calendar year")
    if by not in (None, "month", "day"):
        raise InputError("by", by, "month or day")
    start, end = year_bounds(int(year))
    now = _now_epoch(as_of)
    stop = max(start, min(end, (now // HOUR) * HOUR))
    with store.engine.connect() as conn:
        ps = _permits_of(conn, scope, uscc)
        if not ps:
            raise NotFound(f"no valid permit of enterprise {uscc!r} (or not in your scope)")
        pids = [p.id for p in ps]
        items = outlet_pollutants(conn, pids)
        alt, full = {}, {}
        if both_methods and stop > start:  # the cross-check: from the observations, both ways
            alt = outlet_emissions(conn, items, start, stop, use_cou=False)
            full = outlet_emissions(conn, items, start, stop)
        tonnage: dict[str, float] = {}
        for name, t in conn.execute(
            select(parameter.c.name, permit_tonnage.c.tonnes_per_year)
            .select_from(permit_tonnage.join(parameter, parameter.c.id == permit_tonnage.c.parameter_id))
            .where(permit_tonnage.c.permit_id.in_(pids))):
            tonnage[name] = tonnage.get(name, 0.0) + float(t)  # several permits of one enterprise add up
    em = outlet_totals(store, items, start, stop, by_day=by is not None)
    elapsed = (stop - start) / (end - start)
    per_pol: dict[str, dict] = {}
    outlets = []
    for sid, code, _kind, pol, _pid in items:
        e = em[(sid, pol)]
        row = {"site": code, "pollutant": pol, "actual_t": e.kg / 1000, "hours": dict(e.hours),
               "missing_hours": e.missing}
        if both_methods and stop > start:
            f = full[(sid, pol)]
            row["cou_only_t"] = float(np.nansum(f.kg[f.method == "cou"])) / 1000
            row["cxq_t"] = float(np.nansum(alt[(sid, pol)].kg)) / 1000
        outlets.append(row)
        agg = per_pol.setdefault(pol, {"pollutant": pol, "actual_t": 0.0})
        agg["actual_t"] += e.kg / 1000
        if by is not None and e.by_day is not None:
            periods = agg.setdefault("periods", {})
            for d, kg in e.by_day.items():
                label = datetime.fromtimestamp(d, BEIJING).strftime("%Y-%m" if by == "month" else "%Y-%m-%d")
                periods[label] = periods.get(label, 0.0) + kg / 1000
        if both_methods:
            agg["cxq_t"] = agg.get("cxq_t", 0.0) + row.get("cxq_t", 0.0)
    for pol in tonnage:
        per_pol.setdefault(pol, {"pollutant": pol, "actual_t": 0.0})
    if by is not None:
        for agg in per_pol.values():
            agg["periods"] = [{"period": k, "actual_t": v} for k, v in sorted(agg.get("periods", {}).items())]
    for pol, agg in per_pol.items():
        permitted = tonnage.get(pol)
        agg["permitted_t"] = permitted
        agg["share"] = agg["actual_t"] / permitted if permitted else None
        agg["projected_t"] = agg["actual_t"] / elapsed if elapsed > 0 else None
        agg["projected_share"] = (agg["projected_t"] / permitted) if permitted and agg["projected_t"] is not None \
            else None
    return {"enterprise": uscc.strip().upper(), "year": int(year), "permits": [p.number for p in ps],
            "as_of": datetime.fromtimestamp(stop, UTC).isoformat(), "elapsed_share": elapsed,
            "method": "Cou where valid, else C×Q; interior gaps substituted (HJ 75-2017)",
            "pollutants": sorted(per_pol.values(), key=lambda r: r["pollutant"]), "outlets": outlets}


def check_tonnage(store: Store, year: int, *, as_of: datetime | None = None, uscc: str | None = None) -> list[dict]:
    """Raise / update ``permit_tonnage`` alerts for every enterprise with permitted tonnage (or one): warning at
    ≥ 80 %, major at ≥ 100 % of the permitted tonnage. Returns the conditions raised."""
    sc = Scope("system")
    with store.engine.connect() as conn:
        q = (select(enterprise.c.uscc).distinct()
             .select_from(permit_tonnage.join(permit, permit.c.id == permit_tonnage.c.permit_id)
                          .join(enterprise, enterprise.c.id == permit.c.enterprise_id))
             .where(permit.c.status == "valid"))
        if uscc:
            q = q.where(enterprise.c.uscc == uscc.strip().upper())
        ents = list(conn.scalars(q))
    raised = []
    now = _now_epoch(as_of)
    for u in ents:
        res = enterprise_emissions(store, sc, u, year, as_of=as_of)
        for p in res["pollutants"]:
            share = p["share"]
            if share is None or share < WARN_SHARE:
                continue
            sev = "major" if share >= OVER_SHARE else "warning"
            key = f"permit_tonnage:{u}:{p['pollutant']}:{year}"
            msg = (f"{u} {p['pollutant']} {year}: {p['actual_t']:.3f} t emitted = {share:.0%} of the permitted "
                   f"{p['permitted_t']:g} t; projected year-end {p['projected_t']:.3f} t "
                   f"({p['projected_share']:.0%})")
            with write_tx(store) as conn:
                par_id = conn.scalar(select(parameter.c.id).where(parameter.c.name == p["pollutant"]))
                raise_condition(conn, Condition(
                    rule="permit_tonnage", cause_key=key, severity=sev, message=msg, parameter_id=par_id,
                    parameter=p["pollutant"], level=p["permitted_t"], value=p["actual_t"],
                    details={"enterprise": u, "year": year, "share": share, "projected_share": p["projected_share"],
                             "permits": res["permits"]}), now)
            raised.append({"cause_key": key, "severity": sev, "share": share})
    return raised
