"""The hourly emissions rollup (table ``emission_hourly``): per outlet × pollutant × hour the *measured* emission
of the hour — the device's Cou, else C × Q, or zero for a stopped hour (flag F) — as
:func:`ecohub.supervision.permits.emissions.hourly_emission` computes it before substitution. Invalid and missing
hours have no row.

**Why measured, not substituted.** An hour's measured emission depends on that hour's data alone (its
observations, device flags and stored QC flags), so a late value or a correction changes only its own hour's
row. The HJ 75-2017 gap substitution depends on the neighbours (and on up to 720 earlier valid hours) and on the
period asked for, so it is applied when reading (:func:`totals`), in SQL: sums per method, and the gaps found with
``LAG`` over the rows — the same numbers as the from-scratch computation over the same period (tested on both
backends).

**Daily sums** (table ``emission_daily``, migration 0023): per outlet × pollutant × Beijing day the count, kg,
counts by method and first/last hour of that day's hourly rows, recomputed from the hourly rows of every day a
recompute touches, in the same transaction. :func:`totals` reads the whole days of a period from it (a year: 365
rows per series instead of 8,760) and the partial days at the edges, and the gaps of the series that have
any, from the hourly rows — the same numbers (tested against the from-scratch computation).

**Incremental.** :func:`maintain` (the worker, every pass) takes the outlet observations received since its
watermark (``worker_state`` row ``emission_hourly``) and the QC flags written since on those series (QC writes
flags only for series that received data), and recomputes, per outlet, the hours from the earliest to the latest
of their data times (late data and retransmissions included); the first
pass (no watermark) builds every hour that has data. The watermark moves to the pass's start (rows committed
later, inside the overlap window, are taken by the next pass).

**Readers never see stale hours.** :func:`refresh_stale` recomputes, for the outlets asked for, the hours of
observations received since the last pass before :func:`totals` reads; without a watermark (the worker never
ran) readers compute from the observations as before (``emissions.outlet_totals``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import Connection

from ecohub.domain.parameters import BY_NAME
from ecohub.quality.outlets import outlet_hours
from ecohub.store import registry as R
from ecohub.store.db import Store
from ecohub.store.schema import observation, series, site
from ecohub.store.schema_permits import emission_daily, emission_hourly
from ecohub.store.schema_quality import qc_flag, worker_state
from ecohub.store.tx import write_tx
from ecohub.supervision.permits.hourly import (
    FLOW_OF,
    HOUR,
    LOOKBACK_HOURS,
    MASS_FACTOR,
    SHORT_GAP_HOURS,
    hourly_amount,
    hourly_emission,
)
from ecohub.supervision.permits.hourly import _on as hourly_on

WATERMARK = "emission_hourly"
BEIJING_OFFSET = 8 * HOUR
OUTLET_KINDS = ("gas_outlet", "water_outlet")
CONC_UNIT = {"gas_outlet": "mg/m³", "water_outlet": "mg/L"}
CHUNK_HOURS = 20_000  # outlet-hours recomputed per transaction
SPAN_HOURS = 744  # at most one month of an outlet's data loaded at once
ROLLUP_LOCK = 1_418_0018  # PostgreSQL advisory lock key of the rollup writes (the worker, readers' refreshes)


def pollutant_of(kind: str, name: str) -> bool:
    """Is ``name`` a pollutant whose mass this outlet kind's formula gives (a concentration in the kind's unit)?"""
    p = BY_NAME.get(name)
    return (p is not None and p.unit == CONC_UNIT.get(kind) and name not in FLOW_OF.values()
            and not name.endswith("_zs"))


def factor(kind: str, name: str) -> float | None:
    return MASS_FACTOR.get((BY_NAME[name].unit, BY_NAME[FLOW_OF[kind]].unit))


def _on(grid: np.ndarray, t: np.ndarray, v: np.ndarray) -> np.ndarray:
    return hourly_on(grid, (t, v))


def _on_bool(grid: np.ndarray, t: np.ndarray, v: np.ndarray) -> np.ndarray:
    out = np.zeros(grid.size, bool)
    if t.size:
        pos = np.clip(np.searchsorted(t, grid), 0, t.size - 1)
        hit = t[pos] == grid
        out[hit] = v[pos[hit]]
    return out


def measured_rows(conn: Connection, ranges: dict[int, tuple[int, int]]) -> list[dict]:
    """The rollup rows of each outlet over its hour range [a, b) (hour-aligned): every pollutant with data."""
    if not ranges:
        return []
    kinds = dict(conn.execute(select(site.c.id, site.c.kind).where(site.c.id.in_(list(ranges)))).all())
    pid = R.parameter_index(conn)
    by_range: dict[tuple[int, int], list[int]] = defaultdict(list)
    for s, r in ranges.items():
        if kinds.get(s) in OUTLET_KINDS:
            by_range[r].append(s)
    rows: list[dict] = []
    for (a, b), sids in by_range.items():
        grid = np.arange(a, b, HOUR, dtype=np.int64)
        hours = outlet_hours(conn, sids, a, b)
        for s in sids:
            d = hours.get(s, {})
            kind = kinds[s]
            fl = d.get(FLOW_OF[kind])
            q = _on(grid, fl.time, fl.value) if fl else np.full(grid.size, np.nan)
            q_off = _on_bool(grid, fl.time, fl.stopped) if fl else np.zeros(grid.size, bool)
            for name, h in d.items():
                f = factor(kind, name) if pollutant_of(kind, name) else None
                if f is None:
                    continue
                cou = hourly_amount(d.get(name + "_cou"))
                e = hourly_emission(grid, _on(grid, h.time, h.value), q,
                                    _on(grid, cou.time, cou.value) if cou else np.full(grid.size, np.nan), f,
                                    substitute=False, stopped=q_off | _on_bool(grid, h.time, h.stopped))
                ok = np.flatnonzero(np.isfinite(e.kg))
                p = pid[name]
                rows.extend({"site_id": s, "parameter_id": p, "hour": int(grid[i]), "kg": float(e.kg[i]),
                             "method": e.method[i]} for i in ok)
    return rows


def _epoch(t: datetime) -> int:
    return int(t.timestamp())


def _hour_range(t0: datetime, t1: datetime) -> tuple[int, int]:
    a = (_epoch(t0) // HOUR) * HOUR
    return a, (_epoch(t1) // HOUR) * HOUR + HOUR


def touched(conn: Connection, lo: datetime | None, hi: datetime | None = None,
            site_ids: list[int] | None = None) -> dict[int, tuple[int, int]]:
    """Outlet → hour range [a, b) covering the data times of observations received in (lo, hi], extended to the QC
    flags written in that window on the same series (QC writes flags only for series that received data — from
    the earliest new value on — so a flag re-written later in such a series is caught; no full scan of qc_flag)."""
    q = (select(series.c.id, series.c.site_id, func.min(observation.c.time), func.max(observation.c.time))
         .select_from(observation.join(series, series.c.id == observation.c.series_id)
                      .join(site, site.c.id == series.c.site_id))
         .where(site.c.kind.in_(OUTLET_KINDS)).group_by(series.c.id, series.c.site_id))
    if lo is not None:
        q = q.where(observation.c.received_at > lo)
    if hi is not None:
        q = q.where(observation.c.received_at <= hi)
    if site_ids is not None:
        q = q.where(series.c.site_id.in_(site_ids))
    spans: dict[int, list] = {}
    site_of: dict[int, int] = {}
    for sid, s, t0, t1 in conn.execute(q):
        spans[int(sid)] = [t0, t1]
        site_of[int(sid)] = int(s)
    if lo is not None and spans:
        ids = sorted(spans)
        for k in range(0, len(ids), 500):
            fq = (select(qc_flag.c.series_id, func.max(qc_flag.c.time))
                  .where(qc_flag.c.series_id.in_(ids[k:k + 500]), qc_flag.c.created_at > lo)
                  .group_by(qc_flag.c.series_id))
            if hi is not None:
                fq = fq.where(qc_flag.c.created_at <= hi)
            for sid, t in conn.execute(fq):
                spans[int(sid)][1] = max(spans[int(sid)][1], t)
    out: dict[int, tuple[int, int]] = {}
    for sid, (t0, t1) in spans.items():
        a, b = _hour_range(t0, t1)
        s = site_of[sid]
        if s in out:
            a, b = min(a, out[s][0]), max(b, out[s][1])
        out[s] = (a, b)
    return out


def _upsert(conn: Connection):
    """INSERT … ON CONFLICT (site, parameter, hour) DO UPDATE for either backend."""
    from sqlalchemy.dialects import postgresql, sqlite

    q = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(emission_hourly)
    return q.on_conflict_do_update(index_elements=["site_id", "parameter_id", "hour"],
                                   set_={"kg": q.excluded.kg, "method": q.excluded.method})


def pieces(ranges: dict[int, tuple[int, int]]) -> list[tuple[int, tuple[int, int]]]:
    """Each outlet's hour range cut at multiples of :data:`SPAN_HOURS` (an hour depends on its own data only, so
    the cut is exact and bounds the data loaded at once); ordered by time, then outlet."""
    step = SPAN_HOURS * HOUR
    out = []
    for s, (a, b) in ranges.items():
        t = a
        while t < b:
            e = min(b, (t // step + 1) * step)
            out.append((s, (t, e)))
            t = e
    return sorted(out, key=lambda x: (x[1][0], x[0]))


def recompute(store: Store, ranges: dict[int, tuple[int, int]]) -> int:
    """Recompute and store the rollup rows of each outlet's hour range, about :data:`CHUNK_HOURS` outlet-hours
    per transaction. Returns the rows written."""
    written = 0
    batch: dict[int, tuple[int, int]] = {}
    size = 0
    todo = pieces(ranges)

    def flush() -> int:
        with store.engine.connect() as conn:
            rows = measured_rows(conn, batch)
        with write_tx(store) as conn:
            if conn.dialect.name == "postgresql":  # one rollup writer at a time (SQLite: BEGIN IMMEDIATE)
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ROLLUP_LOCK})
            for s2, (a, b) in batch.items():
                conn.execute(delete(emission_hourly).where(emission_hourly.c.site_id == s2,
                                                           emission_hourly.c.hour >= a, emission_hourly.c.hour < b))
            if rows:  # upsert: a reader's refresh and the worker may recompute the same hours at once (PostgreSQL)
                conn.execute(_upsert(conn), rows)
            _redo_days(conn, batch)
        return len(rows)

    for s, r in todo:
        if s in batch:  # one range per outlet in a batch
            written += flush()
            batch, size = {}, 0
        batch[s] = r
        size += (r[1] - r[0]) // HOUR
        if size >= CHUNK_HOURS:
            written += flush()
            batch, size = {}, 0
    if batch:
        written += flush()
    return written


DAY_SQL = f"((hour + {BEIJING_OFFSET}) / 86400) * 86400 - {BEIJING_OFFSET}"  # the Beijing day of an hour
_DAILY_COLS = "n, kg, cou, stopped, first_hour, last_hour"
#: the aggregates of hourly rows (a day's, or any range's) — the same shape as the daily rows' sums
_HOURLY_AGG = ("COUNT(*), SUM(kg), SUM(CASE WHEN method = 'cou' THEN 1 ELSE 0 END), "
               "SUM(CASE WHEN method = 'stopped' THEN 1 ELSE 0 END), MIN(hour), MAX(hour)")


def _redo_days(conn: Connection, batch: dict[int, tuple[int, int]]) -> None:
    """Recompute the ``emission_daily`` rows of the Beijing days the hour ranges touch, from the hourly rows
    (whole days: a range may cover part of one). One statement pair per distinct range."""
    by_days: dict[tuple[int, int], list[int]] = defaultdict(list)
    for s, (a, b) in batch.items():
        by_days[(int(day_of(a)), int(day_of(b - 1)) + 86400)].append(int(s))
    for (d0, d1), sids in by_days.items():
        conn.execute(delete(emission_daily).where(emission_daily.c.site_id.in_(sids), emission_daily.c.day >= d0,
                                                  emission_daily.c.day < d1))
        conn.execute(text(
            f"INSERT INTO emission_daily (site_id, parameter_id, day, {_DAILY_COLS}) "  # noqa: S608 (integers)
            f"SELECT site_id, parameter_id, {DAY_SQL}, {_HOURLY_AGG} FROM emission_hourly "
            f"WHERE site_id IN ({', '.join(map(str, sids))}) AND hour >= {d0} AND hour < {d1} "
            f"GROUP BY site_id, parameter_id, {DAY_SQL}"))


def rebuild_days(conn: Connection) -> int:
    """``emission_daily`` from nothing (all hourly rows); returns the rows."""
    conn.execute(delete(emission_daily))
    return conn.execute(text(
        f"INSERT INTO emission_daily (site_id, parameter_id, day, {_DAILY_COLS}) "  # noqa: S608
        f"SELECT site_id, parameter_id, {DAY_SQL}, {_HOURLY_AGG} FROM emission_hourly "
        f"GROUP BY site_id, parameter_id, {DAY_SQL}")).rowcount


def watermark(store: Store) -> datetime | None:
    with store.engine.connect() as conn:
        return conn.scalar(select(worker_state.c.watermark).where(worker_state.c.name == WATERMARK))


def maintain(store: Store, *, now: datetime | None = None, overlap: int = 300) -> dict:
    """One incremental step of the worker: outlet hours of data received (or QC-flagged) in (watermark − overlap,
    now] recomputed; the watermark moved to ``now``. Returns {outlets, hours, rows}."""
    hi = (now or datetime.now(UTC)).replace(microsecond=0)
    wm = watermark(store)
    lo = None if wm is None else wm - timedelta(seconds=overlap)
    with store.engine.connect() as conn:
        ranges = touched(conn, lo, hi)
    rows = recompute(store, ranges)
    info = {"outlets": len(ranges), "hours": sum((b - a) // HOUR for a, b in ranges.values()), "rows": rows}
    with write_tx(store) as conn:
        if conn.execute(update(worker_state).where(worker_state.c.name == WATERMARK).values(
                watermark=hi, updated_at=datetime.now(UTC), info=info)).rowcount == 0:
            conn.execute(insert(worker_state).values(name=WATERMARK, watermark=hi, updated_at=datetime.now(UTC),
                                                     info=info))
    return {"since": lo.isoformat() if lo else None, **info}


def refresh_stale(store: Store, site_ids: list[int]) -> bool:
    """Bring the rollup of these outlets up to date before a read: the hours of data received (or QC-flagged) at
    or after the last pass's watermark (the same second again: SQLite keeps whole seconds). False when the rollup
    was never built (the caller computes from the data)."""
    wm = watermark(store)
    if wm is None:
        return False
    with store.engine.connect() as conn:
        ranges = touched(conn, wm - timedelta(seconds=1), None, site_ids)
    if ranges:
        recompute(store, ranges)
    return True


@dataclass
class Totals:
    """One outlet × pollutant over a period: kg (measured + substituted), hours per method (``cou``, ``cxq``,
    ``stopped``, ``substituted``), hours without a value (before the first / after the last valid hour), and kg
    per Beijing day (epoch of the day's start) when asked for."""

    kg: float = 0.0
    hours: dict[str, int] = field(default_factory=lambda: {"cou": 0, "cxq": 0, "stopped": 0, "substituted": 0})
    missing: int = 0
    by_day: dict[int, float] | None = None


def day_of(hour: np.ndarray | int):
    return ((np.asarray(hour) + BEIJING_OFFSET) // 86400) * 86400 - BEIJING_OFFSET


def _ids(items: list[tuple[int, int]]) -> tuple[str, str]:
    return (", ".join(str(int(s)) for s in sorted({i[0] for i in items})),
            ", ".join(str(int(p)) for p in sorted({i[1] for i in items})))


def _sums(conn: Connection, sids: str, pids: str, start: int, end: int, by_day: bool) -> list:
    """Rows (site, parameter, n, kg, cou, stopped, first hour, last hour[, day]) whose sums are the period's: the
    whole Beijing days inside [start, end) from ``emission_daily`` (an annual total reads 365 rows per series, not
    8,760), the partial days at the edges from ``emission_hourly``."""
    d0, d1 = _whole_days(start, end)
    where = f"WHERE site_id IN ({sids}) AND parameter_id IN ({pids})"
    rows: list = []
    for a, b in ((start, d0), (d1, end)):
        if b > a:
            day = f", {DAY_SQL}" if by_day else ""
            rows += conn.execute(text(
                f"SELECT site_id, parameter_id, {_HOURLY_AGG}{day} FROM emission_hourly "  # noqa: S608 (integers)
                f"{where} AND hour >= {a} AND hour < {b} GROUP BY site_id, parameter_id{day}")).all()
    if d1 > d0:
        day = ", day" if by_day else ""
        rows += conn.execute(text(
            "SELECT site_id, parameter_id, SUM(n), SUM(kg), SUM(cou), SUM(stopped), MIN(first_hour), "  # noqa: S608
            f"MAX(last_hour){day} FROM emission_daily {where} AND day >= {d0} AND day < {d1} "
            f"GROUP BY site_id, parameter_id{day}")).all()
    return rows


def _whole_days(start: int, end: int) -> tuple[int, int]:
    """[d0, d1): the whole Beijing days inside [start, end) (d0 = d1 = end when there is none)."""
    d0 = int(day_of(start))
    d0 = d0 if d0 >= start else d0 + 86400
    d1 = int(day_of(end))
    return (d0, d1) if d1 > d0 else (end, end)


def _gaps(conn: Connection, holed: list[tuple[int, int]], start: int, end: int) -> list[tuple]:
    """(site, parameter, previous hour, hour, previous kg, kg) of every interior gap of the holed series over
    [start, end). Reads the hourly rows only of the days that can hold a gap's ends — a day with fewer than 24
    rows and its neighbours, a day next to a day without rows — and of the partial days at the edges: a gap's
    last valid hour before (first after) lies in such a day. Two rows read one after the other bound a gap only
    when no day between them has rows."""
    d0, d1 = _whole_days(start, end)
    hs, hp = _ids(holed)
    want = set(holed)
    days: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    if d1 > d0:
        for s, p, d, n in conn.execute(text(
                f"SELECT site_id, parameter_id, day, n FROM emission_daily WHERE site_id IN ({hs}) "  # noqa: S608
                f"AND parameter_id IN ({hp}) AND day >= {d0} AND day < {d1}")):
            if (s, p) in want:
                days[(s, p)][int(d)] = int(n)
    out = []
    for key in holed:
        dd = days.get(key, {})
        pick = set()
        for d, n in dd.items():
            if n < 24:
                pick |= {d - 86400, d, d + 86400}
            if d - 86400 not in dd or d + 86400 not in dd:
                pick.add(d)
        spans = [(start, d0), (d1, end)] + [(d, d + 86400) for d in sorted(pick) if d in dd]
        rows: list = []
        for a, b in spans:
            if b > a:
                rows += conn.execute(text(
                    "SELECT hour, kg FROM emission_hourly WHERE site_id = :s AND parameter_id = :p "
                    "AND hour >= :a AND hour < :b"), {"s": key[0], "p": key[1], "a": a, "b": b}).all()
        rows.sort()
        for (ph, pk), (h, kg) in zip(rows, rows[1:], strict=False):
            if h - ph > HOUR and not any(d in dd for d in range(int(day_of(ph)) + 86400, int(day_of(h)), 86400)):
                out.append((key[0], key[1], int(ph), int(h), float(pk), float(kg)))
    return out


def totals(conn: Connection, items: list[tuple[int, int]], start: int, end: int, *,
           by_day: bool = False) -> dict[tuple[int, int], Totals]:
    """Totals of (site id, parameter id) pairs over the hours [start, end) from the rollup, with the HJ 75-2017
    substitution of interior gaps applied to the period (as ``emissions.hourly_emission`` does)."""
    out = {(int(s), int(p)): Totals(by_day={} if by_day else None) for s, p in items}
    if not items or end <= start:
        return out
    sids, pids = _ids(items)
    span: dict[tuple[int, int], list[int]] = {}  # rows, first hour, last hour
    for r in _sums(conn, sids, pids, int(start), int(end), by_day):
        key = (r[0], r[1])
        t = out.get(key)
        if t is None:
            continue
        n, kg, cou, off = int(r[2]), float(r[3]), int(r[4]), int(r[5])
        t.kg += kg
        t.hours["cou"] += cou
        t.hours["stopped"] += off
        t.hours["cxq"] += n - cou - off
        if t.by_day is not None:
            t.by_day[int(r[8])] = t.by_day.get(int(r[8]), 0.0) + kg
        sp = span.setdefault(key, [0, int(r[6]), int(r[7])])
        sp[0] += n
        sp[1], sp[2] = min(sp[1], int(r[6])), max(sp[2], int(r[7]))
    holed = [k for k, (n, a, b) in span.items() if n < (b - a) // HOUR + 1]  # only these have interior gaps
    gaps = _gaps(conn, holed, int(start), int(end)) if holed else []
    for s, p, ph, h, pk, kg in gaps:
        t = out.get((s, p))
        if t is None:
            continue
        n = (h - ph) // HOUR - 1
        if n <= SHORT_GAP_HOURS:
            val = 0.5 * (pk + kg)
        else:
            val = conn.scalar(text(
                "SELECT MAX(kg) FROM (SELECT kg FROM emission_hourly WHERE site_id = :s AND parameter_id = :p "
                "AND hour >= :a AND hour < :g ORDER BY hour DESC LIMIT :n) x"),
                {"s": s, "p": p, "a": int(start), "g": int(ph) + HOUR, "n": LOOKBACK_HOURS})
        t.kg += val * n
        t.hours["substituted"] += n
        if t.by_day is not None:
            days, cnt = np.unique(day_of(ph + HOUR * np.arange(1, n + 1)), return_counts=True)
            for d, c in zip(days.tolist(), cnt.tolist(), strict=True):
                t.by_day[d] = t.by_day.get(d, 0.0) + val * c
    grid = (end - start) // HOUR
    for t in out.values():
        t.missing = grid - sum(t.hours.values())
    return out


def totals_of_grid(e, *, by_day: bool = False) -> Totals:
    """The same :class:`Totals` from a from-scratch :class:`~ecohub.supervision.permits.emissions.HourlyEmission`."""
    ok = np.isfinite(e.kg)
    t = Totals(kg=float(np.sum(e.kg[ok])), missing=int(np.sum(~ok)))
    for m in t.hours:
        t.hours[m] = int(np.sum(e.method == m))
    if by_day:
        days = day_of(e.time[ok])
        u, inv = np.unique(days, return_inverse=True)
        t.by_day = dict(zip(u.tolist(), np.bincount(inv, weights=e.kg[ok]).tolist(), strict=True))
    return t


def day_totals(e) -> dict[int, Totals]:
    """:func:`totals_of_grid` of each Beijing day of the grid (key: epoch of the day's start), the substitution
    being that of the whole grid — the per-day rows of the lake's Spark job; they add up to the grid's totals."""
    days = day_of(e.time)
    out = {}
    for d in np.unique(days).tolist():
        sel = days == d
        out[int(d)] = totals_of_grid(type(e)(e.time[sel], e.kg[sel], e.method[sel]))
    return out


__all__ = ["Totals", "day_totals", "maintain", "measured_rows", "recompute", "refresh_stale", "totals", "totals_of_grid",
           "touched", "watermark", "WATERMARK"]
