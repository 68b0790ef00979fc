"""Dispersion scenarios: stability from weather, isopleth geometry on the map, receptors, bad input, CLI."""

from __future__ import annotations

import json
import math
from datetime import datetime

import numpy as np
import pytest
from shapely.geometry import Point, shape
from typer.testing import CliRunner

from ecohub.cli.main import app
from ecohub.domain.errors import InputError
from ecohub.emergency import SCREENING_NOTICE, localgeo, stability
from ecohub.emergency.plume import Dispersion, plume_concentration
from ecohub.emergency.scenario import Receptor, Scenario, concentration_grid, run


# --- stability (GB/T 3840-91 Appendix B) ----------------------------------------------------------------------
def test_solar_altitude_at_noon_on_the_solstice():
    """Beijing (116.4 °E, 39.9 °N), 21 June 12:00 Beijing time: hour angle 15·12 + 116.4 − 300 = −3.6°, δ ≈ 23.4°:
    h0 = asin(sin φ sin δ + cos φ cos δ cos 3.6°) ≈ 73.4°."""
    d = math.radians(stability.solar_declination_deg(171))
    phi = math.radians(39.9)
    expected = math.degrees(math.asin(math.sin(phi) * math.sin(d)
                                      + math.cos(phi) * math.cos(d) * math.cos(math.radians(-3.6))))
    assert stability.solar_declination_deg(171) == pytest.approx(23.44, abs=0.1)
    got = stability.solar_altitude_deg(116.4, 39.9, datetime(2026, 6, 21, 12, 0))
    assert got == pytest.approx(expected, abs=1e-9)
    assert got == pytest.approx(73.4, abs=0.3)


@pytest.mark.parametrize(("wind", "total", "low", "when", "expected"), [
    (1.5, 0, 0, datetime(2026, 6, 21, 12, 0), "A"),  # strong sun, light wind
    (4.0, 0, 0, datetime(2026, 6, 21, 12, 0), "B"),
    (1.5, 2, 1, datetime(2026, 1, 15, 2, 0), "F"),   # clear night, light wind
    (4.0, 2, 1, datetime(2026, 1, 15, 2, 0), "E"),
    (1.5, 10, 10, datetime(2026, 6, 21, 12, 0), "D"),  # overcast low cloud: neutral day or night
    (1.5, 10, 10, datetime(2026, 1, 15, 2, 0), "D"),
    (7.0, 0, 0, datetime(2026, 6, 21, 12, 0), "D"),  # strong wind: neutral
])
def test_stability_classes(wind, total, low, when, expected):
    assert stability.estimate(wind, total, low, when, 116.4, 39.9).stability == expected


def test_radiation_grade_table_b1():
    assert stability.radiation_grade(3, 3, -10) == -2
    assert stability.radiation_grade(6, 2, 50) == 2
    assert stability.radiation_grade(9, 3, 70) == 1
    assert stability.radiation_grade(9, 6, 70) == 1
    assert stability.radiation_grade(10, 9, 70) == 0
    with pytest.raises(InputError, match="low_cloud"):
        stability.radiation_grade(3, 5, 20)
    with pytest.raises(InputError, match="cloud"):
        stability.radiation_grade(11, 5, 20)


# --- scenario ------------------------------------------------------------------------------------------------
def base(**kw) -> Scenario:
    args = dict(lon=114.5, lat=38.0, wind_ms=3.0, wind_from_deg=270.0, thresholds_mg_m3=[1.0, 0.1],
                rate_gs=100.0, height_m=10.0, stability="D")
    args.update(kw)
    return Scenario(**args)


def test_every_output_says_screening():
    r = run(base())
    assert r["screening"] == SCREENING_NOTICE
    assert r["geojson"]["properties"]["screening"] == SCREENING_NOTICE
    assert all(f["properties"].get("screening") == SCREENING_NOTICE for f in r["geojson"]["features"]
               if f["properties"]["kind"] in ("source", "isopleth"))


