"""Annual emissions accounting speed (issue 14): ``supervision.permits.emissions.outlet_emissions`` — valid hourly
values through the quality layer (device flags, QC flags), Cou where sent else C × Q, interior gaps substituted —
beside a plain SQL aggregation of the same rows as the floor (``SUM(value) … GROUP BY series_id`` over the Cou
series, no validity, no substitution), in the same run on the same SQLite store.

The issue's figure is 10,000 outlets × 10 pollutants × 8,760 hours (~1.8·10⁹ stored values with C, Cou and flow):
that does not fit this shared machine, so the bench measures a slice (default 40 gas outlets × 7 pollutants × 2,000
hours) and prints the throughput (values/s) of both and the linear extrapolation to the full size.

    .venv/bin/python bench/bench_emissions.py [--outlets 40] [--hours 2000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from _common import Timer, report, sqlite_store  # noqa: E402
from sqlalchemy import text  # noqa: E402

from ecohub.store import registry as R  # noqa: E402
from ecohub.store.writer import ObservationWriter  # noqa: E402
from ecohub.supervision.permits import rollup  # noqa: E402
from ecohub.supervision.permits.emissions import outlet_emissions, outlet_totals  # noqa: E402

POLLUTANTS = ("smoke", "so2_gas", "nox", "no", "co_gas", "nh3_gas", "hcl")  # the gas pollutants with a Cou
USCC = "91350100M000100Y43"
T0 = 1_735_660_800  # 2025-01-01 00:00 +08:00


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--outlets", type=int, default=40)
    ap.add_argument("--hours", type=int, default=2000)
    a = ap.parse_args()
    rng = np.random.default_rng(14)
    with sqlite_store() as store:
        with store.engine.begin() as c:
            R.add_enterprise(c, USCC, "bench", "130100")
            for i in range(a.outlets):
                R.upsert_site(c, R.SiteInput(f"G{i:05d}", "gas_outlet", f"排口{i}", 114 + i % 100 / 100, 38, "130100",
                                             USCC))
            idx, par = R.site_index(c), R.parameter_index(c)
            res = R.SeriesResolver()
            sid = {(i, p): res.get(c, idx[f"G{i:05d}"][0], par[p], "hour") for i in range(a.outlets)
                   for p in (*POLLUTANTS, *(q + "_cou" for q in POLLUTANTS), "flow_gas")}
        t = T0 + 3600 * np.arange(a.hours)
        with Timer() as tw, ObservationWriter(store, "import") as w:
            for i in range(a.outlets):
                q = 80 + 10 * rng.standard_normal(a.hours)
                for h in range(a.hours):
                    w.add(sid[(i, "flow_gas")], int(t[h]), float(q[h]), "N")
                for p in POLLUTANTS:
                    cc = 20 + 3 * rng.standard_normal(a.hours)
                    cou = cc * q * 3600e-6
                    for h in range(a.hours):
                        w.add(sid[(i, p)], int(t[h]), float(cc[h]), "N")
                        if h % 10:  # the device omits Cou one hour in ten: C × Q fills in
                            w.add(sid[(i, p + "_cou")], int(t[h]), float(cou[h]), "N")
        items = [(idx[f"G{i:05d}"][0], f"G{i:05d}", "gas_outlet", p, 0) for i in range(a.outlets) for p in POLLUTANTS]
        end = T0 + 3600 * a.hours
        cou_ids = ", ".join(str(sid[(i, p + "_cou")]) for i in range(a.outlets) for p in POLLUTANTS)
        with store.engine.connect() as c:
            stored = c.scalar(text("SELECT count(*) FROM observation"))
            with Timer() as tf:
                floor = c.execute(text(f"SELECT series_id, SUM(value) FROM observation WHERE series_id IN ({cou_ids}) "  # noqa: S608 (integer ids)
                                       "AND time >= :a AND time < :b GROUP BY series_id"), {"a": T0, "b": end}).all()
            with Timer() as te:
                em = outlet_emissions(c, items, T0, end)
        with Timer() as tm:
            built = rollup.maintain(store)
        with Timer() as tr:
            tot = outlet_totals(store, items, T0, end)
        with Timer() as td:
            outlet_totals(store, items, T0, end, by_day=True)
        assert len(floor) == len(items) and len(em) == len(items)
        total_t = sum(float(np.nansum(e.kg)) for e in em.values()) / 1000
        roll_t = sum(t.kg for t in tot.values()) / 1000
        assert abs(roll_t - total_t) <= 1e-9 * total_t, (roll_t, total_t)
        n_vals = a.outlets * len(POLLUTANTS) * a.hours
        print(f"stored {stored:,} rows (C, Cou, flow) in {tw.s:.1f} s; {len(items)} outlet×pollutant series × "
              f"{a.hours} h; total {total_t:,.1f} t (rollup: the same to 1e-9)")
        print(f"worker: rollup built once in {tm.s:.2f} s ({built['rows']:,} rows; {n_vals / tm.s:,.0f} values/s)")
        report("Annual emissions accounting (outlet × pollutant × hour values per second)", [
            ("plain SQL SUM(Cou) GROUP BY series (floor)", n_vals / tf.s, "values/s"),
            ("ecohub outlet_totals from the rollup (Cou else C×Q, stopped, gaps)", n_vals / tr.s, "values/s"),
            ("  the same, with daily totals", n_vals / td.s, "values/s"),
            ("from scratch: outlet_emissions over the observations", n_vals / te.s, "values/s"),
        ])
        print(f"  rollup read / floor time ratio: {tr.s / tf.s:.2f}× (from scratch: {te.s / tf.s:.1f}×)")
        # the worker's steady state: one more hour of every series arrives, one pass recomputes only that hour
        t1 = T0 + 3600 * a.hours
        with ObservationWriter(store, "import") as w:
            for i in range(a.outlets):
                w.add(sid[(i, "flow_gas")], t1, 80.0, "N")
                for p in POLLUTANTS:
                    w.add(sid[(i, p)], t1, 20.0 + i % 3, "N")
                    w.add(sid[(i, p + "_cou")], t1, (20.0 + i % 3) * 80 * 3600e-6, "N")
        time.sleep(1.1)  # receipt times are whole seconds: the new hour is received after the last pass's second
        with Timer() as ti:  # overlap 0: every row of this bench was received within the worker's 300 s overlap
            inc = rollup.maintain(store, overlap=0)
        print(f"worker pass after one new hour of {a.outlets} outlets: {ti.s:.3f} s ({inc['hours']} outlet-hours "
              f"recomputed, {inc['rows']} rows) vs the first build {tm.s:.2f} s")
        full = 10_000 * 10 * 8760
        print(f"  extrapolated to 10,000 outlets × 10 pollutants × 8,760 h: floor {full / (n_vals / tf.s):,.0f} s, "
              f"rollup {full / (n_vals / tr.s):,.0f} s, from scratch {full / (n_vals / te.s):,.0f} s "
              "(linear; one process, SQLite)")


if __name__ == "__main__":
    main()
