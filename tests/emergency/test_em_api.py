"""The emergency API on both backends: dispersion (screening GeoJSON with registered receptors), red lines
(import, GeoJSON, check, areas, patches → alerts), receptors; roles and bad input."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from redline_support import feature, layer

from ecohub.emergency import SCREENING_NOTICE


def _api_support():
    """The API tests' small province (tests/api/conftest.py), loaded under its own module name."""
    name = "ecohub_api_test_world"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "api" / "conftest.py"
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


@pytest.fixture
def world(store):
    return _api_support().build_world(store)


def _upload(world, who, url, doc, name="x.geojson"):
    return world.client.post(url, headers=world.headers(who),
                             files={"file": (name, json.dumps(doc, ensure_ascii=False).encode(), "application/json")})


RECEPTORS = {"type": "FeatureCollection", "features": [
    feature({"type": "Point", "coordinates": [114.52, 38.0]}, code="SCH-1", name="第一小学（演示）", type="学校",
            population=800),
    feature({"type": "Polygon", "coordinates": [[[114.53, 38.001], [114.54, 38.001], [114.54, 38.003],
                                                 [114.53, 38.003], [114.53, 38.001]]]},
            code="RES-1", name="东村（演示）", type="村庄", population="1200"),
    feature({"type": "Point", "coordinates": [114.52, 38.0]}, code="BAD-1", name="人口错", population="many"),
]}


def test_dispersion_with_registered_receptors(world):
    r = _upload(world, "admin", "/api/v1/receptors", RECEPTORS)
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["imported"] == 2 and rep["rejected"][0]["id"] == "BAD-1"
    body = {"lon": 114.5, "lat": 38.0, "wind_ms": 3, "wind_from_deg": 270, "thresholds_mg_m3": [1, 0.1],
            "rate_gs": 100, "height_m": 10, "stability": "D"}
    r = world.post("officer_sjz", "/api/v1/dispersion", json=body)
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["screening"] == SCREENING_NOTICE
    assert {x["id"] for x in res["receptors"]} == {"SCH-1", "RES-1"}
    kinds = {f["properties"]["kind"] for f in res["geojson"]["features"]}
    assert kinds == {"source", "isopleth", "receptor"}
    r = world.client.post("/api/v1/dispersion", json=body)
    assert r.status_code == 401
    assert world.post("public_user", "/api/v1/dispersion", json=body).status_code == 403
    bad = world.post("admin", "/api/v1/dispersion", json={**body, "wind_ms": 0})
    assert bad.status_code == 400 and "wind_ms" in bad.text
    bad = world.post("admin", "/api/v1/dispersion", json={**body, "rate_gs": -1})
    assert bad.status_code == 400 and "rate_gs" in bad.text
    bad = world.post("admin", "/api/v1/dispersion", json={**body, "bogus": 1})
    assert bad.status_code in (400, 422)
    g = world.get("analyst", "/api/v1/receptors").json()
    assert [f["properties"]["code"] for f in g["features"]] == ["RES-1", "SCH-1"]


def test_redlines_api(world):
    assert _upload(world, "officer_sjz", "/api/v1/redlines", layer()).status_code == 403
    r = _upload(world, "admin", "/api/v1/redlines", layer())
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 3 and len(r.json()["rejected"]) == 3
    fc = world.get("analyst", "/api/v1/redlines").json()
    assert len(fc["features"]) == 3
    assert world.get("public_user", "/api/v1/redlines").status_code == 403
    assert world.get("officer_ts", "/api/v1/redlines").json()["features"] == []  # 唐山: none of these
    chk = world.get("admin", "/api/v1/redlines/check?buffer_m=100")
    assert chk.status_code == 200 and chk.json()["redlines"] == 3
    assert world.get("admin", "/api/v1/redlines/check?buffer_m=-5").status_code in (400, 422)
    areas = world.get("admin", "/api/v1/redlines/areas").json()
    assert sum(a["area_km2"] for a in areas) > 3000
    patch = {"type": "FeatureCollection", "features": [feature(
        {"type": "Polygon", "coordinates": [[[114.45, 38.45], [114.55, 38.45], [114.55, 38.55], [114.45, 38.55],
                                             [114.45, 38.45]]]}, code="P-API")]}
    r = _upload(world, "officer_sjz", "/api/v1/redlines/patches", patch)
    assert r.status_code == 200, r.text
    assert r.json()["alerts"][0]["redline_code"] == "RL-001"
    alerts = world.get("admin", "/api/v1/alerts?rule=redline_change").json()["results"]
    assert len(alerts) == 1 and "P-API" in alerts[0]["message"]
    bad = world.client.post("/api/v1/redlines", headers=world.headers("admin"),
                            files={"file": ("x.geojson", b"{oops", "application/json")})
    assert bad.status_code == 400 and "GeoJSON" in bad.text


