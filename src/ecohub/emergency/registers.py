"""Sensitive receptors (敏感目标): import from GeoJSON/Shapefile (points or polygons) and look-ups near a point.

Types: school, hospital, residential, water_intake, water_protection_zone, nature_reserve, other (Chinese
names are mapped: 学校, 医院, 居民区/村庄/小区, 取水口, 水源保护区, 自然保护区). A polygon is stored with its
representative point (inside the polygon) for distances and plume checks. Population is kept where the file
gives it. Receptors are location facts, not personal data: every staff role sees all of them.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

from shapely.geometry import mapping
from sqlalchemy import insert, select, update

from ecohub.domain.errors import InputError
from ecohub.emergency import boundaries, geoimport
from ecohub.emergency.localgeo import haversine_m
from ecohub.store.db import Store
from ecohub.store.queries import Scope
from ecohub.store.schema import region
from ecohub.store.schema_emergency import RECEPTOR_TYPES, receptor
from ecohub.store.tx import write_tx

TYPE_NAMES = {"学校": "school", "幼儿园": "school", "医院": "hospital", "卫生院": "hospital", "居民区": "residential",
              "村庄": "residential", "小区": "residential", "取水口": "water_intake",
              "水源保护区": "water_protection_zone", "饮用水水源保护区": "water_protection_zone",
              "自然保护区": "nature_reserve"}
STAFF = ("system", "admin", "analyst", "officer")


def _prop(props: dict, *keys: str):
    for k in keys:
        if props.get(k) not in (None, ""):
            return props[k]
    return None


def import_receptors(store: Store, path: Path | str | None = None, *, data: bytes | None = None,
                     filename: str | None = None, datum: str = "wgs84", scope: Scope | None = None) -> dict:
    """Upsert receptors by code; bad features are rejected with their reason, the rest kept."""
    if scope is not None and scope.role not in ("system", "admin", "officer"):
        raise PermissionError("importing receptors is for admins and officers")
    layer = geoimport.read_layer(path or filename or "", kind="any", datum=datum, data=data, filename=filename)
    rejected = list(layer.rejected)
    warnings = list(layer.warnings)
    rows = []
    now = datetime.now(UTC)
    with store.engine.connect() as conn:
        known_regions = set(conn.scalars(select(region.c.code)))
    for i, (props, g) in enumerate(layer.features):
        code = _prop(props, "code", "CODE", "编码", "id", "ID")
        name = _prop(props, "name", "NAME", "名称")
        if code is None or name is None:
            rejected.append({"index": i, "id": code, "reason": "needs code and name"})
            continue
        raw = str(_prop(props, "type", "TYPE", "类型") or "other")
        typ = raw if raw in RECEPTOR_TYPES else TYPE_NAMES.get(raw)
        if typ is None:
            typ = "other"
            warnings.append(f"{code}: type {raw!r} not known, stored as other")
        pop = _prop(props, "population", "POPULATION", "人口")
        try:
            pop = None if pop is None else int(float(pop))
            if pop is not None and pop < 0:
                raise ValueError
        except (TypeError, ValueError):
            rejected.append({"index": i, "id": code, "reason": f"population {pop!r} is not a count ≥ 0"})
            continue
        pt = g if g.geom_type == "Point" else g.representative_point()
        county = boundaries.county_of(pt)
        rows.append({"code": str(code)[:64], "name": str(name)[:200], "type": typ, "lon": pt.x, "lat": pt.y,
                     "geojson": None if g.geom_type == "Point" else json.dumps(mapping(g)), "population": pop,
                     "region_code": county if county in known_regions else None, "imported_at": now})
    imported = updated = 0
    with write_tx(store) as conn:
        existing = dict(conn.execute(select(receptor.c.code, receptor.c.id)).all())
        for r in rows:
            if r["code"] in existing:
                conn.execute(update(receptor).where(receptor.c.id == existing[r["code"]]).values(**r))
                updated += 1
            else:
                conn.execute(insert(receptor).values(**r))
                existing[r["code"]] = -1
                imported += 1
    return {"imported": imported, "updated": updated, "rejected": rejected, "warnings": warnings}


def receptors_near(store: Store, scope: Scope, lon: float, lat: float, radius_m: float) -> list[dict]:
    """Registered receptors within ``radius_m`` of a point (great-circle), for dispersion scenarios."""
    if scope.role not in STAFF:
        raise PermissionError("the receptor register is for staff")
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InputError("lon/lat", (lon, lat), "finite coordinates")
    dlat = radius_m / 111_000.0 * 1.01
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    q = select(receptor.c.code, receptor.c.name, receptor.c.type, receptor.c.lon, receptor.c.lat,
               receptor.c.population).where(receptor.c.lat.between(lat - dlat, lat + dlat),
                                            receptor.c.lon.between(lon - dlon, lon + dlon))
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    out = []
    for r in rows:
        if float(haversine_m(lon, lat, r.lon, r.lat)) <= radius_m:
            out.append({"id": r.code, "name": r.name, "type": r.type, "lon": r.lon, "lat": r.lat,
                        "population": r.population})
    return out


def receptor_features(store: Store, scope: Scope, bbox: tuple[float, float, float, float] | None = None) -> dict:
    """Receptors as GeoJSON points for the one map."""
    if scope.role not in STAFF:
        raise PermissionError("the receptor register is for staff")
    q = select(receptor.c.code, receptor.c.name, receptor.c.type, receptor.c.lon, receptor.c.lat,
               receptor.c.population)
    if bbox is not None:
        q = q.where(receptor.c.lon.between(bbox[0], bbox[2]), receptor.c.lat.between(bbox[1], bbox[3]))
    with store.engine.connect() as conn:
        rows = conn.execute(q.order_by(receptor.c.code)).all()
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
         "properties": {"kind": "receptor", "code": r.code, "name": r.name, "type": r.type,
                        "population": r.population}} for r in rows]}
