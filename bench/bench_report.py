"""A provincial monthly report — 13 cities, 100 air stations, 100 water sections — against the figures it
rests on computed alone.

Run: ``.venv/bin/python bench/bench_report.py [--days 30]``. Builds a SQLite store with synthetic hourly air data
(6 pollutants) for the month and the same month last year, 4-hourly water data for 100 sections (江苏省 320000,
its 13 cities), then times:

* baseline: ``analytics.rankings.city_ranking`` for the month (the API's city ranking — one HJ 663 pass);
* the report's figures (``reports.figures.compute``: air this year and last, water both years, the rest);
* the DOCX and the PDF (figures + template + charts + rendering).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, report, sqlite_store  # noqa: E402

from ecohub.analytics import rankings  # noqa: E402
from ecohub.reports import figures, service  # noqa: E402
from ecohub.store import registry as R  # noqa: E402
from ecohub.store.writer import ObservationWriter  # noqa: E402

CITIES = [f"32{i:02d}00" for i in range(1, 14)]
AIR = {"pm25": 45, "pm10": 75, "so2": 8, "no2": 30, "co": 0.8, "o3": 90}
WATER = {"ph": 7.6, "do": 7.0, "codmn": 4.0, "nh3n": 0.5, "tp": 0.15}


def build(store, days: int) -> int:
    rng = np.random.default_rng(7)
    with store.engine.begin() as c:
        for i in range(100):
            city = CITIES[i % 13]
            R.upsert_site(c, R.SiteInput(f"A{i:03d}", "air_station", f"站{i}", 118 + i % 10 / 10, 32 + i // 10 / 10, city))
            R.upsert_site(c, R.SiteInput(f"W{i:03d}", "water_section", f"断面{i}", 118 + i % 10 / 10,
                                         32 + i // 10 / 10, city, attrs={"waterbody": "river"}))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        air = {(i, p): res.get(c, idx[f"A{i:03d}"][0], par[p], "hour") for i in range(100) for p in AIR}
        wat = {(i, p): res.get(c, idx[f"W{i:03d}"][0], par[p], "rt") for i in range(100) for p in WATER}
    n = 0
    w = ObservationWriter(store, "import", "bench", batch_size=200_000)
    for year in (2025, 2026):
        t0 = int(datetime(year, 11, 1, tzinfo=UTC).timestamp()) - 8 * 3600
        hours = np.arange(days * 24)
        for (i, p), sid in air.items():
            city_factor = 0.6 + (i % 13) / 13
            vals = AIR[p] * city_factor * (1 + 0.5 * np.sin(hours / 24 * 2 * np.pi)) * rng.lognormal(0, 0.3, hours.size)
            for h, v in zip(hours.tolist(), vals.tolist(), strict=True):
                w.add(sid, t0 + 3600 * h, round(v, 2 if p == "co" else 0))
                n += 1
        for (i, p), sid in wat.items():
            for h in range(0, days * 24, 4):
                w.add(sid, t0 + 3600 * h, round(WATER[p] * (0.5 + (i % 7) / 5) * rng.lognormal(0, 0.2), 3))
                n += 1
    w.flush()
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=30)
    a = ap.parse_args()
    with sqlite_store() as store:
        with Timer() as tb:
            n = build(store, a.days)
        print(f"built {n:,} observations in {tb.s:.1f} s")
        d0, d1 = date(2026, 11, 1), date(2026, 11, a.days)
        with Timer() as t_rank:
            rows = rankings.city_ranking(store, d0, d1, region_code="320000")
        assert len(rows) == 13
        with Timer() as t_fig:
            fig = figures.compute(store, "monthly", "320000", "2026-11")
        assert fig["air"]["has_data"] and fig["water"]["sections"] == 100
        with Timer() as t_docx:
            docx = service.render_report(store, "monthly", "320000", "2026-11", "docx")
        with Timer() as t_pdf:
            pdf = service.render_report(store, "monthly", "320000", "2026-11", "pdf")
    report(f"monthly report, 13 cities, 100 stations, 100 sections, {a.days} days (SQLite) — milliseconds", [
        ("baseline: city ranking of the month (API's HJ 663 pass)", t_rank.s * 1000, "ms"),
        ("report figures (this year and last, air + water + rest)", t_fig.s * 1000, "ms"),
        (f"DOCX report ({len(docx.content) // 1024} KB)", t_docx.s * 1000, "ms"),
        (f"PDF report ({len(pdf.content) // 1024} KB)", t_pdf.s * 1000, "ms"),
    ])


if __name__ == "__main__":
    main()
