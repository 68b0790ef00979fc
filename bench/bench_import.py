"""Import of a 1,000,000-row long CSV through ``ecohub import``'s code path: rows/s and peak memory, beside
the bare floor of reading the same file with ``csv.reader`` (nothing else) in the same run. The import runs
in a fresh process per file size (250,000 and 1,000,000 rows) so that peak memory (max RSS) can be compared:
streaming means it must not grow with the file.

    .venv/bin/python bench/bench_import.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

PARAMS = ("pm25", "pm10", "so2", "no2", "co", "o3", "temp", "humidity", "wind_speed", "pressure")
CHILD = r"""
import json, resource, sys, time
from ecohub.store.db import Store
from ecohub.store import registry as R
from ecohub.ingest.files import import_file
db, path, sites = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = Store.open(f"sqlite:///{db}")
s.init()
with s.engine.begin() as c:
    for i in range(sites):
        R.upsert_site(c, R.SiteInput(f"B{i:05d}", "air_station", f"站{i}", 114.0, 38.0, "130100"))
t0 = time.perf_counter()
r = import_file(s, path)
dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "rows": r.rows, **r.counts(),
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_file(path: Path, rows: int, sites: int) -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC).astimezone().replace(tzinfo=None)
    per_hour = sites * len(PARAMS)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["site", "parameter", "time", "value", "flag"])
        n = 0
        h = 0
        while n < rows:
            ts = (t0 + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
            for i in range(min(per_hour, rows - n)):
                w.writerow([f"B{i // len(PARAMS):05d}", PARAMS[i % len(PARAMS)], ts, (h * 7 + i) % 500 / 4, "N"])
            n += min(per_hour, rows - n)
            h += 1


def floor(path: Path) -> float:
    t0 = time.perf_counter()
    with open(path, newline="") as f:
        n = sum(1 for _ in csv.reader(f))
    return (n - 1) / (time.perf_counter() - t0)


def child(db: Path, path: Path, sites: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(db), str(path), str(sites)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--sites", type=int, default=1000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        results = {}
        for rows in (a.rows // 4, a.rows):
            f = Path(d) / f"long_{rows}.csv"
            make_file(f, rows, a.sites)
            fl = floor(f)
            r = child(Path(d) / f"db_{rows}.db", f, a.sites)
            assert r["imported"] == rows and r["rejected"] == 0, r
            results[rows] = (fl, r, f.stat().st_size)
        for rows, (fl, r, size) in results.items():
            print(f"\nimport of {rows:,} rows ({size / 1e6:.0f} MB CSV, {a.sites} sites × {len(PARAMS)} parameters)")
            print(f"  {'floor: csv.reader over the file, nothing else':<58} {fl:>12,.0f} rows/s  ratio 1.00")
            ips = rows / r["seconds"]
            print(f"  {'ecohub import (parse, validate, write, SQLite)':<58} {ips:>12,.0f} rows/s  ratio {ips / fl:4.2f}")
            print(f"  peak memory of the import process (max RSS): {r['maxrss_mb']:.0f} MB")
        small, big = results[a.rows // 4][1]["maxrss_mb"], results[a.rows][1]["maxrss_mb"]
        print(f"\npeak memory 4× the rows: {big:.0f} MB vs {small:.0f} MB (ratio {big / small:.2f}; streaming ⇒ ≈ 1)")


if __name__ == "__main__":
    main()
