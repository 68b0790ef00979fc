"""Writer throughput: 1,000,000 observations into SQLite and into PostgreSQL through ObservationWriter,
each beside the bare database floor measured in the same run:
- SQLite floor: one ``executemany`` in one transaction into the same ``observation`` table;
- PostgreSQL floor: one binary ``COPY`` into the same (partitioned) ``observation`` table.
Also the re-write of the same batch (all duplicates: the idempotent path) and a re-write in which 1 % of the
values differ (recorded conflicts): retransmitted and back-filled data take these paths.

    .venv/bin/python bench/bench_writer.py [--rows 1000000] [--no-postgres] [--no-sqlite]
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Timer, make_series, pg_available, pg_store, report, sqlite_store  # noqa: E402

from ecohub.store.writer import ObservationWriter  # noqa: E402

T0 = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
PARAMS = ("pm25", "pm10", "so2", "no2", "co", "o3", "temp", "humidity", "wind_speed", "pressure")


def workload(series_ids: list[int], rows: int):
    """rows observations: every series, consecutive hours (10 parameters × N sites)."""
    n = len(series_ids)
    hours = rows // n
    sid, t, v = [], [], []
    for h in range(hours):
        tt = T0 + 3600 * h
        for j, s in enumerate(series_ids):
            sid.append(s)
            t.append(tt)
            v.append(float((h * 31 + j * 7) % 500) / 3)
    return sid, t, v


def through_writer(store, sid, t, v, expect: str = "imported") -> float:
    """Seconds to write the rows through ObservationWriter; ``expect``: every row imported / duplicates."""
    w = ObservationWriter(store, "import", "bench", batch_size=50_000)
    with Timer() as tm:
        for a, b, c in zip(sid, t, v, strict=True):
            w.add(a, b, c, "N")
        w.flush()
    if expect == "duplicates_and_conflicts":
        assert w.totals.imported == 0 and w.totals.conflicts == (len(sid) + 99) // 100, w.totals
    else:
        assert getattr(w.totals, expect) == len(sid), w.totals
    return tm.s


def sqlite_floor(store, sid, t, v) -> float:
    rows = list(zip(sid, t, [1] * len(sid), v, ["N"] * len(sid), [T0] * len(sid), strict=True))
    raw = store.engine.raw_connection()
    try:
        db = raw.driver_connection
        with Timer() as tm:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO observation (series_id, time, source_id, value, flag, received_at) "
                           "VALUES (?, ?, ?, ?, ?, ?)", rows)
            db.execute("COMMIT")
    finally:
        raw.close()
    return tm.s


def pg_floor(store, sid, t, v) -> float:
    raw = store.engine.raw_connection()
    try:
        pg = raw.driver_connection
        cache: dict[int, datetime] = {}
        dts = [cache.setdefault(x, datetime.fromtimestamp(x, UTC)) for x in t]
        rdt = datetime.fromtimestamp(T0, UTC)
        n = len(sid)
        with Timer() as tm:
            with pg.cursor() as cur, cur.copy(
                    "COPY observation (series_id, time, source_id, value, flag, received_at) FROM STDIN "
                    "(FORMAT BINARY)") as cp:
                cp.set_types(["int4", "timestamptz", "int2", "float8", "varchar", "timestamptz"])
                for row in zip(sid, dts, [1] * n, v, ["N"] * n, [rdt] * n, strict=True):
                    cp.write_row(row)
            pg.commit()
    finally:
        raw.close()
    return tm.s


def run(backend: str, store_cm, floor, rows: int) -> None:
    # Two identical databases: one for the floor, one for the writer (the same table, empty at start).
    with store_cm() as a, store_cm() as b:
        ids_a, ids_b = make_series(a, rows // 8760 + 1 if rows >= 8760 else 10, PARAMS), None
        ids_b = make_series(b, len(ids_a) // len(PARAMS), PARAMS)
        sid_a, t, v = workload(ids_a, rows)
        sid_b, _, _ = workload(ids_b, rows)
        if backend == "postgresql":
            from ecohub.store.partitions import PartitionManager
            PartitionManager(a.engine).ensure(min(t), max(t))
        n = len(t)
        f = floor(a, sid_a, t, v)
        w = through_writer(b, sid_b, t, v)
        d = through_writer(b, sid_b, t, v, expect="duplicates")
        v1 = [x + 1.0 if i % 100 == 0 else x for i, x in enumerate(v)]  # 1 % of the values differ
        c = through_writer(b, sid_b, t, v1, expect="duplicates_and_conflicts")
        report(f"{backend}: {n:,} observations ({len(ids_b)} series)", [
            (f"floor: bare {'executemany' if backend == 'sqlite' else 'COPY'}, one transaction", n / f, "obs/s"),
            ("ObservationWriter (new data, batches of 50,000)", n / w, "obs/s"),
            ("ObservationWriter (same data again: all duplicates)", n / d, "obs/s"),
            ("ObservationWriter (again with 1 % changed: conflicts)", n / c, "obs/s"),
        ])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    a = ap.parse_args()
    if not a.no_sqlite:
        run("sqlite", sqlite_store, sqlite_floor, a.rows)
    if not a.no_postgres:
        if pg_available():
            run("postgresql", pg_store, pg_floor, a.rows)
        else:
            print("\npostgresql: not reachable (set ECOHUB_BENCH_POSTGRES_URL); skipped")


if __name__ == "__main__":
    main()
