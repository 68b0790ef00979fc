"""Synthetic red-line layers for the tests (fictional polygons in 石家庄, WGS-84): holes, multipolygons,
wrong winding, a bow-tie, projected coordinates, a feature without a code."""

from __future__ import annotations

import json
from pathlib import Path

# square with a hole (counter-clockwise exterior, clockwise hole)
R1 = {"type": "Polygon", "coordinates": [
    [[114.0, 38.0], [114.5, 38.0], [114.5, 38.5], [114.0, 38.5], [114.0, 38.0]],
    [[114.2, 38.2], [114.2, 38.3], [114.3, 38.3], [114.3, 38.2], [114.2, 38.2]]]}
# two parts
R2 = {"type": "MultiPolygon", "coordinates": [
    [[[114.6, 38.0], [114.8, 38.0], [114.8, 38.2], [114.6, 38.2], [114.6, 38.0]]],
    [[[114.6, 38.4], [114.8, 38.4], [114.8, 38.6], [114.6, 38.6], [114.6, 38.4]]]]}
# triangle, wound clockwise (wrong for RFC 7946: fixed on import with a warning)
R3 = {"type": "Polygon", "coordinates": [[[114.5, 38.6], [114.7, 38.9], [114.9, 38.6], [114.5, 38.6]]]}
BOWTIE = {"type": "Polygon", "coordinates": [[[114.0, 39.0], [114.2, 39.2], [114.2, 39.0], [114.0, 39.2],
                                                [114.0, 39.0]]]}
PROJECTED = {"type": "Polygon", "coordinates": [[[500000, 4200000], [501000, 4200000], [501000, 4201000],
                                                   [500000, 4200000]]]}


def feature(geom, **props) -> dict:
    return {"type": "Feature", "geometry": geom, "properties": props}


def layer() -> dict:
    return {"type": "FeatureCollection", "features": [
        feature(R1, code="RL-001", name="西山水源涵养红线（演示）", type="水源涵养"),
        feature(R2, code="RL-002", name="滹沱河生物多样性红线（演示）", type="biodiversity"),
        feature(R3, code="RL-003", name="北部水土保持红线（演示）", type="水土保持"),
        feature(BOWTIE, code="RL-BAD", name="自相交", type="other"),
        feature(PROJECTED, code="RL-PROJ", name="投影坐标", type="other"),
        feature(R1, name="无编码"),
    ]}


def write(tmp: Path, doc: dict, name: str = "redlines.geojson") -> Path:
    p = tmp / name
    p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return p
