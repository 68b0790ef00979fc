"""Which administrative division a point (WGS-84) lies in, from the boundaries shipped with the package.

Order: the county-level polygons of every ``<province>_counties.geojson`` in ``ecohub/data/boundaries``
(河北省 today), then the city-level ones, then the province polygons of ``china_provinces.geojson``. A point
inside a province without county polygons — or in a gap of the simplified boundaries — gets the **nearest
county-level point** of the ``region`` table within that province (``method = "nearest"``); a point in no
province polygon gets the nearest county point if it is within :data:`MAX_NEAREST_KM` (coast, simplified
borders), else it is outside China and refused.

The shipped boundaries are simplified and not an officially reviewed map (see ``data/README.md``): near a
boundary a point may be assigned to the neighbouring division; staff can correct the region of a complaint.
Pure Python (ray casting with bounding-box prefilters): ~170 polygons, microseconds per point.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from sqlalchemy import select

from ecohub.store.db import Store
from ecohub.store.queries import haversine_km
from ecohub.store.schema import region

MAX_NEAREST_KM = 30.0


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: int  # 1 province, 2 city, 3 county
    bbox: tuple[float, float, float, float]
    polygons: tuple[tuple[tuple[tuple[float, float], ...], ...], ...]  # polygon → rings (outer first) → points

    def contains(self, lon: float, lat: float) -> bool:
        x0, y0, x1, y1 = self.bbox
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            return False
        for rings in self.polygons:
            if _in_ring(rings[0], lon, lat) and not any(_in_ring(h, lon, lat) for h in rings[1:]):
                return True
        return False


def _in_ring(ring, x: float, y: float) -> bool:
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _areas(name: str, level: int) -> list[Area]:
    with resources.files("ecohub.data").joinpath("boundaries", name).open(encoding="utf-8") as f:
        fc = json.load(f)
    out = []
    for feat in fc["features"]:
        g = feat["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]] if g["type"] == "Polygon" \
            else []
        rings = tuple(tuple(tuple((float(p[0]), float(p[1])) for p in ring) for ring in poly) for poly in polys)
        xs = [p[0] for poly in rings for p in poly[0]]
        ys = [p[1] for poly in rings for p in poly[0]]
        if not xs:
            continue
        out.append(Area(str(feat["properties"]["code"]), str(feat["properties"].get("name", "")), level,
                        (min(xs), min(ys), max(xs), max(ys)), rings))
    return out


@lru_cache(maxsize=1)
def boundary_areas() -> tuple[list[Area], list[Area], list[Area]]:
    """(counties, cities, provinces) from the shipped boundary files."""
    folder = resources.files("ecohub.data").joinpath("boundaries")
    names = sorted(p.name for p in folder.iterdir())
    counties = [a for n in names if n.endswith("_counties.geojson") for a in _areas(n, 3)]
    cities = [a for n in names if n.endswith("_cities.geojson") for a in _areas(n, 2)]
    provinces = _areas("china_provinces.geojson", 1) if "china_provinces.geojson" in names else []
    return counties, cities, provinces


@dataclass(frozen=True)
class Located:
    code: str
    name: str
    method: str  # polygon | nearest
    distance_km: float | None = None


def locate(store: Store, lon: float, lat: float) -> Located | None:
    """The county-level (else city-level) division of a point, or None when it is outside China."""
    counties, cities, provinces = boundary_areas()
    known = _region_codes(store)
    for group in (counties, cities):
        for a in group:
            if a.code in known and a.contains(lon, lat):
                return Located(a.code, known[a.code], "polygon")
    prov = next((a for a in provinces if a.contains(lon, lat)), None)
    near = _nearest_county(store, lon, lat, prov.code[:2] if prov else None)
    if near is None:
        return None
    code, name, d = near
    if prov is None and d > MAX_NEAREST_KM:
        return None
    return Located(code, name, "nearest", round(d, 3))


def _region_codes(store: Store) -> dict[str, str]:
    with store.engine.connect() as conn:
        return dict(conn.execute(select(region.c.code, region.c.name)).all())


def _nearest_county(store: Store, lon: float, lat: float, province_prefix: str | None):
    q = select(region.c.code, region.c.name, region.c.lon, region.c.lat).where(
        region.c.level == 3, region.c.lon.is_not(None), region.c.lat.is_not(None))
    if province_prefix:
        q = q.where(region.c.code.startswith(province_prefix, autoescape=True))
    else:  # only look around the point (a degree is ~111 km)
        dl = MAX_NEAREST_KM / 111.0
        dlon = dl / max(0.05, math.cos(math.radians(lat)))
        q = q.where(region.c.lat.between(lat - dl, lat + dl), region.c.lon.between(lon - dlon, lon + dlon))
    best = None
    with store.engine.connect() as conn:
        for code, name, x, y in conn.execute(q):
            d = haversine_km(lon, lat, x, y)
            if best is None or d < best[2]:
                best = (code, name, d)
    return best
