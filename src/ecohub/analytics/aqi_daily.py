"""The maintained daily AQI (table ``aqi_daily``): every air station's and every city's daily values, kept up to
date by the worker so that readers — the cockpit's year of city-days, the rankings, reports, forecasts — do not
recompute a year of hourly observations per request.

**What is stored** is exactly what :func:`ecohub.analytics.aqi_service.computed_site_values` computes from the
hourly observations (GB 3095 Table 4: 24-h means with ≥ 20 valid hours; O3 the daily maximum 8-h mean with
its validity rule, ``gb3095.daily_max_8h_o3``), one row per station and Beijing day with at least one value,
and per city the mean of all its stations' valid values (``hj663.city_daily``), each with its HJ 633 daily AQI,
level and primary pollutant (``aqi_service.daily_rows``). Every day is independent (the O3 windows lie inside
the day), so a day can be recomputed alone.

**Incremental.** :func:`maintain` (the worker, every pass) takes the hourly air observations received since its
watermark (``worker_state`` row ``aqi_daily``; the ``observation.received_at`` index makes it a range scan),
recomputes the Beijing days they fall on — late and back-filled data included — and moves the watermark. The
first pass (no watermark) builds every day that has data.

**Readers never see stale days.** :func:`live_from` is the first day with observations received at or after
the watermark (SQLite keeps whole seconds: a row of the pass's own second may not have been seen); ``site_daily_values`` reads the days before it from the table and computes that day and later
ones from the observations. Without a watermark (the worker never ran: tests, a fresh import) everything is
computed, as before the table existed. A row received inside the worker's overlap window but committed after
its pass is taken by the next pass (the watermark moves to the pass's start time, not past unseen rows).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import and_, delete, insert, select

from ecohub.analytics import aqi_service as A
from ecohub.standards import hj663
from ecohub.store import maintained as M
from ecohub.store.db import Store
from ecohub.store.queries import SYSTEM, window_label
from ecohub.store.schema import observation, parameter, series, site
from ecohub.store.schema_analytics import aqi_daily
from ecohub.store.tx import write_tx

WATERMARK = "aqi_daily"
bj_day = M.bj_day
pass_bound = M.pass_bound  # the upper receipt time of a pass (also receipts stamped ahead of the clock)


def air_hourly():
    """The join and condition of hourly observations of the six pollutants at air stations."""
    frm = (observation.join(series, series.c.id == observation.c.series_id)
           .join(site, site.c.id == series.c.site_id).join(parameter, parameter.c.id == series.c.parameter_id))
    cond = and_(site.c.kind == "air_station", series.c.interval == "hour", parameter.c.name.in_(A.POLLUTANTS))
    return frm, cond


def watermark(store: Store, name: str = WATERMARK) -> datetime | None:
    return M.watermark(store, name)


def first_air_time_since(store: Store, since: datetime) -> datetime | None:
    """The earliest observation time of the hourly air-pollutant series among the rows received at or after
    ``since`` (None: none) — where a maintained table (``aqi_daily``, ``aqi_hourly``) stops being complete."""
    with store.engine.connect() as conn:  # the received_at index: only the rows since the pass are read
        firsts = M.first_times_received_since(conn, since)
        if not firsts:
            return None
        _frm, cond = air_hourly()
        air = set(conn.scalars(select(series.c.id).select_from(
            series.join(site, site.c.id == series.c.site_id).join(parameter, parameter.c.id == series.c.parameter_id))
            .where(cond)))
    return min((t for sid, t in firsts.items() if sid in air), default=None)


def live_from(store: Store) -> date:
    """The first Beijing day the table may not reflect: ``date.min`` when it was never built (compute every
    day), ``date.max`` when nothing arrived since the last pass (read every day)."""
    wm = watermark(store)
    if wm is None:
        return date.min
    t = first_air_time_since(store, wm)
    return date.max if t is None else bj_day(t)


def fill_site_values(store: Store, st: list[dict], d0: date, d1: date, vals: dict[str, np.ndarray]) -> int:
    """Put the stored daily values of the stations ``st`` (rows of ``queries.sites``, already limited to the
    caller's scope) for days d0 … d1 into ``vals`` (arrays whose column 0 is d0). Returns the rows read."""
    if d1 < d0 or not st:
        return 0
    index = {s["code"]: i for i, s in enumerate(st)}
    cols = [aqi_daily.c[k] for k in A.DAILY_KEYS]
    n = 0
    codes = list(index)
    with store.engine.connect() as conn:
        for k in range(0, len(codes), 500):
            q = (select(aqi_daily.c.code, aqi_daily.c.day, *cols)
                 .where(aqi_daily.c.kind == "site", aqi_daily.c.code.in_(codes[k:k + 500]),
                        aqi_daily.c.day >= d0, aqi_daily.c.day <= d1))
            for r in conn.execute(q):
                i, j = index[r[0]], (r[1] - d0).days
                for m, key in enumerate(A.DAILY_KEYS):
                    v = r[2 + m]
                    if v is not None:
                        vals[key][i, j] = v
                n += 1
    return n


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)