def test_isopleth_polygon_on_the_map_matches_the_model():
    """Wind from the west: the isopleths lie east of the source; the polygon's area (local metres) equals the
    reported area, and points inside/outside the drawn polygon are above/below the threshold."""
    r = run(base())
    isos = [f for f in r["geojson"]["features"] if f["properties"]["kind"] == "isopleth"]
    assert [f["properties"]["threshold_mg_m3"] for f in isos] == [1.0, 0.1]
    for f in isos:
        g = shape(f["geometry"])
        assert g.is_valid
        assert g.centroid.x > 114.5 and abs(g.centroid.y - 38.0) < 0.01
        ring = np.array(g.exterior.coords) if g.geom_type == "Polygon" else np.array(g.geoms[0].exterior.coords)
        e, n = localgeo.to_local(114.5, 38.0, ring[:, 0], ring[:, 1])
        area = 0.5 * abs(np.dot(e, np.roll(n, 1)) - np.dot(n, np.roll(e, 1)))
        assert area == pytest.approx(f["properties"]["area_m2"], rel=0.02)
    d = Dispersion("D", 3.0, 10.0)
    rng = np.random.default_rng(7)
    big = shape(isos[1]["geometry"])
    minx, miny, maxx, maxy = big.bounds
    for _ in range(300):
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        e, n = localgeo.to_local(114.5, 38.0, lon, lat)
        x, y = localgeo.to_wind(e, n, 270.0)
        c = float(plume_concentration(d, 100.0, x, y)) * 1000
        if abs(c / 0.1 - 1) < 0.03:
            continue  # too close to the line to judge against the simplified polygon
        assert big.contains(Point(lon, lat)) == (c >= 0.1), (lon, lat, c)


def test_receptors_inside_are_listed_with_distance_arrival_and_concentration():
    recs = [Receptor("s1", "第一小学", "school", 114.52, 38.0, 800),
            Receptor("h1", "医院", "hospital", 114.48, 38.0, None),  # upwind
            Receptor("r1", "远村", "residential", 114.52, 38.05, 300)]  # far off-axis
    r = run(base(receptors=recs))
    assert [x["id"] for x in r["receptors"]] == ["s1"]
    s1 = r["receptors"][0]
    dist = float(localgeo.haversine_m(114.5, 38.0, 114.52, 38.0))
    assert s1["distance_m"] == pytest.approx(dist, abs=0.1)
    assert s1["arrival_min"] == pytest.approx(s1["downwind_m"] / 3.0 / 60, abs=0.05)
    assert s1["thresholds_exceeded"] == [1.0, 0.1]
    feats = [f for f in r["geojson"]["features"] if f["properties"]["kind"] == "receptor"]
    assert [f["properties"]["id"] for f in feats] == ["s1"]


def test_plume_rise_only_with_exit_parameters():
    r = run(base(height_m=40.0))
    assert r["effective_height_m"] == 40.0 and r["plume_rise"] is None
    r2 = run(base(height_m=40.0, exit_velocity_ms=15, exit_temp_c=150, diameter_m=2))
    assert r2["plume_rise"]["regime"] == "buoyancy"
    assert r2["effective_height_m"] == pytest.approx(40 + r2["plume_rise"]["rise_m"], abs=0.01)
    assert r2["max_concentration_mg_m3"] < r["max_concentration_mg_m3"]


def test_puff_scenario():
    r = run(base(kind="puff", rate_gs=None, mass_kg=50.0, thresholds_mg_m3=[10.0]))
    assert r["kind"] == "puff" and r["max_concentration_mg_m3"] > 0 and r["isopleths"][0]["area_m2"] > 0


def test_auto_stability():
    r = run(base(stability="auto", cloud=0, time="2026-06-21T12:00", wind_ms=1.5))
    assert r["stability"]["stability"] == "A" and r["stability"]["radiation_grade"] == 3


def test_grid_matches_point_formula():
    xs, ys, c = concentration_grid(base(), n=101, half_extent_m=2000)
    j, i = 50, 75  # north 0, east +1000 m: straight downwind of a west wind
    assert xs[i] == pytest.approx(1000.0)
    d = Dispersion("D", 3.0, 10.0)
    assert c[j, i] == pytest.approx(float(plume_concentration(d, 100.0, 1000.0, 0.0)) * 1000)


