"""Daily HJ 633 AQI for 10,000,000 rows: ecohub vs python-aqi (one record at a time) vs the numpy.interp floor.

Run: ``.venv/bin/python bench/bench_aqi.py [--rows N] [--sample M]``. Prints rows/s and ratios.

* ecohub: :func:`ecohub.standards.aqi_cn.aqi_daily` (all six pollutants, IAQI per pollutant, AQI, level,
  primary/over-standard/missing bitmasks; strings are not materialised — they are a lookup on demand).
* floor: one bare ``numpy.interp`` per pollutant over the same arrays (no rounding, no max, nothing else).
* python-aqi (``aqi.to_aqi(..., algo=aqi.ALGO_MEP)``, HJ 633-2012 tables): called once per record on a
  random sample of the rows; its rows/s is measured on the sample and the time for all rows is
  **extrapolated** linearly (it is a per-record Python loop, so its cost is linear in the rows).
  Its rounding differs from HJ 633 (it truncates inputs and rounds half-even, HJ 633 carries up), so the
  agreement with ecohub on the sample is printed for information only.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

try:
    from ecohub.standards import aqi_cn
except ImportError:  # running from a checkout without installation
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from ecohub.standards import aqi_cn

# daily-table top breakpoints (HJ 633-2012 Table 1): keep the synthetic data inside every table so that
# python-aqi (which fails beyond its tables) sees the same rows.
TOPS = {"so2": 2620, "no2": 940, "co": 60, "o3_8h": 800, "pm10": 600, "pm25": 500}
INDICATOR = {"so2": "so2_24h", "no2": "no2_24h", "co": "co_24h", "o3_8h": "o3_8h", "pm10": "pm10_24h",
             "pm25": "pm25_24h"}  # fmt: skip
SCALE = {"so2": 12, "no2": 35, "co": 1.0, "o3_8h": 90, "pm10": 80, "pm25": 50}


def make_rows(n: int, seed: int = 20260301) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for p, s in SCALE.items():
        x = rng.gamma(2.0, s / 2.0, size=n)
        out[p] = np.minimum(np.round(x, 1 if p == "co" else 0), TOPS[p])
    return out


def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--sample", type=int, default=20_000, help="rows fed to python-aqi one at a time")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n = args.rows
    rows = make_rows(n)
    bp = {p: (aqi_cn.BREAKPOINTS[2012][INDICATOR[p]], aqi_cn.IAQI_POINTS[: aqi_cn.BREAKPOINTS[2012][INDICATOR[p]].size])
          for p in rows}  # fmt: skip

    def floor() -> None:
        for p, (xp, fp) in bp.items():
            np.interp(rows[p], xp, fp)

    def ecohub_2012() -> None:
        aqi_cn.aqi_daily(**rows, edition=2012)

    def ecohub_2026() -> None:
        aqi_cn.aqi_daily(**rows, edition=2026)

    t_floor = best_of(floor, args.repeat)
    t_eco = best_of(ecohub_2012, args.repeat)
    t_eco26 = best_of(ecohub_2026, args.repeat)

    t_peer = None
    try:
        import aqi as pyaqi
        from aqi import constants as pc

        rng = np.random.default_rng(7)
        idx = rng.choice(n, size=min(args.sample, n), replace=False)
        keys = {"so2": pc.POLLUTANT_SO2_24H, "no2": pc.POLLUTANT_NO2_24H, "co": pc.POLLUTANT_CO_24H,
                "o3_8h": pc.POLLUTANT_O3_8H, "pm10": pc.POLLUTANT_PM10, "pm25": pc.POLLUTANT_PM25}  # fmt: skip
        records = [[(keys[p], str(rows[p][i])) for p in rows] for i in idx]
        t = time.perf_counter()
        peer = [float(pyaqi.to_aqi(rec, algo=pyaqi.ALGO_MEP)) for rec in records]
        t_sample = time.perf_counter() - t
        t_peer = t_sample / len(records) * n
        mine = aqi_cn.aqi_daily(**{p: v[idx] for p, v in rows.items()}, edition=2012).aqi
        agree = float(np.mean(np.asarray(peer) == mine))
    except ImportError:
        print("python-aqi not installed: pip install python-aqi", file=sys.stderr)

    def line(name: str, seconds: float, note: str = "") -> None:
        print(f"{name:<46} {n / seconds:>14,.0f} rows/s   {seconds:8.3f} s   {note}")

    print(f"Daily HJ 633 AQI, {n:,} rows x 6 pollutants (best of {args.repeat}; numpy {np.__version__})")
    line("floor: numpy.interp per pollutant", t_floor)
    line("ecohub aqi_daily, HJ 633-2012", t_eco, f"{t_eco / t_floor:.2f}x floor")
    line("ecohub aqi_daily, HJ 633-2026 (input rounding)", t_eco26, f"{t_eco26 / t_floor:.2f}x floor")
    if t_peer is not None:
        line(f"python-aqi, 1 record/call (sample {len(records):,}, extrap.)", t_peer,
             f"ecohub is {t_peer / t_eco:,.0f}x faster; same AQI on {agree:.1%} of the sample")  # fmt: skip


if __name__ == "__main__":
    main()
