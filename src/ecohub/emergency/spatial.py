"""Points against polygons on both backends: PostGIS in the database, shapely (STRtree) on SQLite.

Semantics, identical on both (the red-line tests check 1,000 random points and the edge cases agree):

* **inside** = the polygon *covers* the point — the boundary counts as inside (PostGIS ``ST_Covers``, shapely
  ``covers``); holes are outside, their rings inside; a MultiPolygon covers what any part covers.
* **within a buffer of d metres** = the planar distance from the point to the polygon in a local equirectangular
  projection centred on the point (x = R·cos φ0·Δλ, y = R·Δφ, R = 6 371 008.8 m) is ≤ d. PostGIS evaluates the
  same formula (``ST_Scale``/``ST_Translate`` then ``ST_Distance``), after a GiST-indexed bounding prefilter;
  shapely after an STRtree prefilter. Against geodesic distance the error is below 0.5 % up to 50 km.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely import STRtree
from sqlalchemy import text

from ecohub.emergency.localgeo import R_EARTH

DEG = math.pi / 180.0


def degree_bounds(lat: float, buffer_m: float) -> tuple[float, float]:
    """(Δlon, Δlat) in degrees that certainly contain a buffer of ``buffer_m`` around latitude ``lat``."""
    dlat = buffer_m / (R_EARTH * DEG) * 1.01 + 1e-9
    c = max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
    return dlat / c, dlat


def local_distance_m(geom, lon: float, lat: float) -> float:
    """Distance (m) from (lon, lat) to a geometry in the local equirectangular plane of the point."""
    kx, ky = R_EARTH * DEG * math.cos(math.radians(lat)), R_EARTH * DEG

    def tx(c):
        return np.column_stack([(c[:, 0] - lon) * kx, (c[:, 1] - lat) * ky])
    return float(shapely.distance(shapely.transform(geom, tx), shapely.Point(0.0, 0.0)))


class PolygonIndex:
    """An STRtree of polygons with their keys (SQLite path)."""

    def __init__(self, keys: list, geoms: list):
        self.keys = keys
        self.geoms = np.array(geoms, dtype=object)
        self.tree = STRtree(self.geoms)

    def covering(self, lon: np.ndarray, lat: np.ndarray) -> list[tuple[int, object]]:
        """(point index, polygon key) for every polygon that covers a point (bulk STRtree query)."""
        pts = shapely.points(np.asarray(lon, float), np.asarray(lat, float))
        pi, gi = self.tree.query(pts, predicate="covered_by")
        return [(int(p), self.keys[int(g)]) for p, g in zip(pi, gi, strict=True)]

    def within(self, lon: np.ndarray, lat: np.ndarray, buffer_m: float) -> list[tuple[int, object, float]]:
        """(point index, polygon key, distance m) for every polygon within ``buffer_m`` of a point (0 inside)."""
        out = []
        lon = np.asarray(lon, float)
        lat = np.asarray(lat, float)
        for i in range(len(lon)):
            dx, dy = degree_bounds(lat[i], buffer_m)
            box = shapely.box(lon[i] - dx, lat[i] - dy, lon[i] + dx, lat[i] + dy)
            for g in self.tree.query(box):
                d = local_distance_m(self.geoms[g], lon[i], lat[i])
                if d <= buffer_m:
                    out.append((i, self.keys[int(g)], d))
        return out


def pg_points_against(conn, table: str, key_col: str, lon: np.ndarray, lat: np.ndarray, buffer_m: float
                      ) -> list[tuple[int, object, float]]:
    """PostGIS: (point index, key, distance m) for rows of ``table`` (its ``geom`` column) covering each point
    (buffer 0, distance 0) or within the buffer. ``table``/``key_col`` are fixed names from the code."""
    params = {"lon": [float(v) for v in lon], "lat": [float(v) for v in lat]}
    if buffer_m <= 0:
        sql = (f"SELECT p.i - 1, t.{key_col}, 0.0 FROM unnest(CAST(:lon AS float8[]), CAST(:lat AS float8[])) "  # noqa: S608 (fixed names)
               f"WITH ORDINALITY AS p(lon, lat, i) JOIN {table} t "
               "ON ST_Covers(t.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))")
        return [(int(r[0]), r[1], 0.0) for r in conn.execute(text(sql), params)]
    kx = f"({R_EARTH * DEG!r} * cos(radians(p.lat)))"
    ky = f"{R_EARTH * DEG!r}"
    dist = (f"ST_Distance(ST_Scale(ST_Translate(t.geom, -p.lon, -p.lat), {kx}, {ky}), "
            "ST_SetSRID(ST_MakePoint(0, 0), 4326))")
    sql = (f"SELECT i, key, d FROM (SELECT p.i - 1 AS i, t.{key_col} AS key, {dist} AS d "  # noqa: S608 (fixed names)
           "FROM unnest(CAST(:lon AS float8[]), CAST(:lat AS float8[]), CAST(:dx AS float8[]), CAST(:dy AS float8[])) "
           f"WITH ORDINALITY AS p(lon, lat, dx, dy, i) JOIN {table} t ON t.geom && ST_MakeEnvelope("
           "p.lon - p.dx, p.lat - p.dy, p.lon + p.dx, p.lat + p.dy, 4326)) q WHERE d <= :buf")
    bounds = [degree_bounds(float(la), buffer_m) for la in lat]
    params.update({"dx": [b[0] for b in bounds], "dy": [b[1] for b in bounds], "buf": float(buffer_m)})
    return [(int(r[0]), r[1], float(r[2])) for r in conn.execute(text(sql), params)]
