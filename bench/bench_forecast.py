"""Forecast issue per city: training (D+1 … D+3, every model of an issue) and forecast, beside the persistence
baseline, on cities synthesised from the real Tianjin series; projected to 370 cities on 2 cores.

Run: ``.venv/bin/python bench/bench_forecast.py [--cities N] [--workers W] [--days D]``.

* cities: the Tianjin daily file (tests/fixtures/forecast) shifted by a random number of days, scaled by a
  random factor (0.6–1.4) with multiplicative noise, each ``--days`` (730, the operational history) long and
  ending yesterday, so every city has its own series of realistic shape.
* forecast: :func:`ecohub.forecast.issue.make_issue` — fits the models of the horizons from the last observed
  day to D+3 (AQI point and 20/80 % quantiles, six pollutants) and forecasts; the pure part of
  ``ecohub forecast run`` (reading the history from the store and writing the issue are not included).
* baseline: the persistence forecast of the same cities (last observed AQI for D+1 … D+3) — the floor any
  forecast is compared with.
* ``--workers`` processes (default 2: the machine's cores), one model thread each; the 370-city time is
  extrapolated from the per-city time measured here (the cost is linear in the cities). A province
  (13 cities, e.g. Hebei) is the figure the daily run must meet (minutes).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
try:
    from ecohub.forecast.history import POLLUTANTS, DailyHistory, read_daily_file
except ImportError:  # running from a checkout without installation
    sys.path.insert(0, str(ROOT / "src"))
    from ecohub.forecast.history import POLLUTANTS, DailyHistory, read_daily_file

FIXTURE = ROOT / "tests" / "fixtures" / "forecast" / "tianjin_daily_2014-01-01_2022-05-31.csv"


def synthetic_cities(n: int, days: int, seed: int = 7) -> list[DailyHistory]:
    base = read_daily_file(FIXTURE)
    rng = np.random.default_rng(seed)
    end = np.datetime64((datetime.now(UTC) + timedelta(hours=8)).date().isoformat()) - 1
    grid = np.arange(end - days + 1, end + 1)
    out = []
    for i in range(n):
        start = int(rng.integers(0, len(base) - days))
        k = slice(start, start + days)
        scale = rng.uniform(0.6, 1.4)
        noise = np.exp(rng.normal(0, 0.1, days))
        aqi = np.ceil(np.clip(base.aqi[k] * scale * noise, 1, 500))
        conc = {p: base.conc[p][k] * scale * noise for p in POLLUTANTS}
        out.append(DailyHistory(grid.copy(), aqi, conc, f"C{i:03d}"))
    return out


def _forecast(h: DailyHistory) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one issue."""
    from ecohub.forecast.issue import make_issue

    t0, c0 = time.perf_counter(), time.process_time()
    r = make_issue(h, h.days[-1] + 1)
    assert r.ok and r.method == "model" and len(r.days) == 3, r.reason
    return time.perf_counter() - t0, time.process_time() - c0


def _persistence(h: DailyHistory) -> float:
    from ecohub.forecast.baselines import persistence

    t0 = time.perf_counter()
    p = persistence(h.aqi, np.array([len(h) - 1]))
    _ = [float(p[0])] * 3
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cities", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--days", type=int, default=730)
    a = ap.parse_args()
    cities = synthetic_cities(a.cities, a.days)
    t0 = time.perf_counter()
    if a.workers > 1:
        with ProcessPoolExecutor(a.workers) as ex:
            per_city = list(ex.map(_forecast, cities))
    else:
        per_city = [_forecast(h) for h in cities]
    wall = time.perf_counter() - t0
    _persistence(cities[0])  # warm-up (imports)
    t1 = time.perf_counter()
    for h in cities:
        _persistence(h)
    pers = (time.perf_counter() - t1) / len(cities)
    walls = [w for w, _ in per_city]
    cpus = [c for _, c in per_city]
    per = wall / len(cities)  # wall time per city with the workers running in parallel
    print(f"forecast issue (fit D+1 … D+3 + forecast), {a.days} days of history, {a.cities} cities, "
          f"{a.workers} worker(s):")
    cpu = float(np.mean(cpus))
    print(f"  persistence baseline per city:      {pers * 1e6:10.1f} µs")
    print(f"  forecast per city, CPU:             {cpu:10.2f} s    (ratio {cpu / pers:,.0f}× persistence)")
    print(f"  forecast per city, wall in a worker:{np.mean(walls):10.2f} s    (min {min(walls):.2f}, "
          f"max {max(walls):.2f}; shared machine)")
    print(f"  all {a.cities} cities, wall, {a.workers} workers: {wall:8.2f} s  → {per:.2f} s per city")
    print(f"  province of 13 cities: wall as measured {13 * per / 60:6.2f} min; "
          f"CPU-bound on {a.workers} free cores {13 * cpu / a.workers / 60:6.2f} min")
    print(f"  370 cities:            wall as measured {370 * per / 60:6.2f} min; "
          f"CPU-bound on {a.workers} free cores {370 * cpu / a.workers / 60:6.2f} min")


if __name__ == "__main__":
    main()