@pytest.mark.parametrize(("kw", "field"), [
    ({"wind_ms": 0.0}, "wind_ms"),
    ({"wind_ms": float("nan")}, "wind_ms"),
    ({"rate_gs": -5.0}, "rate_gs"),
    ({"rate_gs": None}, "rate_gs"),
    ({"thresholds_mg_m3": []}, "threshold"),
    ({"thresholds_mg_m3": [0.0]}, "threshold"),
    ({"stability": "G"}, "stability"),
    ({"stability": "auto"}, "stability"),
    ({"lat": 95.0}, "lat"),
    ({"exit_velocity_ms": 10.0}, "exit_velocity_ms"),
    ({"scheme": "gauss"}, "scheme"),
    ({"kind": "jet"}, "kind"),
    ({"height_m": -1}, "height_m"),
])
def test_bad_input_is_a_clear_error(kw, field):
    with pytest.raises(InputError) as e:
        run(base(**kw))
    assert e.value.field.startswith(field)


# --- CLI -----------------------------------------------------------------------------------------------------
def test_plume_cli_json_and_geojson(tmp_path):
    rec = tmp_path / "r.geojson"
    rec.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [114.52, 38.0]},
         "properties": {"id": "s1", "name": "第一小学", "type": "school", "population": 800}}]}), encoding="utf-8")
    out = tmp_path / "p.geojson"
    inp = tmp_path / "aermod.inp"
    r = CliRunner().invoke(app, ["plume", "--lon", "114.5", "--lat", "38.0", "--rate-gs", "100", "--height-m", "10",
                                 "--wind-ms", "3", "--wind-from-deg", "270", "--stability", "D", "--threshold", "1",
                                 "--receptors", str(rec), "--geojson", str(out), "--aermod", str(inp), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert res["screening"] == SCREENING_NOTICE
    assert res["max_concentration_mg_m3"] > 1 and res["isopleths"][0]["area_km2"] > 0
    assert res["receptors"][0]["name"] == "第一小学"
    fc = json.loads(out.read_text(encoding="utf-8"))
    assert {f["properties"]["kind"] for f in fc["features"]} == {"source", "isopleth", "receptor"}
    text = inp.read_text()
    assert "SRCPARAM  SRC1  100" in text and "CO STARTING" in text and "DISCCART" in text


@pytest.mark.parametrize(("args", "field"), [
    (["--wind-ms", "0"], "wind_ms"),
    (["--rate-gs", "-1"], "rate_gs"),
    (["--exit-velocity-ms", "10"], "exit_velocity_ms"),
])
def test_plume_cli_bad_input(args, field):
    base_args = {"--lon": "114.5", "--lat": "38", "--rate-gs": "1", "--wind-ms": "3", "--wind-from-deg": "0",
                 "--threshold": "1"}
    for k, v in zip(args[::2], args[1::2], strict=True):
        base_args[k] = v
    r = CliRunner().invoke(app, ["plume", *[a for kv in base_args.items() for a in kv]])
    assert r.exit_code == 2
    assert field in r.output and "Traceback" not in r.output


def test_plume_cli_uses_the_receptor_register(tmp_path, monkeypatch, sqlite_template):
    db = tmp_path / "ecohub.db"
    db.write_bytes(sqlite_template.read_bytes())
    monkeypatch.setenv("ECOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ECOHUB_DATABASE_URL", raising=False)
    rec = tmp_path / "r.geojson"
    rec.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [114.52, 38.0]},
         "properties": {"code": "S-1", "name": "第二小学", "type": "学校"}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[114, 38], [115, 39]]},
         "properties": {"code": "L-1", "name": "线"}}]}), encoding="utf-8")
    r = CliRunner().invoke(app, ["receptors", "import", str(rec), "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    assert rep["imported"] == 1 and "LineString" in rep["rejected"][0]["reason"]
    r = CliRunner().invoke(app, ["plume", "--lon", "114.5", "--lat", "38.0", "--rate-gs", "100", "--wind-ms", "3",
                                 "--wind-from-deg", "270", "--threshold", "1", "--registered", "--json"])
    assert r.exit_code == 0, r.output
    assert [x["id"] for x in json.loads(r.output)["receptors"]] == ["S-1"]
