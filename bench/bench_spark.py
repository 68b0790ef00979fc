"""Daily AQI over the lake: Spark (``local[2]``) vs the embedded path (pyarrow + numpy in this process), same
definition (:func:`ecohub.lake.daily.station_daily`), same files, in one run (issue 18).

Writes a synthetic lake straight into a temporary folder (the layout of :mod:`ecohub.lake.layout`, one committed
sync): S stations × 6 pollutants × 24 hours × D days (default 1,000 × 70 → 10.08 M rows), then

* embedded: read the day partitions with pyarrow, group the rows by station (one sort), ``station_daily`` per
  station — one core;
* Spark: ``ecohub.lake.spark_jobs.daily_aqi`` (``applyInPandas`` per station) with ``--master`` (default
  local[2]), results collected; session start-up timed apart;

and checks that both give the same AQI on every station-day.

    .venv/bin/python bench/bench_spark.py [--stations 1000] [--days 70] [--master local[2]]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ecohub.domain.timeutil import BEIJING
from ecohub.lake.daily import station_daily
from ecohub.lake.layout import MANIFEST, OBSERVATIONS, SCHEMA

PARAMS = ("so2", "no2", "co", "pm10", "pm25", "o3")
LEVEL = {"so2": 10.0, "no2": 35.0, "co": 0.9, "pm10": 70.0, "pm25": 40.0, "o3": 80.0}
SYNC = "20260101T000000bench0"


def write_lake(root: Path, stations: int, days: int, d0: date, seed: int = 18) -> int:
    """The synthetic lake: one Parquet file per Beijing day; ~2 % of the values missing. Returns the rows."""
    rng = np.random.default_rng(seed)
    sites = np.array([f"S{i:05d}" for i in range(stations)], dtype=object)
    n = stations * len(PARAMS) * 24
    site_col = np.repeat(sites, len(PARAMS) * 24)
    par_col = np.tile(np.repeat(np.array(PARAMS, dtype=object), 24), stations)
    hour_col = np.tile(np.arange(24), stations * len(PARAMS))
    level = np.tile(np.repeat(np.array([LEVEL[p] for p in PARAMS]), 24), stations)
    rows = 0
    for k in range(days):
        d = d0 + timedelta(days=k)
        t0 = int(datetime(d.year, d.month, d.day, tzinfo=BEIJING).timestamp())
        v = level * rng.lognormal(0.0, 0.5, n)
        v[rng.random(n) < 0.02] = np.nan
        times = pa.array((t0 + 3600 * hour_col).astype("datetime64[s]"), type=pa.timestamp("s", tz="UTC"))
        table = pa.table({
            "site": site_col, "parameter": par_col, "interval": ["hour"] * n, "kind": ["air_station"] * n,
            "region_code": ["130100"] * n, "time": times, "date": [d.isoformat()] * n,
            "value": pa.array(v, from_pandas=True), "flag": ["N"] * n, "source": ["bench"] * n,
            "received_at": times}, schema=SCHEMA).drop(["interval", "kind", "date"])
        folder = root / OBSERVATIONS / "interval=hour" / "kind=air_station" / f"date={d.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / f"part-{SYNC}-0-0.parquet")
        rows += n
    (root / MANIFEST).write_text(json.dumps({"version": 1, "syncs": [
        {"id": SYNC, "watermark": datetime.now(UTC).isoformat(), "rows": rows, "files": days}]}), encoding="utf-8")
    return rows


def embedded(root: Path, d0: date, d1: date) -> dict[tuple[str, str], int | None]:
    files = sorted((root / OBSERVATIONS / "interval=hour" / "kind=air_station").glob("date=*/part-*.parquet"))
    t = pa.concat_tables(pq.read_table(f, columns=["site", "parameter", "time", "value"]) for f in files)
    site = t.column("site").to_numpy(zero_copy_only=False)
    order = np.argsort(site, kind="stable")
    site = site[order]
    par = t.column("parameter").to_numpy(zero_copy_only=False)[order]
    tt = t.column("time").cast(pa.timestamp("s", tz="UTC")).cast(pa.int64()).to_numpy()[order]  # stored as ms
    val = t.column("value").to_numpy(zero_copy_only=False).astype(float)[order]
    bounds = np.flatnonzero(np.r_[True, site[1:] != site[:-1], True])
    out = {}
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        res = station_daily(str(site[a]), tt[a:b], par[a:b], val[a:b], d0, d1)
        out.update({(s, d): q for s, d, q in zip(res["site"], res["date"], res["aqi"], strict=True)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stations", type=int, default=1000)
    ap.add_argument("--days", type=int, default=70)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--keep", action="store_true", help="leave the lake in /tmp")
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-spark-lake-"))
    d0 = date(2026, 1, 1)
    d1 = d0 + timedelta(days=a.days - 1)
    try:
        t = time.perf_counter()
        rows = write_lake(root, a.stations, a.days, d0)
        print(f"lake: {rows:,} rows ({a.stations} stations × 6 × 24 h × {a.days} days) written in "
              f"{time.perf_counter() - t:.1f} s → {root}")

        t = time.perf_counter()
        want = embedded(root, d0, d1)
        t_emb = time.perf_counter() - t
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        print(f"embedded (pyarrow + numpy, 1 process): {t_emb:.1f} s = {rows / t_emb / 1e6:.2f} M rows/s, "
              f"{len(want):,} station-days, peak RSS {rss:,.0f} MiB (all rows in memory)")

        from ecohub.lake.spark_jobs import daily_aqi, session

        t = time.perf_counter()
        spark = session(a.master, "ecohub-bench")
        spark.range(1).count()
        t_start = time.perf_counter() - t
        try:
            t = time.perf_counter()
            got = {(r["site"], r["date"]): r["aqi"] for r in daily_aqi(spark, root, d0, d1).select(
                "site", "date", "aqi").collect()}
            t_spark = time.perf_counter() - t
        finally:
            spark.stop()
        print(f"spark ({a.master}): {t_spark:.1f} s job (+ {t_start:.1f} s session start) = "
              f"{rows / t_spark / 1e6:.2f} M rows/s, {len(got):,} station-days")
        same = got == want
        print(f"same AQI on every station-day: {same}")
        faster = "embedded" if t_emb < t_spark else "spark"
        print(f"ratio spark/embedded: {t_spark / t_emb:.2f} ({faster} wins on this machine)")
        if not same:
            raise SystemExit(1)
    finally:
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
