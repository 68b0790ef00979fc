"""A time range over every series (no site, no parameter: ``/observations?from&to``, ``/aggregates?from&to``)
gives the same rows as the per-series reads put together, on both backends; on SQLite it is read series by
series through the (series_id, time) key instead of scanning the observation table."""

from __future__ import annotations

from datetime import UTC, datetime

import test_queries as base
from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from ecohub.store import queries as Q
from ecohub.store.schema import observation

filled = base.filled  # 2 air stations × (pm25, so2) hourly + a water section's real-time pH, 48 h (fixture)
T = base.DAY0


def _range(h0: int, h1: int) -> tuple[datetime, datetime]:
    return datetime.fromtimestamp(T + 3600 * h0, UTC), datetime.fromtimestamp(T + 3600 * h1, UTC)


def test_all_series_range_equals_the_per_series_reads(filled):
    start, end = _range(5, 30)
    every = list(Q.observations(filled, Q.SeriesFilter(), start, end))
    parts = []
    for s, p in (("A", "pm25"), ("A", "so2"), ("B", "pm25"), ("B", "so2"), ("W", "ph")):
        parts += list(Q.observations(filled, Q.SeriesFilter(sites=[s], parameters=[p]), start, end))
    key = [*Q.OBS_KEY]
    assert len(every) == 5 * 25
    assert every == sorted(parts, key=lambda r: tuple(r[k] for k in key))
    assert list(Q.observations(filled, Q.SeriesFilter(), start, end, limit=7)) == every[:7]
    agg = Q.aggregate(filled, Q.SeriesFilter(), "day", start, end)
    assert sum(r["count"] for r in agg) == len(every)
    per = Q.aggregate(filled, Q.SeriesFilter(sites=["A"]), "day", start, end)
    assert [r for r in agg if r["site"] == "A"] == per


def test_sqlite_reads_the_range_through_the_series_key(filled):
    if filled.is_postgres:
        assert Q._by_series(filled) == []
        return
    start, end = _range(5, 30)
    cond = Q._by_series(filled)
    q = select(observation.c.value).where(observation.c.time >= start, observation.c.time < end, *cond)
    sql = str(q.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with filled.engine.connect() as c:
        plan = " ".join(str(r[-1]) for r in c.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    assert "SEARCH observation USING PRIMARY KEY (series_id=? AND time>? AND time<?)" in plan, plan