def refresh_days(store: Store, d0: date, d1: date, *, now: datetime | None = None) -> int:
    """Recompute and store the days d0 … d1 (every station, every city). Returns the rows written."""
    when = now or datetime.now(UTC)
    written = 0
    cur = d0
    while cur <= d1:
        end = min(d1, cur + timedelta(days=A.MAX_DAYS - 1))
        dv = A.site_daily_values(store, cur, end, scope=SYSTEM, maintained=False)
        groups: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(dv.sites):
            groups[A.city_of(s["region_code"])].append(i)
        raw = {  # the unrounded daily values behind each row, as the readers use them
            "site": {s["code"]: {k: dv.values[k][i] for k in A.DAILY_KEYS} for i, s in enumerate(dv.sites)},
            "city": {c: {k: hj663.city_daily(v[g], axis=0) for k, v in dv.values.items()} for c, g in groups.items()},
        }
        rows = []
        for by in ("site", "city"):
            for r in A.daily_rows(store, dv, by):
                code, day = r[by], date.fromisoformat(r["date"])
                v = {k: _num(raw[by][code][k][(day - cur).days]) for k in A.DAILY_KEYS}
                if all(x is None for x in v.values()):
                    continue
                rows.append({"kind": by, "code": code, "day": day, **v, "aqi": r["aqi"], "level": r["level"],
                             "primary_pollutant": r["primary_pollutant"], "computed_at": when})
        with write_tx(store) as conn:
            conn.execute(delete(aqi_daily).where(aqi_daily.c.day >= cur, aqi_daily.c.day <= end))
            if rows:
                conn.execute(insert(aqi_daily), rows)
        written += len(rows)
        cur = end + timedelta(days=1)
    return written


def set_watermark(store: Store, value: datetime, info: dict, name: str = WATERMARK) -> None:
    M.set_watermark(store, name, value, info)


def maintain(store: Store, *, now: datetime | None = None, overlap: int = 300) -> dict:
    """One incremental step: the days of hourly air observations received in (watermark − ``overlap`` s,
    ``now``], recomputed; the watermark moved to ``now``. Returns {days, rows, since}."""
    hi = pass_bound(store, now)
    wm = watermark(store)
    lo = None if wm is None else wm - timedelta(seconds=overlap)
    frm, cond = air_hourly()
    label = window_label(store, "day")
    q = select(label).select_from(frm).where(cond, observation.c.received_at <= hi).distinct()
    if lo is not None:
        q = q.where(observation.c.received_at >= lo)  # the same second again: SQLite keeps whole seconds
    with store.engine.connect() as conn:
        days = {date.fromisoformat(str(d)[:10]) for (d,) in conn.execute(q)}
    rows = sum(refresh_days(store, a, b, now=hi) for a, b in M.day_runs(days))
    set_watermark(store, hi, {"days": len(days), "rows": rows})
    return {"since": lo.isoformat() if lo else None, "days": len(days), "rows": rows}


__all__ = ["maintain", "refresh_days", "live_from", "fill_site_values", "watermark", "WATERMARK",
           "first_air_time_since", "set_watermark", "pass_bound", "air_hourly"]
