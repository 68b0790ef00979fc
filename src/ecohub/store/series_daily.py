"""The maintained daily rollup of every series (table ``series_daily``, migration 0025): per series and Beijing day
the count of non-null values, their sum, minimum and maximum — the ``window="day"`` rows of
:func:`ecohub.store.queries.aggregate` (mean = sum / count), kept by the worker so that a month of daily figures
of every series is an index read of 30 rows per series instead of a rollup of 720 observations each.

**What is stored** is what the raw rollup computes: ``count``, ``avg``, ``min``, ``max`` of ``observation.value``
over every stored row of the series and day — flags, QC flags, quarantine and corrections play no part there
(quarantined input never reaches ``observation``; corrections are rows of their own table), so none here.

**Incremental.** :func:`maintain` (the worker, every pass, after the daily AQI) takes the (series, Beijing day)
pairs of the observations received in (watermark − overlap, now] (the ``observation.received_at`` index),
recomputes those pairs from the observations — late and back-filled data included — and moves the watermark
(``worker_state`` row ``series_daily``, its info keeps the overlap). The first pass (no watermark) builds every
day (:data:`BUILD_DAYS` at a time). Writes: :func:`ecohub.store.tx.write_tx` (SQLite ``BEGIN IMMEDIATE``);
PostgreSQL serialises the writers of the table with an advisory lock (the worker, retention).

**Readers never see stale days.** :func:`reader` gives, per series with observations received at or after
watermark − overlap (a row whose transaction committed after the pass is among them), the first Beijing day of
those; ``aggregate`` reads from the table only the whole Beijing days of the range before that day (the least of
a chunk of series) and rolls the rest up from the observations — the partial days at the range's edges and the
live days. Without a watermark (the worker never ran) everything is rolled up, as before the table existed.

**What else changes observations.** Nothing updates them (migration 0002; a different value for a stored key
goes to ``observation_conflict``) and only retention deletes them (migration 0008): ``run_retention`` calls
:func:`after_retention` in its transaction, which recomputes the minute series' days up to the cut-off's from
what is left (also while the table is not built yet: a first build running beside it then stays right). A
database restored from a backup carries the table and its watermark together.

**Exact.** SQLite reads a series' rows in key order (time, source) both here and in the raw rollup through the
series key (the API's path), so the sums are the same floats (tested). PostgreSQL sums here in that order too
(an ordered aggregate); its raw rollup sums in the order of its plan (a sort is not stable), so a mean there may
differ from a raw one in its last bit — as two raw rollups with different plans already do (SQLite's rollup of
the whole table without range or limit reads in receipt order, through the received_at index). Month and year windows are not read from here: a sum of
daily sums is not the float the raw rollup computes. Days before :data:`FIRST_DAY` are never stored (PostgreSQL
labels days in Asia/Shanghai time, which had daylight saving until 1991; readers count fixed UTC+8 days).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, cast, delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement, Select

from ecohub.store import maintained as M
from ecohub.store.db import Store
from ecohub.store.queries import _by_series, _dicts, window_label
from ecohub.store.schema import observation
from ecohub.store.schema_analytics import series_daily
from ecohub.store.tx import write_tx

WATERMARK = "series_daily"
DEFAULT_OVERLAP = 300  # seconds; the worker's (``WorkerSettings.overlap``), recorded by each pass
BUILD_DAYS = 7  # days recomputed per transaction (the SQLite write lock is held that long)
MAX_IDS = 500  # series per statement
FIRST_DAY = date(1992, 1, 1)  # Asia/Shanghai has been UTC+8 without daylight saving since 1991-09
LOCK = 0x5D_A117  # PostgreSQL advisory lock key of the writers of series_daily
ONE_DAY = timedelta(days=1)


def lock(conn: Connection) -> None:
    """PostgreSQL: wait for the other writers of the table (until the transaction ends)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})


def _day(store: Store) -> ColumnElement[Any]:
    """The Beijing day of ``observation.time``: the raw rollup's own day label, as a date."""
    d = func.substr(window_label(store, "day"), 1, 10)
    return cast(d, Date) if store.is_postgres else d  # SQLite stores dates as 'YYYY-MM-DD'


def _as_date(v: Any) -> date:
    return v if isinstance(v, date) else date.fromisoformat(str(v))


