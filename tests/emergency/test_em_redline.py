"""Red lines on both backends: import (CRS, GCJ-02, validity, winding), the same spatial answers on PostGIS and
shapely for 1,000 random points and the edge cases, checks of platform objects, change-patch alerts, areas."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import shapely
from redline_support import R1, R2, R3, feature, layer, write
from shapely.geometry import shape
from sqlalchemy import insert, select
from typer.testing import CliRunner

from ecohub.domain.errors import InputError
from ecohub.emergency import datum, redline, spatial
from ecohub.store.queries import PUBLIC, SYSTEM, Scope
from ecohub.store.schema import enterprise, site
from ecohub.store.schema_alerts import alert
from ecohub.store.schema_emergency import incident, receptor, redline_patch, risk_source
from ecohub.store.schema_emergency import redline as redline_t

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def loaded(store, tmp_path):
    rep = redline.import_redlines(store, write(tmp_path, layer()), by="test")
    return store, rep


def test_import_keeps_the_good_and_says_why_it_rejects(loaded):
    store, rep = loaded
    assert rep.imported == 3 and rep.updated == 0
    reasons = {r["id"]: r["reason"] for r in rep.rejected}
    assert "Self-intersection" in reasons["RL-BAD"]
    assert "looks projected" in reasons["RL-PROJ"]
    assert any("no code" in r["reason"] for r in rep.rejected)
    assert any("orientation" in w for w in rep.warnings)
    with store.engine.connect() as conn:
        rows = {r.code: r for r in conn.execute(select(redline_t))}
    assert set(rows) == {"RL-001", "RL-002", "RL-003"}
    assert rows["RL-001"].type == "water_conservation" and rows["RL-003"].type == "soil_conservation"
    g = shape(json.loads(rows["RL-003"].geojson))
    assert all(p.exterior.is_ccw for p in g.geoms)
    # geodesic area of R1: 0.5° × 0.5° at 38° N minus the hole, about 2 400 km²
    a = rows["RL-001"].area_km2
    assert 2300 < a < 2500
    assert rows["RL-001"].region_code and rows["RL-001"].region_code.startswith("13")


def test_reimport_updates_by_code(loaded, tmp_path):
    store, _ = loaded
    assert [c for _, c, _ in redline.classify_points(store, [114.1], [38.1])] == ["RL-001"]  # builds the index
    doc = {"type": "FeatureCollection", "features": [feature(R2, code="RL-001", name="改", type="other")]}
    rep = redline.import_redlines(store, write(tmp_path, doc, "again.geojson"))
    assert rep.updated == 1 and rep.imported == 0
    with store.engine.connect() as conn:
        assert conn.scalar(select(redline_t.c.name).where(redline_t.c.code == "RL-001")) == "改"
    assert redline.classify_points(store, [114.1], [38.1]) == []  # the changed table is seen (index rebuilt)


def _reference(lon, lat, buffer_m):
    """The definition, computed here independently with shapely: covers, or local-plane distance ≤ buffer."""
    geoms = {"RL-001": shape(R1), "RL-002": shape(R2), "RL-003": shape(R3)}
    out = set()
    for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
        for code, g in geoms.items():
            if buffer_m <= 0:
                if g.covers(shapely.Point(x, y)):
                    out.add((i, code))
            else:
                kx = 6_371_008.8 * math.pi / 180 * math.cos(math.radians(y))
                ky = 6_371_008.8 * math.pi / 180
                local = shapely.transform(g, lambda c, x=x, y=y, kx=kx, ky=ky: np.column_stack(
                    [(c[:, 0] - x) * kx, (c[:, 1] - y) * ky]))
                d = local.distance(shapely.Point(0, 0))
                if d <= buffer_m:
                    out.add((i, code, round(d, 1)))
    return out


def _points():
    rng = np.random.default_rng(2026)
    lon = list(rng.uniform(113.9, 115.0, 1000))
    lat = list(rng.uniform(37.9, 39.0, 1000))
    edge = [
        (114.0, 38.0), (114.5, 38.5), (114.25, 38.0), (114.0, 38.25),  # vertices and edge midpoints of R1
        (114.2, 38.25), (114.25, 38.3), (114.2, 38.2),  # on the hole's rings (inside: the boundary counts)
        (114.25, 38.25), (114.21, 38.29),  # in the hole (outside)
        (114.7, 38.1), (114.7, 38.3), (114.7, 38.5), (114.8, 38.45), (114.6, 38.2),  # multipolygon: parts, gap, edges
        (114.5, 38.6), (114.7, 38.9), (114.9, 38.6), (114.7, 38.6),  # triangle vertices, base edge midpoint
        (114.5000001, 38.25), (114.4999999, 38.25),  # either side of an edge
    ]
    lon += [p[0] for p in edge]
    lat += [p[1] for p in edge]
    return np.array(lon), np.array(lat)


def test_same_answers_as_the_definition_for_random_and_edge_points(loaded):
    """Both backends are compared with the same independent reference, so PostGIS and shapely agree."""
    store, _ = loaded
    lon, lat = _points()
    got = {(i, c) for i, c, _ in redline.classify_points(store, lon, lat)}
    assert got == _reference(lon, lat, 0)
    # the edge cases as stated
    n = 1000
    inside = {i - n for i, _ in got if i >= n}
    assert {0, 1, 2, 3, 4, 5, 6} <= inside  # R1 boundary and hole rings count as inside
    assert 7 not in inside and 8 not in inside  # in the hole
    assert {9, 11, 12, 13} <= inside and 10 not in inside  # parts of the multipolygon and their edges; the gap
    assert {14, 15, 16, 17} <= inside
    assert 18 not in inside and 19 in inside
    assert len(got) > 100  # the random points do hit the polygons


def test_same_answers_within_a_buffer(loaded):
    store, _ = loaded
    lon, lat = _points()
    lon, lat = lon[::5], lat[::5]
    got = redline.classify_points(store, lon, lat, buffer_m=2000.0)
    ref = _reference(lon, lat, 2000.0)
    near_line = {(i, c) for i, c, d in ref if abs(d - 2000.0) < 0.5}
    assert {(i, c) for i, c, _ in got} - near_line == {(i, c) for i, c, _ in ref} - near_line
    ref_d = {(i, c): d for i, c, d in ref}
    for i, c, d in got:
        assert d == pytest.approx(ref_d.get((i, c), d), abs=0.5)


def _objects(store):
    with store.engine.begin() as conn:
        eid = conn.execute(insert(enterprise).values(uscc="91130100MA0000001X", name="红线内企业（演示）",
                                                     region_code="130100", created_at=datetime.now(UTC))
                           ).inserted_primary_key[0]
        now = datetime.now(UTC)
        conn.execute(insert(site).values(code="OUT-IN", kind="water_outlet", name="排口甲", lon=114.1, lat=38.1,
                                         region_code="130100", enterprise_id=eid, created_at=now))
        conn.execute(insert(site).values(code="OUT-NEAR", kind="water_outlet", name="排口乙", lon=114.51, lat=38.1,
                                         region_code="130100", enterprise_id=eid, created_at=now))
        conn.execute(insert(site).values(code="OUT-FAR", kind="water_outlet", name="排口丙", lon=115.5, lat=38.1,
                                         region_code="130100", enterprise_id=eid, created_at=now))
        conn.execute(insert(risk_source).values(enterprise_id=eid, name="风险源", lon=114.7, lat=38.5,
                                                region_code="130100", updated_at=now))
        conn.execute(insert(incident).values(code="INC-1", title="泄漏", occurred_at=now, lon=114.25, lat=38.25,
                                             region_code="130100", status="reported", reported_at=now, updated_at=now))
        conn.execute(insert(receptor).values(code="SCH-1", name="小学", type="school", lon=114.45, lat=38.45,
                                             region_code="130100", imported_at=now))


def test_check_lists_objects_inside_and_near(loaded):
    store, _ = loaded
    _objects(store)
    res = redline.check(store, SYSTEM)
    got = {(h["kind"], h["code"], h["redline_code"]) for h in res["hits"]}
    assert got == {("outlet", "OUT-IN", "RL-001"), ("risk_source", str(_rs_id(store)), "RL-002"),
                   ("receptor", "SCH-1", "RL-001")}  # the incident is in the hole
    near = redline.check(store, SYSTEM, buffer_m=1500)
    assert ("outlet", "OUT-NEAR", "RL-001") in {(h["kind"], h["code"], h["redline_code"]) for h in near["hits"]}
    d = next(h for h in near["hits"] if h["code"] == "OUT-NEAR")
    assert not d["inside"] and 800 < d["distance_m"] < 900
    assert ("incident", "INC-1") in {(h["kind"], h["code"]) for h in redline.check(store, SYSTEM, 6000)["hits"]}
    # scope: an officer elsewhere sees nothing; the public may not ask
    other = redline.check(store, Scope("officer", region_code="130600"))
    assert other["hits"] == []
    with pytest.raises(PermissionError):
        redline.check(store, PUBLIC)


def _rs_id(store):
    with store.engine.connect() as conn:
        return conn.scalar(select(risk_source.c.id))


def test_change_patches_raise_redline_change_alerts(loaded, tmp_path):
    store, _ = loaded
    patch_in = {"type": "Polygon", "coordinates": [[[114.45, 38.45], [114.55, 38.45], [114.55, 38.55],
                                                    [114.45, 38.55], [114.45, 38.45]]]}
    touching = {"type": "Polygon", "coordinates": [[[114.5, 38.1], [114.55, 38.1], [114.55, 38.15],
                                                    [114.5, 38.15], [114.5, 38.1]]]}
    doc = {"type": "FeatureCollection", "features": [feature(patch_in, code="P-1", activity="施工"),
                                                      feature(touching, code="P-2")]}
    rep = redline.import_patches(store, write(tmp_path, doc, "patches.geojson"))
    assert rep.imported == 2
    assert [(a["patch"], a["redline_code"]) for a in rep.alerts] == [("P-1", "RL-001")]
    expected = redline.geodesic_area_km2(shapely.box(114.45, 38.45, 114.5, 38.5))
    assert rep.alerts[0]["area_km2"] == pytest.approx(expected, rel=1e-6)
    with store.engine.connect() as conn:
        a = conn.execute(select(alert).where(alert.c.rule == "redline_change")).one()
        assert a.status == "open" and "P-1" in a.message and a.details["redline_code"] == "RL-001"
        assert conn.scalar(select(redline_patch.c.activity).where(redline_patch.c.code == "P-1")) == "施工"
    again = redline.import_patches(store, write(tmp_path, doc, "patches.geojson"))
    assert again.imported == 0 and len(again.rejected) == 2


def test_county_areas_add_up(loaded):
    store, _ = loaded
    rows = redline.county_areas(store, SYSTEM)
    total = sum(r["area_km2"] for r in rows)
    with store.engine.connect() as conn:
        stored = sum(conn.scalars(select(redline_t.c.area_km2)))
    assert total == pytest.approx(stored, rel=0.01)  # the polygons lie inside 河北省
    assert all(r["region_code"].startswith("13") for r in rows) and len(rows) > 3


def test_feature_collection_for_the_map(loaded):
    store, _ = loaded
    fc = redline.feature_collection(store, SYSTEM, bbox=(114.55, 37.9, 115.0, 38.3))
    assert [f["properties"]["code"] for f in fc["features"]] == ["RL-002"]


# --- import details (no database needed) -----------------------------------------------------------------
def test_gcj02_import_is_converted_as_the_boundary_tool_does(sqlite_store, tmp_path):
    spec = importlib.util.spec_from_file_location("brd", REPO / "tools" / "build_reference_data.py")
    brd = importlib.util.module_from_spec(spec)
    sys.modules["brd"] = brd  # its dataclasses look their module up
    try:
        spec.loader.exec_module(brd)
    finally:
        sys.modules.pop("brd", None)
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(74, 134, 200), rng.uniform(19, 53, 200)
    ours = datum.gcj02_to_wgs84(lon, lat)
    theirs = brd.gcj02_to_wgs84(lon, lat)
    assert np.allclose(ours[0], theirs[0], atol=1e-12) and np.allclose(ours[1], theirs[1], atol=1e-12)
    back = datum.wgs84_to_gcj02(*ours)
    assert np.allclose(back[0], lon, atol=1e-7) and np.allclose(back[1], lat, atol=1e-7)
    doc = {"type": "FeatureCollection", "features": [feature(R1, code="G-1", name="gcj", type="other")]}
    redline.import_redlines(sqlite_store, write(tmp_path, doc, "g.geojson"), datum="gcj02")
    with sqlite_store.engine.connect() as conn:
        g = shape(json.loads(conn.scalar(select(redline_t.c.geojson))))
    x, y = datum.gcj02_to_wgs84(114.0, 38.0)
    assert g.geoms[0].exterior.coords[0] == pytest.approx((float(x), float(y)), abs=1e-12)
    assert 0.004 < 114.0 - float(x) < 0.008  # GCJ-02 is ~500 m east of WGS-84 here


def test_declared_projected_crs_is_transformed(sqlite_store, tmp_path):
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    ring = [t.transform(x, y) for x, y in R1["coordinates"][0]]
    doc = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:32650"}},
           "features": [feature({"type": "Polygon", "coordinates": [ring]}, code="UTM-1", name="utm", type="other")]}
    rep = redline.import_redlines(sqlite_store, write(tmp_path, doc, "utm.geojson"))
    assert rep.imported == 1, rep.rejected
    with sqlite_store.engine.connect() as conn:
        g = shape(json.loads(conn.scalar(select(redline_t.c.geojson))))
    assert g.bounds == pytest.approx((114.0, 38.0, 114.5, 38.5), abs=1e-7)


def test_shapefile_zip_import(sqlite_store, tmp_path):
    import io
    import zipfile

    import shapefile

    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON, encoding="utf-8") as w:
        w.field("code", "C", 20)
        w.field("name", "C", 50)
        w.field("type", "C", 20)
        w.poly([list(reversed(R1["coordinates"][0]))])  # shapefile winding: exterior clockwise
        w.record("SHP-1", "形文件红线", "水源涵养")
    z = tmp_path / "rl.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("rl.shp", shp.getvalue())
        f.writestr("rl.shx", shx.getvalue())
        f.writestr("rl.dbf", dbf.getvalue())
        f.writestr("rl.cpg", "UTF-8")
        f.writestr("rl.prj", 'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
                             'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]')
    rep = redline.import_redlines(sqlite_store, z)
    assert rep.imported == 1, rep.rejected
    with sqlite_store.engine.connect() as conn:
        row = conn.execute(select(redline_t)).one()
    assert row.name == "形文件红线" and row.type == "water_conservation"


@pytest.mark.parametrize(("content", "name", "field"), [
    (b"{not json", "x.geojson", "file"),
    (b'{"type": "Topology"}', "x.geojson", "type"),
    (b"plain", "x.txt", "file"),
    (b"PK-not-a-zip", "x.zip", "file"),
])
def test_bad_files_are_clear_errors(sqlite_store, tmp_path, content, name, field):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(InputError) as e:
        redline.import_redlines(sqlite_store, p)
    assert e.value.field == field


def test_bad_datum(sqlite_store, tmp_path):
    with pytest.raises(InputError, match="datum"):
        redline.import_redlines(sqlite_store, write(tmp_path, layer()), datum="bd09")


def test_local_distance_is_close_to_geodesic():
    from pyproj import Geod

    g = shapely.box(114.0, 38.0, 114.5, 38.5)
    d = spatial.local_distance_m(g, 114.6, 38.25)
    geo = Geod(ellps="WGS84").inv(114.6, 38.25, 114.5, 38.25)[2]
    assert d == pytest.approx(geo, rel=0.005)


def test_cli_import_and_check(tmp_path, monkeypatch, sqlite_template):
    from ecohub.cli.main import app

    db = tmp_path / "ecohub.db"
    db.write_bytes(sqlite_template.read_bytes())
    monkeypatch.setenv("ECOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ECOHUB_DATABASE_URL", raising=False)
    r = CliRunner().invoke(app, ["redline", "import", str(write(tmp_path, layer())), "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    assert rep["imported"] == 3 and len(rep["rejected"]) == 3
    r = CliRunner().invoke(app, ["redline", "check", "--json", "--buffer-m", "100"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["redlines"] == 3
    r = CliRunner().invoke(app, ["redline", "import", str(tmp_path / "missing.geojson")])
    assert r.exit_code == 2 and "missing.geojson" in r.output
