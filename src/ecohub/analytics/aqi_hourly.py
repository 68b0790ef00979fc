"""The maintained hourly AQI (table ``aqi_hourly``): every air station's HJ 633 real-time AQI, level and primary
pollutant per hour, kept up to date by the worker so that the one map's time slider (``/api/v1/web/map/replay``,
up to 72 hours of every station) reads stored rows instead of 22,000 hourly concentrations per request.

**What is stored** is exactly what :func:`station_hour_aqi` computes from the hourly concentrations of the six
pollutants (:func:`ecohub.standards.aqi_cn.aqi_hourly`, HJ 633 §5.1.3; the edition in force at each hour): one
row per station and hour with at least one of them, the AQI NULL where none can be given. Every hour is
independent (the real-time AQI of an hour reads only that hour's values), so an hour can be recomputed alone.

**Incremental, never stale** — as :mod:`ecohub.analytics.aqi_daily`, at hour granularity: :func:`maintain` (the
worker, every pass) recomputes the hours of the hourly air observations received since its watermark
(``worker_state`` row ``aqi_hourly``) and moves it; :func:`live_from` is the first hour with air observations
received at or after the watermark, and :func:`hour_aqi` reads the hours before it from the table and computes
that hour and later ones. Without a watermark (the worker never ran) everything is computed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import delete, insert, select

from ecohub.analytics import aqi_daily
from ecohub.analytics.aqi_service import POLLUTANTS
from ecohub.standards import aqi_cn
from ecohub.store import maintained as M
from ecohub.store.db import Store
from ecohub.store.grid import HourGrid, hourly_grid
from ecohub.store.queries import SYSTEM, Scope, SeriesFilter
from ecohub.store.schema import observation, site
from ecohub.store.schema_analytics import aqi_hourly
from ecohub.store.tx import write_tx

WATERMARK = "aqi_hourly"
CHUNK_HOURS = 24 * 7  # hours recomputed per grid read (53 stations: ≈ 53,000 values)
_MIN, _MAX = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


def station_hour_aqi(grid: HourGrid) -> aqi_cn.AqiResult:
    """HJ 633 real-time AQI of every station-hour of ``grid`` (its six pollutants), station-major: row
    ``i * grid.hours + h`` is ``grid.sites[i]`` in hour ``h``. The one definition behind the table and the
    computed hours."""
    n = len(grid.sites)
    t0 = int(grid.start.timestamp())
    times = np.tile(t0 + 3600 * np.arange(grid.hours, dtype=np.int64), n).astype("datetime64[s]")
    return aqi_cn.aqi_hourly(times=times, **{p: grid.values[p].reshape(-1) for p in POLLUTANTS})


def _computed(store: Store, scope: Scope, start: datetime, hours: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    grid = hourly_grid(store, SeriesFilter(kinds=["air_station"]), start, hours, POLLUTANTS, scope=scope)
    if not grid.sites:
        return [], np.full((0, hours), np.nan), np.full((0, hours), np.nan)
    res = station_hour_aqi(grid)
    shape = (len(grid.sites), hours)
    level = np.asarray(res.level, dtype=float).reshape(shape)
    aqi = res.aqi.reshape(shape)
    return grid.sites, aqi, np.where(np.isnan(aqi), np.nan, level)


def live_from(store: Store) -> datetime:
    """The first hour the table may not reflect: the earliest time (UTC) of air observations received since the
    last pass; ``datetime.min`` when it was never built (compute every hour), ``datetime.max`` when nothing
    arrived since (read every hour)."""
    wm = M.watermark(store, WATERMARK)
    if wm is None:
        return _MIN
    t = aqi_daily.first_air_time_since(store, wm)
    return _MAX if t is None else datetime.fromtimestamp(int(t.timestamp()) // 3600 * 3600, UTC)


def hour_aqi(store: Store, scope: Scope | None, start: datetime, hours: int, *,
             maintained: bool = True) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The hourly AQI and level of every air station the scope may see, for ``hours`` hours from ``start`` (on
    the hour): (station codes with any value in the range, sorted; AQI array (stations, hours); level array),
    NaN where there is none. Hours before :func:`live_from` come from the table, later ones are computed
    (``maintained=False``: all computed) — the same values either way."""
    sc = scope if scope is not None else SYSTEM
    end = start + timedelta(hours=hours)
    live = live_from(store) if maintained else _MIN
    split = min(max(live, start), end)
    stored: dict[str, dict[int, tuple]] = {}
    if split > start:
        q = (select(aqi_hourly.c.code, aqi_hourly.c.time, aqi_hourly.c.aqi, aqi_hourly.c.level)
             .select_from(aqi_hourly.join(site, site.c.code == aqi_hourly.c.code))
             .where(site.c.kind == "air_station", aqi_hourly.c.time >= start, aqi_hourly.c.time < split))
        t0 = int(start.timestamp())
        with store.engine.connect() as conn:
            for code, t, a, lv in conn.execute(sc.apply(q)):
                stored.setdefault(code, {})[(int(t.timestamp()) - t0) // 3600] = (a, lv)
    computed: tuple[list[str], np.ndarray, np.ndarray] = ([], np.empty((0, 0)), np.empty((0, 0)))
    offset = int((split - start).total_seconds()) // 3600
    if split < end:
        computed = _computed(store, sc, split, hours - offset)
    codes = sorted(set(stored) | set(computed[0]))
    aqi = np.full((len(codes), hours), np.nan)
    level = np.full((len(codes), hours), np.nan)
    row = {c: i for i, c in enumerate(codes)}
    for code, by_hour in stored.items():
        for h, (a, lv) in by_hour.items():
            if a is not None:
                aqi[row[code], h], level[row[code], h] = a, lv
    for k, code in enumerate(computed[0]):
        aqi[row[code], offset:] = computed[1][k]
        level[row[code], offset:] = computed[2][k]
    return codes, aqi, level


def refresh_hours(store: Store, start: datetime, end: datetime, *, now: datetime | None = None) -> int:
    """Recompute and store the hours [start, end) of every air station. Returns the rows written."""
    when = now or datetime.now(UTC)
    written = 0
    cur = start
    while cur < end:
        hours = min(CHUNK_HOURS, int((end - cur).total_seconds()) // 3600)
        grid = hourly_grid(store, SeriesFilter(kinds=["air_station"]), cur, hours, POLLUTANTS, scope=SYSTEM)
        rows = []
        if grid.sites:
            res = station_hour_aqi(grid)
            present = np.any([~np.isnan(grid.values[p]) for p in POLLUTANTS], axis=0)  # (stations, hours)
            for i, code in enumerate(grid.sites):
                for h in np.nonzero(present[i])[0].tolist():
                    k = i * hours + h
                    ok = not np.isnan(res.aqi[k])
                    rows.append({"code": code, "time": cur + timedelta(hours=h),
                                 "aqi": int(res.aqi[k]) if ok else None, "level": int(res.level[k]) if ok else None,
                                 "primary_pollutant": (str(res.primary_pollutant[k]) or None) if ok else None,
                                 "computed_at": when})
        nxt = cur + timedelta(hours=hours)
        with write_tx(store) as conn:
            conn.execute(delete(aqi_hourly).where(aqi_hourly.c.time >= cur, aqi_hourly.c.time < nxt))
            if rows:
                conn.execute(insert(aqi_hourly), rows)
        written += len(rows)
        cur = nxt
    return written


def _hour_runs(hours: set[int]) -> list[tuple[int, int]]:
    """Epoch hours as contiguous runs [(first, last + 3600), …]."""
    out: list[tuple[int, int]] = []
    for h in sorted(hours):
        if out and h == out[-1][1]:
            out[-1] = (out[-1][0], h + 3600)
        else:
            out.append((h, h + 3600))
    return out


def maintain(store: Store, *, now: datetime | None = None, overlap: int = 300) -> dict:
    """One incremental step: the hours of hourly air observations received in (watermark − ``overlap`` s,
    ``now``], recomputed; the watermark moved to ``now``. Returns {hours, rows, since}."""
    hi = M.pass_bound(store, now)
    wm = M.watermark(store, WATERMARK)
    lo = None if wm is None else wm - timedelta(seconds=overlap)
    frm, cond = aqi_daily.air_hourly()
    q = select(observation.c.time).select_from(frm).where(cond, observation.c.received_at <= hi).distinct()
    if lo is not None:
        q = q.where(observation.c.received_at >= lo)  # the same second again: SQLite keeps whole seconds
    with store.engine.connect() as conn:
        touched = {int(t.timestamp()) // 3600 * 3600 for (t,) in conn.execute(q)}
    rows = sum(refresh_hours(store, datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC), now=hi)
               for a, b in _hour_runs(touched))
    M.set_watermark(store, WATERMARK, hi, {"hours": len(touched), "rows": rows})
    return {"since": lo.isoformat() if lo else None, "hours": len(touched), "rows": rows}


__all__ = ["maintain", "refresh_hours", "live_from", "hour_aqi", "station_hour_aqi", "WATERMARK"]