def _recompute(conn: Connection, store: Store, sids: Sequence[int] | Select | None, d0: date, d1: date) -> int:
    """In the caller's write transaction: the rows of the series ``sids`` (a list or a query of ids; None: every
    series) for the days d0 … d1, from the observations. Returns the rows written."""
    d0 = max(d0, FIRST_DAY)
    if d1 < d0:
        return 0
    obs = [observation.c.time >= M.day_start(d0), observation.c.time < M.day_start(d1 + ONE_DAY)]
    rows = [series_daily.c.day >= d0, series_daily.c.day <= d1]
    if sids is None:
        obs += _by_series(store)  # SQLite: series by series through the key, not a scan of the table
    else:
        ids = sids if isinstance(sids, Select) else list(sids)
        obs.append(observation.c.series_id.in_(ids))
        rows.append(series_daily.c.series_id.in_(ids))
    if store.is_postgres:  # the order SQLite reads them in (its key): the same sum on both backends
        total = func.sum(aggregate_order_by(observation.c.value, observation.c.time, observation.c.source_id))
    else:
        total = func.sum(observation.c.value)
    day = _day(store)
    q = (select(observation.c.series_id, day, func.count(observation.c.value), total,
                func.min(observation.c.value), func.max(observation.c.value))
         .where(*obs).group_by(observation.c.series_id, day))
    conn.execute(delete(series_daily).where(*rows))
    ins = insert(series_daily).from_select(["series_id", "day", "n", "total", "vmin", "vmax"], q)
    return conn.execute(ins.execution_options(preserve_rowcount=True)).rowcount


def _days(d0: date, d1: date) -> Iterable[tuple[date, date]]:
    while d0 <= d1:
        e = min(d1, d0 + timedelta(days=BUILD_DAYS - 1))
        yield d0, e
        if e == date.max:
            return
        d0 = e + ONE_DAY


def build(store: Store) -> int:
    """The whole table from the observations (the first pass). Returns the rows."""
    with write_tx(store) as conn:
        lock(conn)
        conn.execute(delete(series_daily))
    with store.engine.connect() as conn:
        t0, t1 = conn.execute(select(func.min(observation.c.time), func.max(observation.c.time))).one()
    if t0 is None:
        return 0
    n = 0
    for a, b in _days(max(FIRST_DAY, M.bj_day(t0)), M.bj_day(t1)):
        with write_tx(store) as conn:
            lock(conn)
            n += _recompute(conn, store, None, a, b)
    return n


def refresh(store: Store, pairs: Iterable[tuple[int, date]]) -> int:
    """Recompute the (series id, Beijing day) pairs: per run of consecutive days, the series sharing it
    together. Returns the rows written."""
    by_series: dict[int, set[date]] = defaultdict(set)
    for sid, d in pairs:
        if d >= FIRST_DAY:
            by_series[sid].add(d)
    runs: dict[tuple[date, date], list[int]] = defaultdict(list)
    for sid, days in by_series.items():
        for run in M.day_runs(days):
            runs[run].append(sid)
    n = 0
    for (d0, d1), sids in sorted(runs.items()):
        sids.sort()
        for k in range(0, len(sids), MAX_IDS):
            for a, b in _days(d0, d1):
                with write_tx(store) as conn:
                    lock(conn)
                    n += _recompute(conn, store, sids[k:k + MAX_IDS], a, b)
    return n


def maintain(store: Store, *, now: datetime | None = None, overlap: int = DEFAULT_OVERLAP) -> dict[str, Any]:
    """One incremental step: the (series, day) pairs of observations received in (watermark − ``overlap`` s,
    ``now``] recomputed (the first pass: everything); the watermark moved to ``now``. Returns {since, pairs,
    rows}."""
    hi = M.pass_bound(store, now)
    wm = M.watermark(store, WATERMARK)
    lo = None if wm is None else wm - timedelta(seconds=overlap)
    pairs: int | None = None
    if lo is None:
        rows = build(store)
    else:
        day = _day(store)
        q = (select(observation.c.series_id, day).distinct()
             .where(observation.c.received_at >= lo, observation.c.received_at <= hi))
        with store.engine.connect() as conn:
            found = [(sid, _as_date(d)) for sid, d in conn.execute(q)]
        pairs = len(found)
        rows = refresh(store, found)
    M.set_watermark(store, WATERMARK, hi, {"overlap": overlap, "pairs": pairs, "rows": rows})
    return {"since": lo.isoformat() if lo else None, "pairs": pairs, "rows": rows}


def after_retention(conn: Connection, store: Store, sids: Select, cutoff: datetime) -> int:
    """In retention's transaction, after its DELETE: the days up to the cut-off's of the series ``sids`` (a
    query of ids) recomputed from what is left. Returns the rows written. The transaction takes :func:`lock`
    before it touches ``observation`` (PostgreSQL: the same order as the worker's, no deadlock)."""
    lock(conn)
    return _recompute(conn, store, sids, FIRST_DAY, M.bj_day(cutoff))


# --- reading ------------------------------------------------------------------------------------------------
def label(d: date) -> str:
    """The raw rollup's label of a Beijing day."""
    return f"{d.isoformat()}T00:00:00+08:00"


