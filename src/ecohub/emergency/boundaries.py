"""County-level boundaries as shapely polygons, from the boundary files shipped in ``ecohub/data/boundaries``.

The same files :mod:`ecohub.supervision.geo` reads with ray casting (that package sits beside this one, so it is
not imported here); red lines need polygon intersections (areas per county, the county of a polygon), which
shapely does. The boundaries are simplified and not an officially reviewed map (``data/README.md``): the
per-county areas are for screening and statistics, not for legal delimitation.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import shapely
from shapely.geometry import shape


@lru_cache(maxsize=1)
def counties() -> tuple[list[tuple[str, str]], list, shapely.STRtree]:
    """([(code, name)], [polygon], STRtree) of every county polygon shipped (``*_counties.geojson``)."""
    folder = resources.files("ecohub.data").joinpath("boundaries")
    meta: list[tuple[str, str]] = []
    geoms = []
    for p in sorted(folder.iterdir(), key=lambda p: p.name):
        if not p.name.endswith("_counties.geojson"):
            continue
        with p.open(encoding="utf-8") as f:
            fc = json.load(f)
        for feat in fc["features"]:
            g = shapely.make_valid(shape(feat["geometry"]))
            if g.is_empty:
                continue
            meta.append((str(feat["properties"]["code"]), str(feat["properties"].get("name", ""))))
            geoms.append(g)
    return meta, geoms, shapely.STRtree(geoms)


def county_of(geom) -> str | None:
    """The county holding the largest part of a geometry (a point: the county covering it), or None."""
    meta, geoms, tree = counties()
    if not geoms:
        return None
    if geom.geom_type == "Point":
        hits = tree.query(geom, predicate="covered_by")
        return meta[int(hits[0])][0] if len(hits) else None
    best, best_area = None, 0.0
    for j in tree.query(geom, predicate="intersects"):
        a = shapely.intersection(geom, geoms[int(j)]).area
        if a > best_area:
            best, best_area = meta[int(j)][0], a
    return best
