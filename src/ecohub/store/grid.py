"""Hourly observations as a grid: one ``(sites × hours)`` array per parameter, for readers that compute on every
station's hours at once — the one map's time slider (``/api/v1/web/map/replay``), a station's last hours, the
daily maximum 8-h O3 windows.

Reading the same rows through :func:`ecohub.store.queries.observations` (a dict per row, site and parameter
names joined per row) and filling arrays in a Python loop cost 75 ms for a day of the demo province's 53
stations (7,527 values); here the series are resolved once and only ``(series, epoch second, value)`` is read
and placed with numpy (``bench/bench_reads.py``, ``/api/v1/web/map/replay``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import BigInteger, ColumnElement, cast, func, select, type_coerce

from ecohub.store.db import Store
from ecohub.store.queries import Scope, SeriesFilter, _joined, _scope
from ecohub.store.schema import observation, parameter, series, site


@dataclass(frozen=True)
class HourGrid:
    """``values[p][i, h]``: parameter ``p`` at site ``sites[i]`` in hour ``h`` after ``start`` (NaN: none)."""

    start: datetime
    hours: int
    sites: list[str]
    values: dict[str, np.ndarray]


def epoch_seconds(store: Store, col) -> ColumnElement:
    """A time column as integer epoch seconds, without building a ``datetime`` per row (SQLite stores them)."""
    if store.is_postgres:
        return cast(func.extract("epoch", col), BigInteger)
    return type_coerce(col, BigInteger)


def hourly_grid(store: Store, flt: SeriesFilter, start: datetime, hours: int, parameters: Sequence[str], *,
                scope: Scope | None = None) -> HourGrid:
    """Hourly values (``series.interval = 'hour'``) of the series matching ``flt`` and the caller's scope, for
    ``parameters``, in ``[start, start + hours)`` (``start`` on the hour). Sites with no value in the range are
    left out; ``sites`` is sorted. Where several sources stored a value for one hour, the one of the highest
    source id is kept — the last in :func:`~ecohub.store.queries.observations`' order, as the loop this replaces
    did."""
    params = list(parameters)
    reg = _joined(series.c.id, site.c.code, parameter.c.name).where(series.c.interval == "hour")
    reg = _scope(scope).apply(SeriesFilter(flt.sites, params, "hour", flt.kinds, flt.region_prefix).apply(reg))
    t0 = int(start.timestamp())
    with store.engine.connect() as conn:
        known = conn.execute(reg).all()
        if not known:
            return HourGrid(start, hours, [], {p: np.full((0, hours), np.nan) for p in params})
        rows = conn.execute(
            select(observation.c.series_id, epoch_seconds(store, observation.c.time), observation.c.value)
            .where(observation.c.series_id.in_([k[0] for k in known]), observation.c.time >= start,
                   observation.c.time < start + timedelta(hours=hours), observation.c.value.is_not(None))
            .order_by(observation.c.series_id, observation.c.time, observation.c.source_id)).all()
    if not rows:
        return HourGrid(start, hours, [], {p: np.full((0, hours), np.nan) for p in params})
    sid = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    hour = (np.fromiter((r[1] for r in rows), np.int64, len(rows)) - t0) // 3600
    val = np.fromiter((r[2] for r in rows), np.float64, len(rows))
    present = set(np.unique(sid).tolist())
    codes = sorted({code for s_id, code, _ in known if s_id in present})
    row_of = {c: i for i, c in enumerate(codes)}
    lookup_site = np.full(int(max(k[0] for k in known)) + 1, -1, np.int64)
    lookup_param = np.full(lookup_site.size, -1, np.int64)
    for s_id, code, name in known:
        lookup_site[s_id] = row_of.get(code, -1)
        lookup_param[s_id] = params.index(name)
    site_i, param_i = lookup_site[sid], lookup_param[sid]
    ok = (site_i >= 0) & (hour >= 0) & (hour < hours)
    flat = (param_i[ok] * len(codes) + site_i[ok]) * hours + hour[ok]
    last = np.ones(flat.size, bool)  # rows come by series, time, source: repeats of one hour are adjacent
    last[:-1] = flat[1:] != flat[:-1]
    cells = np.full(len(params) * len(codes) * hours, np.nan)
    cells[flat[last]] = val[ok][last]
    cube = cells.reshape(len(params), len(codes), hours)
    return HourGrid(start, hours, codes, {p: cube[j] for j, p in enumerate(params)})
