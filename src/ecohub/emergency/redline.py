"""Ecological protection red lines (生态保护红线): import, spatial checks, change-patch alerts, county statistics.

* :func:`import_redlines` — polygons with code, name and type from GeoJSON/Shapefile (:mod:`geoimport`: CRS,
  GCJ-02, validity, winding), upserted by code; the area is geodesic (pyproj ``Geod`` on WGS 84).
* :func:`classify_points` — which red lines cover (or lie within a buffer of) given points, on PostGIS or with
  shapely (:mod:`spatial`; same answers); :func:`check` applies it to the platform's objects — pollution-source
  outlets (and their permits), risk sources, incident locations, receptors — within the caller's scope.
* :func:`import_patches` — change patches (new human activity interpreted from remote sensing); each patch that
  intersects a red line raises an alert (rule ``redline_change``) with the intersection area and location.
* :func:`county_areas` — red-line area per county (intersection with the shipped county boundaries).

Who sees what: admins/analysts/system everything; officers the red lines and objects of their region (by the
county code assigned at import, which is the county holding the largest part); others nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from sqlalchemy import func, insert, select, update

from ecohub.alerts.lifecycle import Condition, raise_condition
from ecohub.domain.errors import InputError
from ecohub.emergency import boundaries, geoimport, spatial
from ecohub.store.db import Store
from ecohub.store.queries import Scope, region_prefix
from ecohub.store.schema import region, site
from ecohub.store.schema_alerts import permit_limit
from ecohub.store.schema_emergency import (
    REDLINE_TYPES,
    incident,
    receptor,
    redline,
    redline_patch,
    risk_source,
)
from ecohub.store.tx import write_tx

TYPE_NAMES = {
    "水源涵养": "water_conservation", "生物多样性维护": "biodiversity", "生物多样性": "biodiversity",
    "水土保持": "soil_conservation", "防风固沙": "sand_fixation", "海岸生态稳定": "coastal",
    "水土流失": "soil_erosion", "土地沙化": "desertification", "石漠化": "desertification",
}
CODE_KEYS = ("code", "CODE", "编码", "HXBM", "redline_code", "id", "ID")
NAME_KEYS = ("name", "NAME", "名称", "HXMC")
TYPE_KEYS = ("type", "TYPE", "类型", "HXLX")
PATCH_KEYS = {"activity": ("activity", "ACTIVITY", "类型", "变化类型"), "observed_on": ("observed_on", "date", "日期")}
STAFF = ("system", "admin", "analyst", "officer")


def _prop(props: dict, keys: tuple[str, ...]) -> str | None:
    for k in keys:
        v = props.get(k)
        if v not in (None, ""):
            return str(v).strip()
    return None


@lru_cache(maxsize=1)
def _geod():
    from pyproj import Geod

    return Geod(ellps="WGS84")


def geodesic_area_km2(geom) -> float:
    """Area on the WGS 84 ellipsoid (km²)."""
    return abs(_geod().geometry_area_perimeter(geom)[0]) / 1e6


def _require_staff(scope: Scope) -> None:
    if scope.role not in STAFF:
        raise PermissionError("red lines and their checks are for staff (admin, analyst, officer)")


def _region_filter(scope: Scope, col):
    if scope.full:
        return None
    p = region_prefix(scope.region_code)
    return col.startswith(p, autoescape=True) if p else col.is_(None)


def _county(store: Store, geom) -> str | None:
    """The county holding the largest part of the polygon, if that county is in the region table."""
    code = boundaries.county_of(geom)
    if code is None:
        return None
    with store.engine.connect() as conn:
        return code if conn.scalar(select(region.c.code).where(region.c.code == code)) else None


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    rejected: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"imported": self.imported, "updated": self.updated, "rejected": self.rejected,
                "warnings": self.warnings, "alerts": self.alerts}


def import_redlines(store: Store, path: Path | str | None = None, *, data: bytes | None = None,
                    filename: str | None = None, datum: str = "wgs84", by: str | None = None,
                    scope: Scope | None = None) -> ImportReport:
    """Import red-line polygons; a feature without a code, or with a bad geometry, is rejected with its reason."""
    if scope is not None:
        _require_staff(scope)
        if scope.role == "officer":
            raise PermissionError("importing red lines is for admins")
    layer = geoimport.read_layer(path or filename or "", kind="polygon", datum=datum, data=data, filename=filename)
    rep = ImportReport(rejected=list(layer.rejected), warnings=list(layer.warnings))
    now = datetime.now(UTC)
    rows = []
    for props, g in layer.features:
        code = _prop(props, CODE_KEYS)
        if not code:
            rep.rejected.append({"index": None, "id": None, "reason": f"no code (one of {', '.join(CODE_KEYS)})"})
            continue
        raw_type = _prop(props, TYPE_KEYS) or "other"
        typ = raw_type if raw_type in REDLINE_TYPES else TYPE_NAMES.get(raw_type)
        if typ is None:
            typ = "other"
            rep.warnings.append(f"{code}: type {raw_type!r} not known, stored as other")
        x0, y0, x1, y1 = g.bounds
        rows.append({"code": code[:64], "name": (_prop(props, NAME_KEYS) or code)[:200], "type": typ,
                     "region_code": _county(store, g), "geojson": json.dumps(mapping(g)),
                     "area_km2": geodesic_area_km2(g), "min_lon": x0, "min_lat": y0, "max_lon": x1, "max_lat": y1,
                     "source_datum": datum, "source_name": (filename or str(path or ""))[-200:], "imported_at": now,
                     "imported_by": by})
    with write_tx(store) as conn:
        existing = dict(conn.execute(select(redline.c.code, redline.c.id)).all())
        for r in rows:
            if r["code"] in existing:
                conn.execute(update(redline).where(redline.c.id == existing[r["code"]]).values(**r))
                rep.updated += 1
            else:
                conn.execute(insert(redline).values(**r))
                existing[r["code"]] = -1
                rep.imported += 1
    _GENERATION[0] += 1
    return rep


_INDEX_CACHE: dict[str, tuple[tuple, spatial.PolygonIndex | None]] = {}
_GENERATION = [0]


def _load_index(store: Store, table=redline) -> spatial.PolygonIndex | None:
    """The red lines as an STRtree; rebuilt when the table changed: this process's imports bump a generation, and
    for writers elsewhere the key also holds row count, largest id, last import time and sums of area and bounds
    (a geometry change moves them)."""
    with store.engine.connect() as conn:
        key = (_GENERATION[0],) + tuple(conn.execute(select(
            func.count(), func.max(table.c.id), func.max(table.c.imported_at), func.sum(table.c.area_km2),
            func.sum(table.c.min_lon + table.c.max_lon + table.c.min_lat + table.c.max_lat))).one())
        url = store.engine.url.render_as_string(hide_password=True) + ":" + table.name
        hit = _INDEX_CACHE.get(url)
        if hit is not None and hit[0] == key:
            return hit[1]
        rows = conn.execute(select(table.c.code, table.c.geojson)).all()
    idx = spatial.PolygonIndex([r[0] for r in rows], [shape(json.loads(r[1])) for r in rows]) if rows else None
    _INDEX_CACHE[url] = (key, idx)
    return idx


def classify_points(store: Store, lon, lat, buffer_m: float = 0.0, *, index: spatial.PolygonIndex | None = None
                    ) -> list[tuple[int, str, float]]:
    """(point index, red-line code, distance m) for every red line covering — or within ``buffer_m`` of — each
    point. PostGIS on PostgreSQL, shapely STRtree on SQLite; sorted by point then code."""
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    if buffer_m < 0:
        raise InputError("buffer_m", buffer_m, "a distance in metres ≥ 0")
    if store.is_postgres:
        with store.engine.connect() as conn:
            hits = spatial.pg_points_against(conn, "redline", "code", lon, lat, buffer_m)
    else:
        idx = index or _load_index(store)
        if idx is None:
            return []
        hits = idx.covering(lon, lat) if buffer_m <= 0 else idx.within(lon, lat, buffer_m)
        hits = [(h[0], h[1], 0.0) if len(h) == 2 else h for h in hits]
    return sorted(((int(i), str(k), round(float(d), 3)) for i, k, d in hits), key=lambda h: (h[0], h[1]))


def _objects(store: Store, scope: Scope) -> list[dict]:
    """The platform's located objects the check covers, within the caller's scope."""
    out: list[dict] = []
    with store.engine.connect() as conn:
        q = select(site.c.id, site.c.code, site.c.name, site.c.lon, site.c.lat, site.c.region_code, site.c.kind).where(
            site.c.kind.in_(("water_outlet", "air_outlet", "outlet")) | site.c.enterprise_id.is_not(None))
        cond = _region_filter(scope, site.c.region_code)
        permitted = set(conn.scalars(select(permit_limit.c.site_id).distinct()))
        for r in conn.execute(q if cond is None else q.where(cond)):
            out.append({"kind": "outlet", "id": r.id, "code": r.code, "name": r.name, "lon": r.lon, "lat": r.lat,
                        "region_code": r.region_code, "permitted": r.id in permitted})
        for table, kind, name_col in ((risk_source, "risk_source", risk_source.c.name),
                                      (incident, "incident", incident.c.title),
                                      (receptor, "receptor", receptor.c.name)):
            code_col = table.c.code if "code" in table.c else table.c.id
            q = select(table.c.id, code_col.label("code"), name_col.label("name"), table.c.lon, table.c.lat,
                       table.c.region_code)
            cond = _region_filter(scope, table.c.region_code)
            for r in conn.execute(q if cond is None else q.where(cond)):
                out.append({"kind": kind, "id": r.id, "code": str(r.code), "name": r.name, "lon": r.lon, "lat": r.lat,
                            "region_code": r.region_code})
    return out


def check(store: Store, scope: Scope, buffer_m: float = 0.0, kinds: tuple[str, ...] | None = None) -> dict:
    """Which outlets (with their permits), risk sources, incident locations and receptors lie inside a red line
    or within ``buffer_m`` metres of one."""
    _require_staff(scope)
    objs = [o for o in _objects(store, scope) if kinds is None or o["kind"] in kinds]
    names = {}
    with store.engine.connect() as conn:
        for code, name, typ in conn.execute(select(redline.c.code, redline.c.name, redline.c.type)):
            names[code] = (name, typ)
    hits = classify_points(store, [o["lon"] for o in objs], [o["lat"] for o in objs], buffer_m) if objs else []
    rows = []
    for i, code, d in hits:
        o = objs[i]
        rows.append({**{k: o[k] for k in ("kind", "id", "code", "name", "lon", "lat", "region_code")},
                     **({"permitted": o["permitted"]} if "permitted" in o else {}),
                     "redline_code": code, "redline_name": names.get(code, ("", ""))[0],
                     "redline_type": names.get(code, ("", ""))[1], "inside": d == 0.0, "distance_m": d})
    return {"buffer_m": buffer_m, "objects_checked": len(objs), "redlines": len(names), "hits": rows,
            "backend": "postgis" if store.is_postgres else "shapely"}


def import_patches(store: Store, path: Path | str | None = None, *, data: bytes | None = None,
                   filename: str | None = None, datum: str = "wgs84", by: str | None = None,
                   scope: Scope | None = None, now: datetime | None = None) -> ImportReport:
    """Import change patches and raise a ``redline_change`` alert for every (patch, red line) intersection."""
    if scope is not None:
        _require_staff(scope)
    layer = geoimport.read_layer(path or filename or "", kind="polygon", datum=datum, data=data, filename=filename)
    rep = ImportReport(rejected=list(layer.rejected), warnings=list(layer.warnings))
    now = now or datetime.now(UTC)
    batch = (filename or str(path or ""))[-200:]
    new: list[tuple[str, object]] = []
    with write_tx(store) as conn:
        existing = set(conn.scalars(select(redline_patch.c.code)))
        for i, (props, g) in enumerate(layer.features):
            code = _prop(props, CODE_KEYS) or f"{Path(batch).stem or 'patch'}-{i + 1}"
            if code in existing:
                rep.rejected.append({"index": i, "id": code, "reason": "a patch with this code was already imported"})
                continue
            x0, y0, x1, y1 = g.bounds
            conn.execute(insert(redline_patch).values(
                code=code[:64], batch=batch, activity=_prop(props, PATCH_KEYS["activity"]),
                observed_on=(_prop(props, PATCH_KEYS["observed_on"]) or "")[:10] or None,
                geojson=json.dumps(mapping(g)), area_km2=geodesic_area_km2(g), min_lon=x0, min_lat=y0, max_lon=x1,
                max_lat=y1, imported_at=now))
            existing.add(code)
            new.append((code, g))
            rep.imported += 1
        for code, area, lon, lat, rl_code, rl_name, region in _intersections(store, conn, new):
            c = Condition(
                rule="redline_change", cause_key=f"redline_change:{code}:{rl_code}", severity="major",
                message=f"变化图斑 {code} 与生态保护红线 {rl_name}（{rl_code}）相交 {area:.4f} km² / change patch {code} "
                        f"intersects red line {rl_code} over {area:.4f} km²",
                region=region, value=area,
                details={"patch": code, "redline_code": rl_code, "redline_name": rl_name, "area_km2": area,
                         "lon": lon, "lat": lat, "region_code": region})
            out = raise_condition(conn, c, int(now.timestamp()))
            rep.alerts.append({"alert_id": out.alert_id, "patch": code, "redline_code": rl_code,
                               "area_km2": round(area, 6), "lon": round(lon, 6), "lat": round(lat, 6)})
    return rep


def _intersections(store: Store, conn, patches: list[tuple[str, object]]):
    """(patch code, area km², lon, lat, red-line code, name, region) of every patch × red-line intersection."""
    if not patches:
        return []
    rows = conn.execute(select(redline.c.code, redline.c.name, redline.c.region_code, redline.c.geojson)).all()
    if not rows:
        return []
    idx = spatial.PolygonIndex([r[0] for r in rows], [shape(json.loads(r[3])) for r in rows])
    meta = {r[0]: (r[1], r[2]) for r in rows}
    out = []
    for code, g in patches:
        for j in idx.tree.query(g, predicate="intersects"):
            inter = shapely.intersection(g, idx.geoms[j])
            area = geodesic_area_km2(inter) if not inter.is_empty else 0.0
            if area <= 0:
                continue  # touching along an edge or at a point: no area inside the red line
            p = inter.representative_point()
            rl = idx.keys[int(j)]
            out.append((code, area, p.x, p.y, rl, meta[rl][0], meta[rl][1]))
    return out


def county_areas(store: Store, scope: Scope) -> list[dict]:
    """Red-line area (km², geodesic) per county: each red line intersected with the shipped county boundaries."""
    _require_staff(scope)
    meta, cgeoms, tree = boundaries.counties()
    with store.engine.connect() as conn:
        q = select(redline.c.code, redline.c.geojson)
        cond = _region_filter(scope, redline.c.region_code)
        rows = conn.execute(q if cond is None else q.where(cond)).all()
    totals: dict[str, dict] = {}
    for code, gj in rows:
        g = shape(json.loads(gj))
        for j in tree.query(g, predicate="intersects"):
            ccode, cname = meta[int(j)]
            area = geodesic_area_km2(shapely.intersection(g, cgeoms[int(j)]))
            if area <= 0:
                continue
            t = totals.setdefault(ccode, {"region_code": ccode, "name": cname, "area_km2": 0.0, "redlines": []})
            t["area_km2"] += area
            t["redlines"].append(code)
    out = sorted(totals.values(), key=lambda t: t["region_code"])
    for t in out:
        t["area_km2"] = round(t["area_km2"], 4)
        t["redlines"] = sorted(set(t["redlines"]))
    if not scope.full:
        p = region_prefix(scope.region_code) or "-"
        out = [t for t in out if t["region_code"].startswith(p)]
    return out


def feature_collection(store: Store, scope: Scope, bbox: tuple[float, float, float, float] | None = None) -> dict:
    """Red lines as GeoJSON for the one map (code, name, type, area), within the scope and an optional bbox."""
    _require_staff(scope)
    q = select(redline.c.code, redline.c.name, redline.c.type, redline.c.area_km2, redline.c.region_code,
               redline.c.geojson)
    cond = _region_filter(scope, redline.c.region_code)
    if cond is not None:
        q = q.where(cond)
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        q = q.where(redline.c.max_lon >= x0, redline.c.min_lon <= x1, redline.c.max_lat >= y0, redline.c.min_lat <= y1)
    feats = []
    with store.engine.connect() as conn:
        for r in conn.execute(q.order_by(redline.c.code)):
            feats.append({"type": "Feature", "geometry": json.loads(r.geojson),
                          "properties": {"kind": "redline", "code": r.code, "name": r.name, "type": r.type,
                                         "area_km2": round(r.area_km2, 4), "region_code": r.region_code}})
    return {"type": "FeatureCollection", "features": feats}
