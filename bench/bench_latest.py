"""Latest value of every parameter of 1,000 sites, in one query (served from the ``latest`` table that the
writer maintains), beside the same answer computed from ``observation`` by a greatest-per-group query
(what it costs without the ``latest`` table), on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_latest.py [--sites 1000] [--hours 168] [--no-postgres]
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Timer, make_series, pg_available, pg_store, report, sqlite_store  # noqa: E402
from sqlalchemy import text  # noqa: E402

from ecohub.store.queries import SeriesFilter, latest_values  # noqa: E402
from ecohub.store.writer import ObservationWriter  # noqa: E402

PARAMS = ("pm25", "pm10", "so2", "no2", "co", "o3", "temp", "humidity", "wind_speed", "pressure")
T0 = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
BARE = """
SELECT s.code, s.name, s.kind, s.region_code, s.lon, s.lat, p.name, p.unit, r.interval, l.time, l.value, l.flag
FROM latest l JOIN series r ON r.id = l.series_id JOIN site s ON s.id = r.site_id
JOIN parameter p ON p.id = r.parameter_id ORDER BY s.code, p.name, r.interval
"""
NAIVE = """
SELECT s.code, p.name, o.time, o.value FROM observation o
JOIN (SELECT series_id, max(time) AS t FROM observation GROUP BY series_id) m
  ON m.series_id = o.series_id AND m.t = o.time
JOIN series r ON r.id = o.series_id JOIN site s ON s.id = r.site_id JOIN parameter p ON p.id = r.parameter_id
"""


def run(name, store_cm, sites: int, hours: int) -> None:
    with store_cm() as store:
        ids = make_series(store, sites, PARAMS)
        w = ObservationWriter(store, "import", "bench", batch_size=100_000)
        for h in range(hours):
            for j, sid in enumerate(ids):
                w.add(sid, T0 + 3600 * h, float((h + j) % 300))
        w.flush()
        with store.engine.begin() as c:  # committed: a rolled-back ANALYZE leaves no statistics on PostgreSQL
            c.execute(text("ANALYZE"))
        best_naive = best_latest = best_bare = 1e9
        for _ in range(5):
            raw = store.engine.raw_connection()
            with Timer() as tb:
                cur = raw.driver_connection.cursor()
                cur.execute(BARE)
                n_bare = len(cur.fetchall())
            raw.close()
            with Timer() as tn, store.engine.connect() as c:
                n_naive = len(c.execute(text(NAIVE)).all())
            with Timer() as tl:
                n_latest = len(latest_values(store, SeriesFilter()))
            best_naive, best_latest = min(best_naive, tn.s), min(best_latest, tl.s)
            best_bare = min(best_bare, tb.s)
        assert n_naive == n_latest == n_bare == len(ids), (n_naive, n_latest, n_bare, len(ids))
        report(f"{name}: latest of {len(ids):,} series ({sites} sites × {len(PARAMS)} parameters, "
               f"{len(ids) * hours:,} observations); best of 5, in milliseconds", [
                   ("floor: the bare SQL latest_values() wraps (driver cursor)", best_bare * 1000, "ms"),
                   ("latest_values(): one query on the latest table, as dicts", best_latest * 1000, "ms"),
                   ("without the latest table: greatest-per-group on observation", best_naive * 1000, "ms"),
               ])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--hours", type=int, default=168)
    ap.add_argument("--no-postgres", action="store_true")
    a = ap.parse_args()
    run("sqlite", sqlite_store, a.sites, a.hours)
    if not a.no_postgres and pg_available():
        run("postgresql", pg_store, a.sites, a.hours)


if __name__ == "__main__":
    main()
