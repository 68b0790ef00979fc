"""Emergency models and spatial checks.

1. Plume on a 500 × 500 grid (ground-level concentration, class D, P-G σ with their distance segments), beside
   the floor: a plain numpy broadcast of the same Gaussian formula with one smooth σ law (Briggs rural D), no
   segments, no reflection bookkeeping; and a full screening run (maximum, exact isopleths, GeoJSON).
2. Red-line check: 100 000 points against 10 000 polygons — ecohub on SQLite (shapely STRtree, polygons read from
   the database) and on PostgreSQL (PostGIS, GiST), beside the floor: shapely's bulk STRtree query on polygons
   already in memory.

Run: ``.venv/bin/python bench/bench_emergency.py [--only plume|redline] [--points 100000] [--polygons 10000]``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, pg_available, pg_store, report, sqlite_store  # noqa: E402

from ecohub.emergency import redline as RL  # noqa: E402
from ecohub.emergency.scenario import Scenario, concentration_grid, run  # noqa: E402
from ecohub.store.schema_emergency import redline  # noqa: E402


def best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        with Timer() as t:
            fn()
        times.append(t.s)
    return min(times)


def bench_plume(n: int) -> None:
    sc = Scenario(lon=114.5, lat=38.0, wind_ms=3.0, wind_from_deg=250.0, thresholds_mg_m3=[10.0, 1.0],
                  rate_gs=500.0, height_m=30.0, stability="D")
    half = 10_000.0

    def floor():
        axis = np.linspace(-half, half, n)
        e, nn = np.meshgrid(axis, axis)
        th = math.radians(250.0 + 180.0)
        x = e * math.sin(th) + nn * math.cos(th)
        y = -e * math.cos(th) + nn * math.sin(th)
        xp = np.maximum(x, 1.0)
        sy = 0.08 * xp / np.sqrt(1 + 0.0001 * xp)
        sz = 0.06 * xp / np.sqrt(1 + 0.0015 * xp)
        c = 500.0 / (2 * np.pi * 3.0 * sy * sz) * np.exp(-0.5 * (y / sy) ** 2) * 2 * np.exp(-0.5 * (30.0 / sz) ** 2)
        return np.where(x > 0, c, 0.0)

    t_floor = best(floor)
    t_grid = best(lambda: concentration_grid(sc, n=n, half_extent_m=half))
    t_run = best(lambda: run(sc), repeat=3)
    report(f"Plume, {n} x {n} ground-level grid (ms)", [
        ("floor: numpy broadcast, one smooth sigma law", t_floor * 1000, "ms"),
        ("ecohub concentration_grid (P-G segments, reflection)", t_grid * 1000, "ms"),
        ("ecohub run(): max, exact isopleths x2, GeoJSON", t_run * 1000, "ms"),
    ])


def polygons(n: int, rng) -> list:
    """n small random convex polygons (hexagons, 0.5–3 km across) over 河北, some with holes."""
    out = []
    cx = rng.uniform(113.6, 119.8, n)
    cy = rng.uniform(36.1, 42.5, n)
    r = rng.uniform(0.003, 0.015, n)
    ang = np.linspace(0, 2 * np.pi, 7)[:-1]
    for i in range(n):
        ring = np.column_stack([cx[i] + r[i] * np.cos(ang), cy[i] + r[i] * np.sin(ang)])
        hole = None
        if i % 10 == 0:
            hole = [np.column_stack([cx[i] + 0.3 * r[i] * np.cos(ang), cy[i] + 0.3 * r[i] * np.sin(ang)])]
        out.append(shapely.Polygon(ring, hole))
    return out


def load(store, polys) -> None:
    now = datetime.now(UTC)
    rows = []
    for i, g in enumerate(polys):
        x0, y0, x1, y1 = g.bounds
        rows.append({"code": f"B{i:06d}", "name": f"bench {i}", "type": "other", "region_code": None,
                     "geojson": json.dumps(shapely.geometry.mapping(shapely.MultiPolygon([g]))), "area_km2": 1.0,
                     "min_lon": x0, "min_lat": y0, "max_lon": x1, "max_lat": y1, "source_datum": "wgs84",
                     "imported_at": now})
    with store.engine.begin() as conn:
        for k in range(0, len(rows), 2000):
            conn.execute(insert(redline), rows[k:k + 2000])


def bench_redline(n_points: int, n_polys: int) -> None:
    rng = np.random.default_rng(11)
    polys = polygons(n_polys, rng)
    lon = rng.uniform(113.6, 119.8, n_points)
    lat = rng.uniform(36.1, 42.5, n_points)

    def floor():
        tree = shapely.STRtree(polys)
        return tree.query(shapely.points(lon, lat), predicate="covered_by")

    t_floor = best(floor, repeat=3)
    hits_floor = len(floor()[0])
    rows = [("floor: shapely STRtree built + bulk query, polygons in memory", n_points / t_floor, "points/s")]
    with sqlite_store() as s:
        load(s, polys)
        t = best(lambda: RL.classify_points(s, lon, lat), repeat=3)
        hits = len(RL.classify_points(s, lon, lat))
        assert hits == hits_floor, (hits, hits_floor)
        rows.append(("ecohub on SQLite (cached STRtree of the table, covers)", n_points / t, "points/s"))
    if pg_available():
        with pg_store() as s:
            load(s, polys)
            t = best(lambda: RL.classify_points(s, lon, lat), repeat=3)
            hits = len(RL.classify_points(s, lon, lat))
            assert hits == hits_floor, (hits, hits_floor)
            rows.append(("ecohub on PostgreSQL (PostGIS ST_Covers, GiST)", n_points / t, "points/s"))
    else:
        print("(PostgreSQL not reachable: PostGIS row skipped)")
    report(f"Red-line check, {n_points:,} points x {n_polys:,} polygons ({hits_floor:,} hits on every path)", rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=("plume", "redline"))
    ap.add_argument("--cells", type=int, default=500)
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--polygons", type=int, default=10_000)
    a = ap.parse_args()
    if a.only in (None, "plume"):
        bench_plume(a.cells)
    if a.only in (None, "redline"):
        bench_redline(a.points, a.polygons)


if __name__ == "__main__":
    main()