def test_risk_sources_api(world):
    e1 = _api_support().E1
    csv_text = ("uscc,name,substance,quantity_t,m_score,e_air,lon,lat,contact_name,contact_phone\n"
                f"{e1},甲（演示）,氨,30,50,E2,114.5,38.0,张三,13800000000\n")
    files = {"file": ("risk.csv", csv_text.encode(), "text/csv")}
    assert world.client.post("/api/v1/risk-sources", headers=world.headers("ent1"), files=files).status_code == 403
    r = world.client.post("/api/v1/risk-sources", headers=world.headers("officer_sjz"), files=files)
    assert r.status_code == 200 and r.json()["imported"] == 1, r.text
    own = world.get("ent1", "/api/v1/risk-sources").json()
    assert len(own) == 1 and own[0]["contacts"][0]["name"] == "张三" and own[0]["grade"] == "larger"
    assert world.get("ent2", "/api/v1/risk-sources").json() == []
    assert world.get("officer_ts", "/api/v1/risk-sources").json() == []
    assert world.get("public_user", "/api/v1/risk-sources").status_code == 403
    rid = own[0]["id"]
    r = world.post("ent1", f"/api/v1/risk-sources/{rid}/status", json={"status": "submitted"})
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    assert world.post("ent1", f"/api/v1/risk-sources/{rid}/status", json={"status": "approved"}).status_code == 403
    assert world.post("officer_ts", f"/api/v1/risk-sources/{rid}/status",
                      json={"status": "approved"}).status_code == 404
    bad = world.post("officer_sjz", f"/api/v1/risk-sources/{rid}/status", json={"status": "rejected"})
    assert bad.status_code == 400 and "reason" in bad.text
    assert world.post("officer_sjz", f"/api/v1/risk-sources/{rid}/status",
                      json={"status": "approved"}).json()["status"] == "approved"
    fc = world.get("admin", "/api/v1/risk-sources?format=geojson").json()
    assert fc["features"][0]["properties"]["grade"] == "larger"


def test_incident_api_flow(world):
    """Reported near the demo enterprise → plume drawn (GeoJSON) → affected receptors listed → notification."""
    assert _upload(world, "admin", "/api/v1/receptors", RECEPTORS).status_code == 200
    body = {"title": "氨泄漏（演示）", "lon": 114.5, "lat": 38.0, "occurred_at": "2026-12-04T10:00",
            "substance": "氨", "amount_kg": 500, "enterprise_uscc": _api_support().E1}
    assert world.post("ent1", "/api/v1/incidents", json=body).status_code == 403
    r = world.post("officer_sjz", "/api/v1/incidents", json=body)
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    d = world.post("officer_sjz", f"/api/v1/incidents/{iid}/dispersion",
                   json={"wind_ms": 3, "wind_from_deg": 270, "rate_gs": 100, "thresholds_mg_m3": [1.0, 0.1]})
    assert d.status_code == 200, d.text
    assert {x["id"] for x in d.json()["receptors"]} == {"SCH-1", "RES-1"}
    one = world.get("officer_sjz", f"/api/v1/incidents/{iid}").json()
    assert one["dispersion"]["result"]["screening"] == SCREENING_NOTICE and "nearby_monitoring" in one
    alerts = world.get("admin", "/api/v1/alerts?rule=incident").json()["results"]
    assert len(alerts) == 1 and one["code"] in alerts[0]["message"]
    assert world.get("officer_ts", f"/api/v1/incidents/{iid}").status_code == 404
    t = world.post("officer_sjz", f"/api/v1/incidents/{iid}/tasks",
                   json={"kind": "sampling", "title": "取样", "owner": "监测站", "due_at": "2026-12-04T12:00"})
    assert t.status_code == 201
    bad = world.post("officer_sjz", f"/api/v1/incidents/{iid}/status", json={"status": "closed"})
    assert bad.status_code == 400 and "summary" in bad.text
    fc = world.get("admin", "/api/v1/incidents?format=geojson").json()
    assert {"incident", "isopleth", "receptor"} <= {f["properties"]["kind"] for f in fc["features"]}
    assert world.post("officer_sjz", f"/api/v1/incidents/{iid}/status",
                      json={"status": "closed", "summary": "已处置"}).json()["status"] == "closed"
