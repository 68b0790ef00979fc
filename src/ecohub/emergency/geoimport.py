"""Reading polygon and point layers (GeoJSON, zipped or plain ESRI Shapefile) into WGS-84 shapely geometries.

Every feature is checked; a bad one is rejected with its index and the reason, the good ones are kept:

* **CRS.** GeoJSON is WGS-84 (RFC 7946) unless it carries a legacy ``crs`` member; a Shapefile's CRS comes
  from its ``.prj``. A declared projected or other geographic CRS is transformed with pyproj (CGCS2000,
  EPSG:4490, is taken as WGS-84: they differ by centimetres). Coordinates outside lon ±180 / lat ±90 with no
  declared CRS are refused ("looks projected: give the CRS").
* **Datum.** ``datum="gcj02"`` converts GCJ-02 coordinates to WGS-84 (:mod:`ecohub.emergency.datum`), as the
  shipped boundaries were converted (``tools/build_reference_data.py``).
* **Validity.** Self-intersecting or otherwise invalid polygons are refused with GEOS's explanation
  (``shapely.validation.explain_validity``), never silently "repaired"; rings are re-oriented to the RFC 7946
  right-hand rule (exterior counter-clockwise) and counted as a warning. Empty geometries are refused.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, shape
from shapely.geometry.polygon import orient
from shapely.validation import explain_validity

from ecohub.domain.errors import InputError
from ecohub.emergency import datum as datum_mod

DATUMS = ("wgs84", "gcj02")
_WGS84_NAMES = {"EPSG:4326", "EPSG:4490", "OGC:CRS84", "URN:OGC:DEF:CRS:OGC:1.3:CRS84", "URN:OGC:DEF:CRS:EPSG::4326",
                "URN:OGC:DEF:CRS:EPSG::4490"}


@dataclass
class Layer:
    features: list[tuple[dict, object]] = field(default_factory=list)  # (properties, WGS-84 geometry)
    rejected: list[dict] = field(default_factory=list)  # {"index", "reason"}
    warnings: list[str] = field(default_factory=list)
    crs: str = "EPSG:4326"


def _transformer(crs_text: str):
    try:
        from pyproj import CRS, Transformer
    except ImportError:  # pragma: no cover - pyproj is a dependency
        raise InputError("crs", crs_text, "transforming from a declared CRS needs pyproj") from None
    try:
        src = CRS.from_user_input(crs_text)
    except Exception:  # noqa: BLE001 - pyproj raises its own CRSError subclasses
        raise InputError("crs", crs_text[:80], "not a coordinate reference system pyproj understands") from None
    if src.to_epsg() in (4326, 4490):
        return None
    return Transformer.from_crs(src, "EPSG:4326", always_xy=True)


def _check_lonlat(g, index: int) -> str | None:
    x0, y0, x1, y1 = g.bounds
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        return "coordinates are not finite numbers"
    if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
        return (f"coordinates outside longitude/latitude ranges (bounds {x0:.1f}, {y0:.1f}, {x1:.1f}, {y1:.1f}): "
                "looks projected — declare the CRS (GeoJSON 'crs' member or the Shapefile's .prj)")
    return None


def _normalise(g, kind: str):
    """Check and orient one geometry; returns (geometry, warning or None) or raises ValueError(reason)."""
    if g is None or g.is_empty:
        raise ValueError("empty geometry")
    if kind == "polygon":
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            raise ValueError(f"a {g.geom_type}, expected Polygon or MultiPolygon")
        if not g.is_valid:
            raise ValueError(f"invalid polygon: {explain_validity(g)}")
        parts = list(g.geoms) if isinstance(g, MultiPolygon) else [g]
        oriented = [orient(p, 1.0) for p in parts]
        warn = None
        if any(not p.equals_exact(o, 0) for p, o in zip(parts, oriented, strict=True)):
            warn = "ring orientation fixed (RFC 7946: exterior counter-clockwise)"
        return MultiPolygon(oriented), warn
    if g.geom_type == "Point":
        return g, None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        if not g.is_valid:
            raise ValueError(f"invalid polygon: {explain_validity(g)}")
        return g, None
    raise ValueError(f"a {g.geom_type}, expected Point or Polygon")


def read_layer(path: Path | str, *, kind: str = "polygon", datum: str = "wgs84", data: bytes | None = None,
               filename: str | None = None) -> Layer:
    """Read a GeoJSON (.geojson/.json) or Shapefile (.shp with its .dbf/.prj beside it, or a .zip holding them).

    ``kind`` = "polygon" (red lines, patches) or "any" (receptors: points or polygons).
    """
    if datum not in DATUMS:
        raise InputError("datum", datum, "wgs84 or gcj02")
    name = filename or str(path)
    suffix = Path(name).suffix.lower()
    raw = data if data is not None else Path(path).read_bytes()
    if suffix in (".geojson", ".json"):
        items, crs = _geojson_items(raw)
    elif suffix in (".zip", ".shp"):
        items, crs = _shapefile_items(raw, Path(path) if data is None else None, suffix)
    else:
        raise InputError("file", name, "a .geojson/.json, a .shp (with .dbf, .prj) or a .zip of a Shapefile")
    layer = Layer(crs=crs or "EPSG:4326")
    tx = _transformer(crs) if crs and crs.upper() not in _WGS84_NAMES else None
    fixed = 0
    for i, (props, geom_json) in enumerate(items):
        try:
            try:
                g = shape(geom_json) if geom_json else None
            except Exception as e:  # noqa: BLE001 - shapely raises several types for malformed geometry
                raise ValueError(f"malformed geometry: {e}") from None
            if g is None:
                raise ValueError("no geometry")
            if tx is not None:
                g = shapely.transform(g, lambda c: _tx(tx, c))
            bad = _check_lonlat(g, i)
            if bad:
                raise ValueError(bad)
            if datum == "gcj02":
                g = datum_mod.geom_gcj02_to_wgs84(g)
            g, warn = _normalise(g, kind)
            if warn:
                fixed += 1
            layer.features.append((props, g))
        except ValueError as e:
            layer.rejected.append({"index": i, "id": _ident(props), "reason": str(e)})
    if fixed:
        layer.warnings.append(f"{fixed} feature(s): ring orientation fixed (RFC 7946 right-hand rule)")
    return layer


def _tx(tx, coords):
    import numpy as np

    x, y = tx.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def _ident(props: dict) -> str | None:
    for k in ("code", "id", "CODE", "ID", "name", "NAME"):
        if props.get(k) not in (None, ""):
            return str(props[k])
    return None


def _geojson_items(raw: bytes) -> tuple[list[tuple[dict, dict | None]], str | None]:
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError("file", None, f"not GeoJSON: {e}") from None
    if not isinstance(doc, dict):
        raise InputError("file", None, "not a GeoJSON object")
    crs = None
    if isinstance(doc.get("crs"), dict):
        crs = str((doc["crs"].get("properties") or {}).get("name") or "") or None
    if doc.get("type") == "FeatureCollection":
        feats = doc.get("features")
        if not isinstance(feats, list):
            raise InputError("features", feats, "a FeatureCollection needs a features list")
        return [((f or {}).get("properties") or {}, (f or {}).get("geometry")) if isinstance(f, dict) else ({}, None)
                for f in feats], crs
    if doc.get("type") == "Feature":
        return [(doc.get("properties") or {}, doc.get("geometry"))], crs
    if doc.get("type") in ("Polygon", "MultiPolygon", "Point"):
        return [({}, doc)], crs
    raise InputError("type", doc.get("type"), "a GeoJSON FeatureCollection, Feature or geometry")


def _shapefile_items(raw: bytes, path: Path | None, suffix: str):
    import shapefile  # pyshp

    files: dict[str, bytes] = {}
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                for n in z.namelist():
                    ext = Path(n).suffix.lower()
                    if ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                        files[ext] = z.read(n)
        except zipfile.BadZipFile:
            raise InputError("file", None, "not a zip archive") from None
    else:
        files[".shp"] = raw
        if path is not None:
            for ext in (".shx", ".dbf", ".prj", ".cpg"):
                p = path.with_suffix(ext)
                if p.exists():
                    files[ext] = p.read_bytes()
    if ".shp" not in files or ".dbf" not in files:
        raise InputError("file", None, "a Shapefile needs its .shp and .dbf")
    encoding = files.get(".cpg", b"utf-8").decode("ascii", "replace").strip() or "utf-8"
    try:
        r = shapefile.Reader(shp=io.BytesIO(files[".shp"]), dbf=io.BytesIO(files[".dbf"]),
                             shx=io.BytesIO(files[".shx"]) if ".shx" in files else None, encoding=encoding)
        fields = [f[0] for f in r.fields[1:]]
        items = []
        for sr in r.iterShapeRecords():
            props = dict(zip(fields, list(sr.record), strict=False))
            geo = sr.shape.__geo_interface__ if sr.shape.shapeType != 0 else None
            items.append((props, geo))
    except (shapefile.ShapefileException, UnicodeDecodeError, ValueError) as e:
        raise InputError("file", None, f"unreadable Shapefile: {e}") from None
    crs = files[".prj"].decode("utf-8", "replace") if ".prj" in files else None
    return items, crs


