"""A wide CSV whose columns are all rejected (unknown parameters): cost per rejected cell at 10,000 and 100,000
columns, beside the floor of reading the same file with ``csv.reader`` in the same run, and beside what the
old rejection did per cell (join the whole row, then keep 4,000 characters) measured on the same row.
Linear means the per-cell cost does not grow with the width (issue 10: "1 M columns is quadratic").

    .venv/bin/python bench/bench_wide_reject.py [--widths 10000,100000]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

from ecohub.ingest.files import import_file
from ecohub.store import registry as R
from ecohub.store.db import Store


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--widths", default="10000,100000")
    widths = [int(w) for w in ap.parse_args().widths.split(",")]
    csv.field_size_limit(sys.maxsize)
    print("wide CSV, every column rejected (one row); per-cell times")
    with tempfile.TemporaryDirectory() as d:
        for n in widths:
            f = Path(d) / f"w{n}.csv"
            f.write_text("site,time," + ",".join(f"bad{i}" for i in range(n)) + "\n"
                         + "W1,2026-01-01 01:00," + ",".join("7" for _ in range(n)) + "\n", encoding="utf-8")
            t0 = time.perf_counter()
            with f.open(encoding="utf-8", newline="") as fh:
                row = list(csv.reader(fh))[1]
            floor = time.perf_counter() - t0
            reps = min(n, 2000)  # the old per-cell cost, measured on a sample of cells of this row
            t0 = time.perf_counter()
            for _ in range(reps):
                _ = ",".join(row)[:4000]
            old = (time.perf_counter() - t0) / reps
            s = Store.open(f"sqlite:///{Path(d) / f'w{n}.db'}")
            s.init()
            with s.engine.begin() as c:
                R.upsert_site(c, R.SiteInput("W1", "air_station", "w", 114.5, 38.0, "130100"))
            t0 = time.perf_counter()
            r = import_file(s, f, fmt="wide")
            dt = time.perf_counter() - t0
            s.close()
            assert r.rejected == n
            print(f"{n:>8,} columns: import {dt:7.3f} s = {dt / n * 1e6:6.1f} µs/cell; floor csv.reader "
                  f"{floor / n * 1e6:5.2f} µs/cell ({dt / floor:5.0f}x); old row join alone {old * 1e6:8.1f} µs/cell "
                  f"({old * n:8.2f} s for the row)")


if __name__ == "__main__":
    main()
