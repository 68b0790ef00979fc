"""Annual emissions of 10,000 outlets × 10 pollutants at full size (issue 14): ecohub's annual totals
(``supervision.permits.rollup.totals`` — Cou else C × Q per hour as the worker stored it, stopped hours, the
HJ 75-2017 gap substitution) beside a plain SQL aggregation of the same rows as the floor, in the same run.

The worker keeps, beside the measured hourly emissions (``emission_hourly``), their sums per Beijing day
(``emission_daily``); a year's total reads the 365 daily rows of a series, and the hourly rows only for the series
with interior gaps (the substitution needs the neighbouring hours) and for the partial days at the period's edges.
The data are generated in bulk in the database (not through the gateway; ``bench_emissions.py`` measures the path
from the observations): 10,000 × 10 × 365 = 36.5 million daily rows; 1 % of the series (every 100th) also have
their 8,760 hourly rows with a 30-hour and a 3-hour hole (their daily rows are computed from them as the worker
does), so the gap path runs at its share of the load. Asserted: the series without holes total exactly the floor's
sums; the holed ones total the floor plus their substituted hours.

    .venv/bin/python bench/bench_emissions_year.py [--outlets 10000] [--pollutants 10] [--postgres]
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Timer, pg_store, report, sqlite_store  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from ecohub.store import registry as R  # noqa: E402
from ecohub.store.schema import site  # noqa: E402
from ecohub.supervision.permits import rollup  # noqa: E402
from ecohub.supervision.permits.emissions import year_bounds  # noqa: E402

USCC = "91350100M000100Y43"
YEAR = 2025
HOLED_EVERY = 100  # every 100th series has hourly rows with holes


def _populate(store, n_sites: int, n_pol: int) -> tuple[list[tuple[int, int]], set[tuple[int, int]]]:
    start, _end = year_bounds(YEAR)
    pg = store.is_postgres
    with store.engine.begin() as c:
        ent = R.add_enterprise(c, USCC, "bench", "130100")
        now = datetime.now(UTC)
        c.execute(insert(site), [{"code": f"Y{i:05d}", "kind": "gas_outlet", "name": f"排口{i}", "lon": 114.0,
                                  "lat": 38.0, "region_code": "130100", "enterprise_id": ent, "attrs": {},
                                  "created_at": now} for i in range(n_sites)])
        sids = sorted(r[0] for r in c.execute(text("SELECT id FROM site WHERE code LIKE 'Y%'")))
        pids = sorted(R.parameter_index(c).values())[:n_pol]
        c.execute(text("CREATE TEMPORARY TABLE b_site (id INTEGER PRIMARY KEY, holed INTEGER)"))
        c.execute(text("CREATE TEMPORARY TABLE b_par (id INTEGER PRIMARY KEY, k INTEGER)"))
        c.execute(text("INSERT INTO b_site VALUES (:i, :h)"), [{"i": s, "h": int(k % 10 == 0)} for k, s in
                                                               enumerate(sids)])
        c.execute(text("INSERT INTO b_par VALUES (:i, :k)"), [{"i": p, "k": k} for k, p in enumerate(pids)])
        big = "::bigint" if pg else ""
        kg = (f"(((s.id{big} * 7919 + p.id * 104729 + {{t}}{big} * 15485863) % 1000) / 100.0 + 5.0)")
        if pg:
            hours = "generate_series(0, 8759) AS h(i)"
            days = "generate_series(0, 364) AS d(i)"
        else:
            c.execute(text("CREATE TEMPORARY TABLE b_h (i INTEGER PRIMARY KEY)"))
            c.execute(text("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 8759) "
                           "INSERT INTO b_h SELECT i FROM n"))
            hours = "b_h AS h"
            days = "(SELECT i FROM b_h WHERE i < 365) AS d"
        # the holed series (site holed, first pollutant): hourly rows with a 30-h and a 3-h hole, then their days
        c.execute(text(
            "INSERT INTO emission_hourly (site_id, parameter_id, hour, kg, method) "  # noqa: S608 (integers)
            f"SELECT s.id, p.id, {start} + 3600 * h.i, {kg.format(t='h.i')}, 'cou' FROM b_site s, b_par p, {hours} "
            "WHERE s.holed = 1 AND p.k = 0 AND NOT (h.i BETWEEN 2000 AND 2029) AND NOT (h.i BETWEEN 5000 AND 5002)"))
        rollup.rebuild_days(c)
        c.execute(text(
            "INSERT INTO emission_daily (site_id, parameter_id, day, n, kg, cou, stopped, first_hour, last_hour) "  # noqa: S608
            f"SELECT s.id, p.id, {start} + 86400 * d.i, 24, 24 * {kg.format(t='d.i')}, 24, 0, "
            f"{start} + 86400 * d.i, {start} + 86400 * d.i + 82800 FROM b_site s, b_par p, {days} "
            "WHERE NOT (s.holed = 1 AND p.k = 0)"))
    if pg:
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE emission_daily"))
            c.execute(text("VACUUM ANALYZE emission_hourly"))
    items = [(s, p) for s in sids for p in pids]
    holed = {(s, pids[0]) for k, s in enumerate(sids) if k % 10 == 0}
    return items, holed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--outlets", type=int, default=10_000)
    ap.add_argument("--pollutants", type=int, default=10)
    ap.add_argument("--postgres", action="store_true", help="PostgreSQL (ECOHUB_TEST_POSTGRES_URL) instead of SQLite")
    a = ap.parse_args()
    start, end = year_bounds(YEAR)
    with (pg_store() if a.postgres else sqlite_store()) as store:
        with Timer() as tg:
            items, holed = _populate(store, a.outlets, a.pollutants)
        with store.engine.connect() as c:
            n_days = c.scalar(text("SELECT count(*) FROM emission_daily"))
            n_hours = c.scalar(text("SELECT count(*) FROM emission_hourly"))
            with Timer() as tf:
                floor = {(r[0], r[1]): r[2] for r in c.execute(text(
                    "SELECT site_id, parameter_id, SUM(kg) FROM emission_daily "  # noqa: S608 (integers)
                    f"WHERE day >= {start} AND day < {end} GROUP BY site_id, parameter_id"))}
            with Timer() as tt:
                tot = rollup.totals(c, items, start, end)
            with Timer() as tm:  # a period that does not start on a day: partial days from the hourly rows
                rollup.totals(c, items, start + 7 * 3600, end)
        assert len(tot) == len(items) == len(floor)
        for key, t in tot.items():
            if key in holed:
                assert t.hours["substituted"] == 33 and t.kg > floor[key], (key, t)
            else:
                assert abs(t.kg - floor[key]) <= 1e-12 * floor[key] and t.hours["cou"] == 8760 and t.missing == 0, (key, t, floor[key])
        n_vals = len(items) * 8760
        print(f"{a.outlets:,} outlets × {a.pollutants} pollutants × {YEAR}: {n_days:,} daily rows, {n_hours:,} hourly "
              f"rows ({len(holed):,} series with holes), generated in {tg.s:.0f} s ({store.dialect}); "
              f"total {sum(t.kg for t in tot.values()) / 1000:,.1f} t")
        report("Annual emissions of all outlets (outlet × pollutant × hour values per second)", [
            ("plain SQL SUM(kg) GROUP BY series over the daily rows (floor)", n_vals / tf.s, "values/s"),
            ("ecohub rollup.totals (daily rows; hourly rows of the holed series: gaps)", n_vals / tt.s, "values/s"),
            ("  the same from 07:00 on 1 January (partial first day from hourly rows)", n_vals / tm.s, "values/s"),
        ])
        print(f"  floor {tf.s:.2f} s, ecohub {tt.s:.2f} s ({tt.s / tf.s:.2f}× the floor), "
              f"from 07:00 {tm.s:.2f} s")


if __name__ == "__main__":
    main()
