"""Helpers shared by the benchmarks: fresh databases, timing, printing a figure beside its baseline."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ecohub.store import registry as R
from ecohub.store.db import Store

PG_URL = os.environ.get("ECOHUB_BENCH_POSTGRES_URL") or os.environ.get("ECOHUB_TEST_POSTGRES_URL") \
    or "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def sqlite_store(init=None):
    """A fresh SQLite store; ``init(store)`` creates the schema instead of ``store.init()`` (e.g. another
    commit's code, for a baseline of the previous code path)."""
    with tempfile.TemporaryDirectory() as d:
        s = Store.open(f"sqlite:///{Path(d) / 'bench.db'}")
        (init or Store.init)(s)
        yield s
        s.close()


@contextmanager
def pg_store(init=None):
    """A fresh PostgreSQL database (dropped at the end); ``init`` as for :func:`sqlite_store`."""
    name = f"ecohub_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg", database="postgres"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    s = Store.open(make_url(PG_URL).set(drivername="postgresql+psycopg", database=name).render_as_string(False))
    try:
        (init or Store.init)(s)
        yield s
    finally:
        s.close()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def pg_available() -> bool:
    try:
        e = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"))
        with e.connect():
            pass
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available" for an optional benchmark
        return False


def make_series(store: Store, n_sites: int, params: tuple[str, ...], interval: str = "hour") -> list[int]:
    """Create n_sites air stations with a series per parameter; return the series ids."""
    with store.engine.begin() as c:
        for i in range(n_sites):
            R.upsert_site(c, R.SiteInput(f"B{i:05d}", "air_station", f"站{i}", 114 + i % 100 / 100, 38 + i // 100 / 100,
                                         "130100"))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        return [res.get(c, idx[f"B{i:05d}"][0], par[p], interval) for i in range(n_sites) for p in params]


class Timer:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.s = time.perf_counter() - self.t0


def report(title: str, rows: list[tuple[str, float, str]]) -> None:
    """rows: (label, value, unit); the first row is the baseline; ratios are value / baseline."""
    print(f"\n{title}")
    base = rows[0][1]
    for label, value, unit in rows:
        print(f"  {label:<58} {value:>14,.0f} {unit:<10} ratio {value / base:5.2f}")