@dataclass(frozen=True)
class Reader:
    """The days of ``[start, end)`` the table answers for: whole Beijing days from ``first`` to before
    ``stop`` (None: no end), and per series with newer arrivals the first day it may not reflect (``live``)."""

    start: datetime | None
    end: datetime | None
    first: date
    stop: date | None
    live: dict[int, date]

    def rows(self, conn: Connection, rollup: Select, chunk: Sequence[Sequence[Any]],
             limit: int | None) -> list[dict]:
        """The rows of ``aggregate(window="day")`` of the series ``chunk`` ((id, site, parameter, interval) in
        the answer's order), at most ``limit``: from the table for its days, rolled up (``rollup``: the raw
        query without time conditions) for the rest."""
        ids = [c[0] for c in chunk]
        stop = self.stop
        cut = min((self.live[i] for i in ids if i in self.live), default=None)
        if cut is not None:
            stop = cut if stop is None else min(stop, cut)
        by_ids = rollup.where(observation.c.series_id.in_(ids))
        if stop is not None and self.first >= stop:  # nothing whole and settled: all rolled up
            return _dicts(conn.execute(by_ids.where(*self._within(None, None)).limit(limit)))
        t_first = M.day_start(self.first)
        head: dict[tuple, list[dict]] = defaultdict(list)  # (site, parameter, interval) → rows before first
        if self.start is None or self.start < t_first:
            for r in _dicts(conn.execute(by_ids.where(*self._within(None, t_first)).limit(limit))):
                head[(r["site"], r["parameter"], r["interval"])].append(r)
        tail: dict[tuple, list[dict]] = defaultdict(list)  # … from stop on
        if stop is not None and (self.end is None or M.day_start(stop) < self.end):
            for r in _dicts(conn.execute(by_ids.where(*self._within(M.day_start(stop), None)).limit(limit))):
                tail[(r["site"], r["parameter"], r["interval"])].append(r)
        q = (select(series_daily.c.series_id, series_daily.c.day, series_daily.c.n, series_daily.c.total,
                    series_daily.c.vmin, series_daily.c.vmax)
             .where(series_daily.c.series_id.in_(ids), series_daily.c.day >= self.first)
             .order_by(series_daily.c.series_id, series_daily.c.day))
        if stop is not None:
            q = q.where(series_daily.c.day < stop)
        stored: dict[int, list[tuple]] = defaultdict(list)
        labels: dict[Any, str] = {}
        for sid, d, *row in conn.execute(q).all():
            if d not in labels:
                labels[d] = label(_as_date(d))
            stored[sid].append((labels[d], *row))
        out: list[dict] = []
        for sid, site, parameter, interval in chunk:
            key = (site, parameter, interval)
            out += head.get(key, [])
            out += [{"site": site, "parameter": parameter, "interval": interval, "window": d,
                     "count": n, "mean": (total + 0.0) / n if n else None,  # + 0.0: never -0.0, as the
                     "min": lo, "max": hi} for d, n, total, lo, hi in stored.get(sid, [])]  # rollup's avg
            out += tail.get(key, [])
            if limit is not None and len(out) >= limit:
                return out[:limit]
        return out

    def _within(self, lo: datetime | None, hi: datetime | None) -> list[ColumnElement[bool]]:
        """Time conditions of ``[start, end)`` narrowed to ``[lo, hi)``."""
        conds = []
        for t in (self.start, lo):
            if t is not None:
                conds.append(observation.c.time >= t)
        for t in (self.end, hi):
            if t is not None:
                conds.append(observation.c.time < t)
        return conds


def reader(conn: Connection, start: datetime | None, end: datetime | None) -> Reader | None:
    """What ``aggregate(window="day")`` over ``[start, end)`` may read from the table; None when nothing (never
    built, or no whole day in the range)."""
    wm = M.watermark_row(conn, WATERMARK)
    if wm is None:
        return None
    first = FIRST_DAY
    if start is not None:
        d = M.bj_day(start)
        if M.day_start(d) < start:
            if d == date.max:
                return None
            d += ONE_DAY
        first = max(first, d)
    stop = None if end is None else M.bj_day(end)  # the day of ``end`` is not whole in the range
    if stop is not None and first >= stop:
        return None
    since = wm[0] - timedelta(seconds=int(wm[1].get("overlap", DEFAULT_OVERLAP)))
    live = {sid: M.bj_day(t) for sid, t in M.first_times_received_since(conn, since).items()}
    return Reader(start, end, first, stop, live)


__all__ = ["maintain", "build", "refresh", "after_retention", "lock", "reader", "Reader", "label", "WATERMARK"]
