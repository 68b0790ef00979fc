"""Rebuild the real-data test fixtures under ``tests/fixtures/`` from the shared real-data folder.

Run: ``.venv/bin/python tools/build_test_fixtures.py [--shared ../shared/data]``. The output is byte-identical
on every run (gzip without a time stamp). Each fixture folder has a README naming the source, the licence and
this cut; the tests read only these folders, never anything outside the repository.

Cuts (chosen to keep the proofs' strength — whole-year series of a few stations rather than a few hours of many):

* ``cnemc_station_hourly_2019/cities_full_year/`` — the 12 monthly files, all 15 ``type`` rows, station columns
  limited to :data:`YEAR_STATIONS` (one per city of the source plus the stations named by tests).
* ``cnemc_station_hourly_2019/national_weeks/`` — both weeks, station columns limited to the stations named by
  tests plus every :data:`WEEK_STEP`-th station column of the source (a spread over all provinces).
* ``aqistudy_city_daily/``, ``cnemc_surface_water_realtime/`` — whole files, gzip-compressed.
* ``hj212_packets/`` — whole files (JSON lines gzip-compressed, the raw capture log unchanged).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "tests" / "fixtures"

#: Whole-year stations: the first listed station of each of the 12 cities, plus 1129A (哈尔滨 岭北: the
#: real 19-h NO2 flat line of 2019-10-24 the QC test must find).
YEAR_EXTRA = ("1129A",)
#: National-week stations named by tests: 2647A (SO2 1-h 915 on 2019-01-09 13:00, the CNEMC 200 rule),
#: 2170A (CO 90 mg/m³ on 2019-01-10, the one QC range hit), 1051A (the demo reference-data check), 1947A (the
#: only 1-h PM10 above 1,000 µg/m³ of the winter week: 1,077).
WEEK_NAMED = ("2647A", "2170A", "1051A", "1947A")
WEEK_STEP = 10


def _write_gz(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    path.write_bytes(buf.getvalue())


def _cut_columns(src: Path, keep: list[str]) -> bytes:
    """The CNEMC long file with only the columns date, hour, type and ``keep`` (in the source's order)."""
    with gzip.open(src, "rt", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        idx = [0, 1, 2] + [i for i, c in enumerate(header) if c in set(keep)]
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow([header[i] for i in idx])
        for row in reader:
            w.writerow([row[i] if i < len(row) else "" for i in idx])
    return out.getvalue().encode("utf-8")


def year_stations(shared: Path) -> list[str]:
    seen: dict[str, str] = {}
    with open(shared / "cnemc_station_hourly_2019/cities_full_year/stations_included.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            seen.setdefault(r["city"], r["station_code"])
    return sorted(set(seen.values()) | set(YEAR_EXTRA))


def week_stations(shared: Path) -> list[str]:
    src = shared / "cnemc_station_hourly_2019/national_weeks/sites_2019-01-08_to_2019-01-14.csv.gz"
    with gzip.open(src, "rt", encoding="utf-8") as fh:
        header = next(csv.reader(fh))[3:]
    return sorted(set(header[::WEEK_STEP]) | set(WEEK_NAMED))


CUTS = {
    "cnemc_station_hourly_2019": lambda ys, ws: (
        f"`cities_full_year/`: the 12 monthly files of 2019 with all 15 `type` rows, station columns limited to "
        f"{len(ys)} stations (the first listed station of each of the 12 cities, which includes 1129A) — "
        f"{', '.join(ys)}; `stations_included.csv` cut to them. `national_weeks/`: both weeks, station columns "
        f"limited to {len(ws)} stations: every {WEEK_STEP}th station column of the source plus "
        f"{', '.join(WEEK_NAMED)} (named by tests). Values unchanged. `stations.csv` is not included."),
    "aqistudy_city_daily": lambda ys, ws: "both files whole, gzip-compressed.",
    "cnemc_surface_water_realtime": lambda ys, ws: "the snapshot whole, gzip-compressed.",
    "hj212_packets": lambda ys, ws: ("all files whole; the `.jsonl` files gzip-compressed, the raw capture log "
                                     "unchanged."),
}


def build(shared: Path) -> None:
    cnemc = shared / "cnemc_station_hourly_2019"
    ys = year_stations(shared)
    for f in sorted((cnemc / "cities_full_year").glob("sites_2019-*.csv.gz")):
        _write_gz(OUT / "cnemc_station_hourly_2019/cities_full_year" / f.name, _cut_columns(f, ys))
    with open(cnemc / "cities_full_year/stations_included.csv", encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh)]
    keep = [rows[0]] + [r for r in rows[1:] if r[0] in ys]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(keep)
    (OUT / "cnemc_station_hourly_2019/cities_full_year/stations_included.csv").write_text(out.getvalue(), "utf-8")
    ws = week_stations(shared)
    for f in sorted((cnemc / "national_weeks").glob("sites_2019-*.csv.gz")):
        _write_gz(OUT / "cnemc_station_hourly_2019/national_weeks" / f.name, _cut_columns(f, ws))
    for f in sorted((shared / "aqistudy_city_daily").glob("*.csv")):
        _write_gz(OUT / "aqistudy_city_daily" / (f.name + ".gz"), f.read_bytes())
    for f in sorted((shared / "cnemc_surface_water_realtime").glob("*.csv")):
        _write_gz(OUT / "cnemc_surface_water_realtime" / (f.name + ".gz"), f.read_bytes())
    hj = shared / "hj212_packets"
    for f in sorted(hj.glob("*.jsonl")):
        _write_gz(OUT / "hj212_packets" / (f.name + ".gz"), f.read_bytes())
    for f in sorted(hj.glob("*.jsonl.gz")):
        shutil.copyfile(f, OUT / "hj212_packets" / f.name)
    (OUT / "hj212_packets/raw_logs").mkdir(parents=True, exist_ok=True)
    for f in sorted((hj / "raw_logs").iterdir()):
        shutil.copyfile(f, OUT / "hj212_packets/raw_logs" / f.name)
    for folder, cut in CUTS.items():
        text = (shared / folder / "README.md").read_text("utf-8")
        head = (f"# Test fixture: a subset of `{folder}` (real published data)\n\n"
                f"**Cut.** {cut(ys, ws)}\n\nRebuilt byte-identically by `tools/build_test_fixtures.py` from the shared "
                "real-data folder; the tests read only this folder. Source, original publisher and licence: the "
                "original README, unchanged below (paths there are those of the full set; `.csv` files are "
                "gzip-compressed here, content unchanged).\n\n---\n\n")
        (OUT / folder / "README.md").write_text(head + text, "utf-8")
    print(f"year stations ({len(ys)}): {' '.join(ys)}")
    print(f"week stations: {len(ws)}")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"tests/fixtures: {total:,} bytes")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(REPO.parent / "shared" / "data"), help="the shared real-data folder")
    build(Path(ap.parse_args().shared))


if __name__ == "__main__":
    main()
