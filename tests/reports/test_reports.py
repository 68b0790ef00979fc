"""Monthly report of the demo province (河北, 53 national stations replayed for 2026-11 and 2025-11, 32 water
sections): the DOCX opens with python-docx, the PDF renders to PNG pages with pdftoppm, headings are there,
and the tables' numbers equal the API's. A period without data says 无数据. The reports API (roles, kept
issues, download) on both backends."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime

import pytest
from docx import Document
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ecohub.api.app import create_app
from ecohub.api.identity import AuthConfig, create_user
from ecohub.api.security import ApiConfig
from ecohub.demo import province
from ecohub.demo.replay import Replayer
from ecohub.reports import document, figures, service
from ecohub.store.db import Store

HEADINGS = ["一、环境空气质量", "二、地表水环境质量", "三、声环境质量", "四、土壤环境质量", "五、辐射环境质量", "六、超标预警与执法"]
MONTH = ("2026-11-01", "2026-11-30")
PASSWORD = "Correct-Horse-9"


def _replay_month(store: Store, year: int, month: int, days: int) -> None:
    r = Replayer(store)
    h0 = int(datetime(year, month, 1, tzinfo=UTC).timestamp()) // 3600 - 8  # 00:00 Beijing
    r.write_hours(h0, h0 + days * 24 - 1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Store:
    p = tmp_path_factory.mktemp("demo") / "demo.db"
    s = Store.open(f"sqlite:///{p}")
    s.init()
    province.load_registers(s)
    _replay_month(s, 2026, 11, 30)
    _replay_month(s, 2025, 11, 30)
    Replayer(s).write_water(datetime(2026, 11, 15, 4, tzinfo=UTC))
    yield s
    s.close()


@pytest.fixture(scope="module")
def api(demo) -> TestClient:
    return TestClient(create_app(demo, auth=AuthConfig(secret="s" * 48), config=ApiConfig(
        rate_anon_per_min=10**6, rate_auth_per_min=10**6, public_cache_seconds=0)))


def _api_ranking(api) -> dict[str, dict]:
    r = api.get(f"/api/v1/rankings/cities?region=130000&from={MONTH[0]}&to={MONTH[1]}")
    assert r.status_code == 200, r.text
    return {row["city"]: row for row in r.json()}


def _api_good_ratio(api) -> dict[str, tuple[int, int, int]]:
    r = api.get(f"/api/v1/aqi/daily?by=city&region=130000&from={MONTH[0]}&to={MONTH[1]}")
    assert r.status_code == 200, r.text
    out: dict[str, list[int]] = {}
    for row in r.json():
        c = out.setdefault(row["city"], [0, 0, 0])
        if row["level"]:
            c[0] += 1
            c[1] += row["level"] <= 2
            c[2] += row["level"] >= 5
    return {k: tuple(v) for k, v in out.items()}


def test_figures_equal_the_api(demo, api):
    fig = figures.compute(demo, "monthly", "130000", "2026-11")
    air = fig["air"]
    assert air["has_data"] and air["stations"] == 53 and len(air["cities"]) == 11
    ranking, good = _api_ranking(api), _api_good_ratio(api)
    for c in air["cities"]:
        ref = ranking[c["city"]]
        for k in ("index", "rank", "primary", "pm25", "pm10", "so2", "no2", "co_p95", "o3_8h_p90"):
            assert c[k] == ref[k], (c["name"], k)
        valid, g, heavy = good[c["city"]]
        assert c["valid_days"] == valid and c["good_days"] == g and c["heavy_days"] == heavy
        assert c["good_ratio"] == round(100 * g / valid, 1)
    # same period last year exists for every city (replayed 2025-11): changes are numbers
    assert all(c["index_change_pct"] is not None for c in air["cities"])
    assert air["required_days"] == 27 and air["incomplete_cities"] == [] and all(c["complete"] for c in air["cities"])
    assert sorted(c["improvement_rank"] for c in air["cities"]) == list(range(1, 12))
    w = fig["water"]
    assert w["has_data"] and w["sections"] == 32 and w["last_year"] is None and w["i_iii_change_pp"] is None
    assert w["i_iii"] + w["iv_v"] + w["worse_v"] == pytest.approx(100.0)
    assert not fig["noise"]["has_data"] and not fig["soil"]["has_data"] and not fig["radiation"]["has_data"]
    assert not fig["trends"]["has_data"] and "fewer than 24" in fig["trends"]["note"]  # two months only


def _table_rows(doc) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in doc.tables[0].rows]


def test_docx_opens_with_headings_and_the_api_numbers(demo, api, tmp_path):
    row = service.generate(demo, "monthly", "130000", "2026-11", "docx", actor="test")
    issue = service.get_report(demo, row["id"])
    p = tmp_path / issue["filename"]
    p.write_bytes(issue["content"])
    doc = Document(str(p))
    heads = [para.text for para in doc.paragraphs if para.style.name.startswith("Heading")]
    for h in HEADINGS:
        assert h in heads
    assert doc.paragraphs[0].text == "河北省环境质量月报"
    rows = _table_rows(doc)
    assert rows[0][:3] == ["排名", "城市", "综合指数"]
    ranking = {r["name"]: r for r in _api_ranking(api).values()}
    good = _api_good_ratio(api)
    assert len(rows) == 12
    for cells in rows[1:]:
        ref = ranking[cells[1]]
        assert cells[0] == str(ref["rank"]) and cells[2] == f"{ref['index']:.2f}"
        assert cells[6] == document.n(ref["pm25"]) and cells[7] == document.n(ref["pm10"])
        assert cells[11] == document.n(ref["co_p95"]) and cells[12] == f"{good[ref['city']][0]}/30"
    assert len(doc.inline_shapes) >= 4  # the charts


@pytest.mark.skipif(shutil.which("pdftoppm") is None and not __import__("os").environ.get("CI"),
                    reason="poppler-utils (pdftoppm) not installed")
def test_pdf_renders_pages_with_headings_and_numbers(demo, api, tmp_path):
    row = service.generate(demo, "monthly", "130000", "2026-11", "pdf", actor="test")
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(service.get_report(demo, row["id"])["content"])
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 3 and all(p.stat().st_size > 5000 for p in pages)
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert "NotoSansCJK" in fonts.replace("-", "").replace(" ", "") and " yes " in fonts  # embedded
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    for h in HEADINGS:
        assert h in text
    for r in _api_ranking(api).values():
        # the table row: rank, city, index, primary, good ratio …, PM2.5 — as the API gives them
        assert re.search(rf"{r['rank']}\s+{r['name']}\s+{r['index']:.2f}\s+", text), r["name"]


def test_period_without_data_says_no_data(demo, tmp_path):
    r = service.render_report(demo, "monthly", "130000", "2030-01", "docx")
    fig = r.figures
    assert not any(fig[k]["has_data"] for k in ("air", "water", "noise", "soil", "radiation"))
    assert fig["air"]["province"] is None and fig["air"]["cities"] == []
    p = tmp_path / "empty.docx"
    p.write_bytes(r.content)
    text = "\n".join(x.text for x in Document(str(p)).paragraphs)
    assert "本期无有效的环境空气质量监测数据（无数据）" in text and "本期无地表水水质监测数据（无数据）" in text
    assert not re.search(r"优良天数比例为\d", text)


def test_bad_arguments(demo, tmp_path):
    with pytest.raises(ValueError, match="period: '2026-13'"):
        figures.parse_period("monthly", "2026-13")
    with pytest.raises(ValueError, match="period: '26'"):
        figures.parse_period("annual", "26")
    with pytest.raises(ValueError, match="region: '999999'"):
        figures.compute(demo, "monthly", "999999", "2026-11")
    bad = tmp_path / "t.j2"
    bad.write_text("# {{ meta.region_name }}\n[table:nope]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown table 'nope'"):
        service.render_report(demo, "monthly", "130000", "2030-01", "docx", template=bad)
    bad.write_text("# {{ meta.nothing_here }}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="template:"):
        service.render_report(demo, "monthly", "130000", "2030-01", "docx", template=bad)


def test_user_template_chooses_the_charts(demo, tmp_path):
    t = tmp_path / "mine.j2"
    t.write_text("# {{ meta.region_name }} 简报\n{{ n(air.province.pm25) }}\n[chart:air_pm25]\n", encoding="utf-8")
    r = service.render_report(demo, "monthly", "130000", "2026-11", "docx", template=t)
    p = tmp_path / "m.docx"
    p.write_bytes(r.content)
    doc = Document(str(p))
    assert doc.paragraphs[0].text == "河北省 简报" and len(doc.inline_shapes) == 1 and not doc.tables
    assert r.figures["meta"]["template"] == "mine.j2"


def test_report_command(demo, tmp_path):
    from ecohub.cli.main import app

    url = demo.engine.url.render_as_string(hide_password=False)
    out = tmp_path / "jan.docx"
    res = CliRunner().invoke(app, ["report", "--kind", "monthly", "--region", "130000", "--period", "2030-01",
                                   "--format", "docx", "-o", str(out), "--no-keep", "--database-url", url])
    assert res.exit_code == 0, res.output
    assert "no data at all" in res.output and out.exists()
    side = json.loads((tmp_path / "jan.docx.json").read_text(encoding="utf-8"))
    assert side["meta"]["period"] == "2030-01" and side["air"]["has_data"] is False
    res = CliRunner().invoke(app, ["report", "--kind", "monthly", "--period", "2030-13", "-o", str(out),
                                   "--database-url", url])
    assert res.exit_code == 2 and "period" in res.output


# --- API on both backends -----------------------------------------------------------------------------------------
@pytest.fixture
def small(store):
    province.load_registers(store)
    _replay_month(store, 2026, 11, 3)
    with store.engine.begin() as c:
        for name, role, reg in (("admin", "admin", None), ("off_sjz", "officer", "130100"),
                                ("off_ts", "officer", "130200"), ("pub", "public", None)):
            create_user(c, name, PASSWORD, role, region_code=reg)
    client = TestClient(create_app(store, auth=AuthConfig(secret="s" * 48), config=ApiConfig(
        rate_anon_per_min=10**6, rate_auth_per_min=10**6, rate_login_per_min=10**6, public_cache_seconds=0)))
    tokens = {}
    for n in ("admin", "off_sjz", "off_ts", "pub"):
        r = client.post("/api/v1/auth/token", data={"username": n, "password": PASSWORD})
        assert r.status_code == 200, r.text
        tokens[n] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    return client, tokens


def test_reports_api(small):
    client, h = small
    body = {"kind": "monthly", "region": "130100", "period": "2026-11", "format": "pdf"}
    assert client.post("/api/v1/reports", json=body).status_code == 401
    assert client.post("/api/v1/reports", json=body, headers=h["pub"]).status_code == 403
    assert client.post("/api/v1/reports", json=body, headers=h["off_ts"]).status_code == 403  # not its city
    r = client.post("/api/v1/reports", json=body, headers=h["off_sjz"])
    assert r.status_code == 201, r.text
    first = r.json()
    r = client.post("/api/v1/reports", json={**body, "format": "docx"}, headers=h["admin"])
    assert r.status_code == 201
    r = client.post("/api/v1/reports", json={**body, "period": "2026-13"}, headers=h["admin"])
    assert r.status_code == 400 and "period" in r.json()["detail"]
    lst = client.get("/api/v1/reports", headers=h["admin"]).json()
    assert [x["format"] for x in lst] == ["docx", "pdf"]  # previous issues kept, newest first
    assert client.get("/api/v1/reports", headers=h["off_ts"]).json() == []
    assert len(client.get("/api/v1/reports", headers=h["off_sjz"]).json()) == 2
    d = client.get(first["download"], headers=h["off_sjz"])
    assert d.status_code == 200 and d.headers["content-type"] == "application/pdf" and d.content[:5] == b"%PDF-"
    assert client.get(first["download"], headers=h["off_ts"]).status_code == 404
    one = client.get(f"/api/v1/reports/{first['id']}", headers=h["admin"]).json()
    assert one["figures"]["air"]["has_data"] and one["figures"]["meta"]["region"] == "130100"


def test_assessment_and_trend_endpoints(small):
    client, h = small
    r = client.post("/api/v1/assessments/soil", json=[
        {"site": "S1", "land_use": "paddy", "ph": 5.5, "cd": 0.31, "region_code": "130102"},
        {"site": "S2", "land_use": "construction_2", "cd": 173},
        {"site": "S3", "land_use": "paddy", "cd": 0.2}])
    assert r.status_code == 200, r.text
    res = r.json()
    assert [s["class"] for s in res["samples"]] == ["between", "above_intervention", ""]
    assert "ph: missing" in res["samples"][2]["error"]
    assert client.post("/api/v1/assessments/soil", json=[]).status_code == 400
    assert client.get("/api/v1/assessments/noise?site=NOPE").status_code == 404
    assert client.get("/api/v1/assessments/radiation?site=NOPE").status_code == 404
    r = client.get("/api/v1/trends?site=1029A&parameter=pm25&from=2026-11-01&to=2026-11-03&interval=day")
    assert r.status_code == 200 and r.json()["has_data"] is False and "needs at least 10" in r.json()["note"]
    assert client.get("/api/v1/trends?site=NOPE&parameter=pm25").status_code == 404
    r = client.get("/api/v1/trends/correlation?site=1029A&parameter=pm25&from=2026-11-01&to=2026-11-03")
    assert r.status_code == 200 and {x["with"] for x in r.json()} == {"temp", "humidity", "wind_speed", "pressure"}
    r = client.get("/api/v1/surfaces?parameter=pm25&time=2026-11-02T08:00&cells=40")
    assert r.status_code == 200, r.text
    gj = r.json()
    assert gj["type"] == "FeatureCollection" and gj["properties"]["stations"] >= 40
    assert set(gj["properties"]["loo_rmse"]) == {"idw", "kriging"}
    assert client.get("/api/v1/surfaces?parameter=pm25&time=2031-01-01T08:00").status_code == 404


def test_city_trends_in_the_annual_report(store):
    """30 months of hourly PM2.5 falling 2 µg/m³ a year with a winter peak: the seasonal Kendall says
    decreasing, and its numbers are pymannkendall's on the same city monthly means."""
    import numpy as np
    import pymannkendall as pmk

    from ecohub.store import registry as R
    from ecohub.store.writer import ObservationWriter

    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("T1", "air_station", "趋势站", 114.5, 38.0, "130102"))
        sid = R.SeriesResolver().get(c, R.site_index(c)["T1"][0], R.parameter_index(c)["pm25"], "hour")
    w = ObservationWriter(store, "import", "t", batch_size=50_000)
    t0 = int(datetime(2024, 6, 30, 16, tzinfo=UTC).timestamp())  # 2024-07-01 00:00 Beijing
    n_hours = int((datetime(2026, 12, 31, 16, tzinfo=UTC).timestamp() - t0) // 3600)
    for h in range(n_hours):
        days = h / 24
        w.add(sid, t0 + 3600 * h, round(60 - 2 * days / 365 + 20 * np.cos(2 * np.pi * (days - 190) / 365) + h % 7, 1))
    w.flush()
    fig = figures.compute(store, "annual", "130000", "2026")
    assert fig["air"]["required_days"] == 324  # one station with PM2.5 only: no AQI days, nothing complete
    t = fig["trends"]
    assert t["has_data"] and t["from"] == "2022-01" and t["to"] == "2026-12"
    row = t["cities"][0]
    assert row["name"] == "石家庄市" and row["months"] == 30 and row["trend"] == "decreasing"
    monthly = []
    for y in range(2022, 2027):
        for m in range(1, 13):
            a = datetime(y, m, 1, tzinfo=UTC).timestamp() - 8 * 3600
            b = (datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC).timestamp() - 8 * 3600)
            hs = [h for h in range(int((a - t0) // 3600), int((b - t0) // 3600)) if 0 <= h < n_hours]
            vals = [round(60 - 2 * (h / 24) / 365 + 20 * np.cos(2 * np.pi * (h / 24 - 190) / 365) + h % 7, 1) for h in hs]
            monthly.append(np.mean(vals) if len(vals) >= 540 else np.nan)
    ref = pmk.seasonal_test(np.array(monthly), period=12)
    assert row["slope"] == round(ref.slope, 2) and row["p"] == pytest.approx(ref.p)


def test_noise_soil_radiation_sections(store, tmp_path):
    """Where the store has noise, soil and radiation data for the period, the report assesses them."""
    import csv as _csv
    import io as _io

    from ecohub.analytics import soil_store
    from ecohub.store import registry as R
    from ecohub.store.writer import ObservationWriter

    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("N1", "noise_point", "功能区点1", 114.5, 38.0, "130102", attrs={"zone": "1"}))
        R.upsert_site(c, R.SiteInput("G1", "radiation_point", "辐射站1", 114.6, 38.1, "130102"))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        leq = res.get(c, idx["N1"][0], par["leq"], "hour")
        gam = res.get(c, idx["G1"][0], par["gamma_dose_rate"], "hour")
    w = ObservationWriter(store, "import", "t")
    t0 = int(datetime(2026, 10, 31, 22, tzinfo=UTC).timestamp())  # 2026-11-01 06:00 Beijing
    for h in range(72):  # 3 days: day 54 dB (class 1 day limit 55: complies), night 47 dB (limit 45: exceeds)
        bj_hour = (6 + h) % 24
        w.add(leq, t0 + 3600 * h, 54.0 if 6 <= bj_hour < 22 else 47.0)
    g0 = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp())
    for h in range(24 * 30):  # October: the background 90 … 94
        w.add(gam, g0 + 3600 * h, 90.0 + h % 5)
    w.add(gam, t0, 93.0)
    w.add(gam, t0 + 3600, 140.0)  # an anomaly
    w.flush()
    text = "site,land_use,ph,cd,lon,lat,region_code,time\nS1,paddy,6.0,2.5,114.5,38.0,130102,2026-11-10\n"
    assert soil_store.import_samples(store, list(_csv.DictReader(_io.StringIO(text)))).imported == 1
    fig = figures.compute(store, "monthly", "130100", "2026-11")
    n = fig["noise"]
    assert n["has_data"] and n["points"][0]["zone"] == "1"
    assert n["day_compliance_rate"] == 100.0 and n["night_compliance_rate"] == 0.0
    r = fig["radiation"]["points"][0]
    assert r["anomalies"] == 1 and r["max"] == 140.0 and r["background"]["mean"] == pytest.approx(92.0, abs=0.1)
    assert fig["soil"] == {"has_data": True, "samples": 1, "sites": 1, "classes": {"above_intervention": 1}}
    out = service.render_report(store, "monthly", "130100", "2026-11", "docx")
    p = tmp_path / "n.docx"
    p.write_bytes(out.content)
    doc = Document(str(p))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "功能区点1" in cells and "辐射站1" in cells
