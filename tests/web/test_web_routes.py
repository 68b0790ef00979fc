"""The web router without a browser: pages and their headers, static files, boundaries, the page-support JSON
(scoped by role), complaints over HTTP, subscriptions. On both backends (``store`` fixture)."""

from __future__ import annotations

import functools
import gzip
import time
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, select

from ecohub.alerts.service import events_after
from ecohub.api.app import create_app
from ecohub.api.identity import AuthConfig, create_user, use_hasher
from ecohub.api.security import ApiConfig
from ecohub.demo import replay
from ecohub.demo.province import load_registers
from ecohub.demo.replay import Replayer
from ecohub.store.queries import PUBLIC, SYSTEM, Scope
from ecohub.store.schema import parameter, site
from ecohub.store.writer import ObservationWriter
from ecohub.web import mount_web
from ecohub.web.staticfiles import asset_version

use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
PASSWORD = "Correct-Horse-9"
OUTLET = "DEMO-E01-G01"  # 唐山 (130283), a fictional enterprise's stack; not disclosed (no key_unit flag)
USERS = {"admin": ("admin", None), "analyst": ("analyst", None), "officer_ts": ("officer", "130200"),
         "officer_sjz": ("officer", "130100"), "citizen": ("public", None)}


_runs = functools.lru_cache(maxsize=1)(replay.load_runs)  # parse the shipped hourly data once per session


class Web:
    def __init__(self, store, tmp_path, *, demo: bool = True):
        self.store = store
        if demo:
            load_registers(store)
            Replayer(store).backfill(2)
        with store.engine.begin() as c:
            for name, (role, reg) in USERS.items():
                create_user(c, name, PASSWORD, role, region_code=reg)
        cfg = ApiConfig(rate_anon_per_min=1_000_000, rate_auth_per_min=1_000_000, rate_login_per_min=100_000)
        app = create_app(store, auth=AuthConfig(secret="web-test-" + "s" * 40), config=cfg, data_dir=tmp_path)
        self.app = mount_web(app, store, data_dir=tmp_path)
        self.client = TestClient(self.app)
        self.tokens = {}
        for name in USERS:
            r = self.client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self.tokens[name] = r.json()["access_token"]

    def get(self, who, url, **kw):
        h = kw.pop("headers", {})
        if who != "anonymous":
            h["Authorization"] = f"Bearer {self.tokens[who]}"
        return self.client.get(url, headers=h, **kw)

    def post(self, who, url, **kw):
        h = kw.pop("headers", {})
        if who != "anonymous":
            h["Authorization"] = f"Bearer {self.tokens[who]}"
        return self.client.post(url, headers=h, **kw)


@pytest.fixture
def web(store, tmp_path, monkeypatch):
    monkeypatch.setattr(replay, "load_runs", _runs)
    return Web(store, tmp_path)


@pytest.fixture
def bare(sqlite_store, tmp_path):
    """Pages, static files and boundaries do not depend on the backend or on data."""
    return Web(sqlite_store, tmp_path, demo=False)


PAGES = ["/", "/water", "/sources", "/stations/1029A", "/sections/HB-W001", "/complaints", "/complaints/new",
         "/complaints/ABCDEFGHJKMN", "/subscribe", "/subscribe/confirm?token=x", "/data", "/login", "/map", "/cockpit",
         "/staff/complaints", "/reports", "/assessments", "/surfaces", "/incidents", "/permits", "/waste", "/disclosure", "/workbench",
         "/disclosure/permits", "/disclosure/permits?number=91130283DEMY00015Q001P", "/cases/130102-2026-0001",
         "/credit/91130100MA0000001X", "/disclosure/draws/1"]


def test_every_page_is_served_with_a_strict_csp(bare):
    web = bare
    from ecohub.store import registry as R

    with web.store.engine.begin() as c:  # station and section pages answer 404 for codes that do not exist
        R.upsert_site(c, R.SiteInput("1029A", "air_station", "职工医院", 114.5, 38.0, "130100"))
        R.upsert_site(c, R.SiteInput("HB-W001", "water_section", "断面", 114.6, 38.1, "130100"))
    made = web.post("anonymous", "/api/v1/complaints", data={"category": "air", "description": "夜间偷排废气，气味刺鼻",
                                                             "lon": "114.4548", "lat": "38.0513"})
    assert made.status_code == 201, made.text
    pages = [p.replace("ABCDEFGHJKMN", made.json()["tracking_code"]) for p in PAGES]
    for path in pages:
        r = web.get("anonymous", path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/html")
        csp = r.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "connect-src 'self'" in csp and "unsafe-eval" not in csp
        assert "<script>" not in r.text  # no inline script (only JSON data blocks and src= scripts)
        assert "http://" not in r.text.replace("http://127.0.0.1", "") and "https://" not in r.text
    assert web.get("anonymous", "/stations/..%2F..%2Fetc").status_code in (404, 200)
    assert web.get("anonymous", "/stations/a b").status_code == 404


def test_portal_replaces_the_status_page_and_mount_is_idempotent(bare):
    web = bare
    r = web.get("anonymous", "/")
    assert 'id="stations-table"' in r.text and "portal.js" in r.text
    n = len(web.app.router.routes)
    mount_web(web.app, web.store)
    assert len(web.app.router.routes) == n


def test_language_by_query_cookie_and_default(bare):
    web = bare
    r = web.get("anonymous", "/")
    assert '<html lang="zh-CN">' in r.text and "实时空气" in r.text and r.headers["content-language"] == "zh-CN"
    r = web.get("anonymous", "/?lang=en")
    assert '<html lang="en">' in r.text and "Air now" in r.text and r.cookies.get("ecohub_lang") == "en"
    assert 'href="/?lang=zh"' in r.text  # the visible switch back
    r = web.client.get("/water", cookies={"ecohub_lang": "en"})
    assert "Surface water quality" in r.text
    r = web.client.get("/water?lang=xx", cookies={"ecohub_lang": "en"})
    assert "Surface water quality" in r.text


def test_static_files_gzip_immutable_and_confined(bare):
    web = bare
    v = asset_version()
    r = web.client.get(f"/static/vendor/echarts/echarts.min.js?v={v}", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert "immutable" in r.headers["cache-control"]
    assert int(r.headers["content-length"]) < 500_000  # ~1.1 MB raw
    r2 = web.client.get("/static/js/common.js", headers={"If-None-Match": r.headers["etag"]})
    assert r2.status_code == 200 and "immutable" not in r2.headers["cache-control"]
    r3 = web.client.get("/static/js/common.js", headers={"If-None-Match": r2.headers["etag"]})
    assert r3.status_code == 304
    assert web.client.get("/static/../pages.py").status_code == 404
    assert web.client.get("/static/%2e%2e/pages.py").status_code == 404
    assert web.client.get("/static/vendor/VERSIONS.json").json()["leaflet/leaflet.js"]["version"] == "1.9.4"


def test_boundaries_shipped_and_compressed(bare):
    web = bare
    r = web.client.get("/api/v1/web/boundaries/province.geojson", headers={"Accept-Encoding": "gzip"})
    fc = r.json()
    assert [f["properties"]["code"] for f in fc["features"]] == ["130000"]
    assert len(web.client.get("/api/v1/web/boundaries/cities.geojson").json()["features"]) == 11
    assert len(web.client.get("/api/v1/web/boundaries/counties.geojson").json()["features"]) == 167
    ctx = {f["properties"]["code"] for f in web.client.get("/api/v1/web/boundaries/provinces.geojson").json()["features"]}
    assert {"110000", "120000", "140000", "370000"} <= ctx and "130000" not in ctx and "460000" not in ctx
    assert web.client.get("/api/v1/web/boundaries/nope.geojson").status_code == 404


def test_map_features_follow_the_scope(web):
    def codes(who):
        d = web.get(who, "/api/v1/web/map/features").json()
        return {r[0]: dict(zip(d["columns"], r, strict=True)) for r in d["sites"]}

    anon, admin, off_ts, off_sjz = codes("anonymous"), codes("admin"), codes("officer_ts"), codes("officer_sjz")
    assert OUTLET not in anon and OUTLET not in off_sjz  # not disclosed, not in 石家庄
    assert OUTLET in admin and OUTLET in off_ts
    assert admin[OUTLET]["status"] == "offline"  # a device that never reported
    assert len([c for c in anon.values() if c["kind"] == "air_station"]) == 53
    s = anon["1029A"]
    assert s["value"] is not None and 1 <= s["level"] <= 6 and s["region"] == "130100"
    w = anon["HB-W001"]
    assert w["kind"] == "water_section" and 1 <= w["level"] <= 6


def test_station_hours_and_replay(web):
    d = web.get("anonymous", "/api/v1/web/stations/1029A/hours?hours=24").json()
    assert len(d["hours"]) == 24 and d["hours"][-1]["aqi"] is not None
    assert web.get("anonymous", "/api/v1/web/stations/NOPE/hours").status_code == 404
    assert web.get("anonymous", f"/api/v1/web/stations/{OUTLET}/hours").status_code == 404
    rp = web.get("anonymous", "/api/v1/web/map/replay?hours=24").json()
    assert len(rp["times"]) == 24 and len(rp["sites"]) >= 50 and len(rp["aqi"][0]) == 24


def test_cockpit_is_for_staff(web):
    assert web.get("anonymous", "/api/v1/web/cockpit").status_code == 401
    assert web.get("citizen", "/api/v1/web/cockpit").status_code == 403
    d = web.get("admin", "/api/v1/web/cockpit").json()
    assert set(d) >= {"air_year", "water", "alerts", "devices", "complaints", "aqi_now", "daily_levels", "ranking"}
    assert d["devices"]["devices"] == 12 and d["devices"]["offline"] == 12
    assert d["water"]["classified"] > 0 and 0 <= d["water"]["good_share"] <= 100
    assert sum(d["aqi_now"]["levels"].values()) == d["aqi_now"]["stations"] == 53
    o = web.get("officer_sjz", "/api/v1/web/cockpit").json()
    assert o["devices"]["devices"] == 4  # the four outlets of 石家庄 (130110, 130111) in the demo


def test_sources_against_permit_limits_and_scope(web):
    store = web.store
    from ecohub.store.schema_alerts import permit_limit

    with store.engine.begin() as c:
        sid = c.scalar(select(site.c.id).where(site.c.code == OUTLET))
        pid = c.scalar(select(parameter.c.id).where(parameter.c.name == "so2_gas"))
        # the demo ships an illustrative limit (at 16 % O2); replace it by a plain one for this test
        c.execute(delete(permit_limit).where(permit_limit.c.site_id == sid, permit_limit.c.parameter_id == pid))
        c.execute(insert(permit_limit).values(site_id=sid, parameter_id=pid, period="hour", limit_value=35.0,
                                              unit="mg/m3", updated_at=datetime.now(UTC)))
    from ecohub.store import registry as R

    with store.engine.begin() as c:
        ser = R.SeriesResolver().get(c, sid, pid, "hour")
    w = ObservationWriter(store, "hj212", "test")
    w.add(ser, int(time.time()) // 3600 * 3600 - 3600, 50.0)
    w.flush()
    disclosed = {r["code"] for r in web.get("anonymous", "/api/v1/web/sources").json()}
    assert disclosed == {"DEMO-E05-G01", "DEMO-E05-G02", "DEMO-E06-W01", "DEMO-E06-G02"}  # key units (石家庄)
    rows = {r["code"]: r for r in web.get("admin", "/api/v1/web/sources").json()}
    assert len(rows) == 12
    it = next(i for i in rows[OUTLET]["items"] if i["parameter"] == "so2_gas")
    assert (it["parameter"], it["value"], it["limit"], it["exceeding"]) == ("so2_gas", 50.0, 35.0, True)
    assert (it["judged_value"], it["limit_period"], it["basis"]) == (50.0, "hour", "measured")
    assert rows[OUTLET]["status"] == "normal"  # data within the hour, no alert raised (the worker raises it)
    assert rows[OUTLET]["enterprise_name"].endswith("（演示）")
    assert web.get("officer_sjz", f"/api/v1/web/sites/{OUTLET}/permit").status_code == 404
    lim = web.get("officer_ts", f"/api/v1/web/sites/{OUTLET}/permit").json()["limits"]
    assert {(x["parameter"], x["limit_value"]) for x in lim} >= {("so2_gas", 35.0)}


def test_alert_feed_is_scoped(web):
    from ecohub.alerts.lifecycle import Condition, raise_condition

    with web.store.engine.begin() as c:
        ids = dict(c.execute(select(site.c.code, site.c.id).where(site.c.code.in_([OUTLET, "1029A"]))).all())
        now = int(time.time())
        raise_condition(c, Condition("offline", "test:out", "major", "烧结机头离线", site_id=ids[OUTLET], site=OUTLET),
                        now, notify=False)
        raise_condition(c, Condition("aqi", "test:air", "warning", "职工医院 重度污染", site_id=ids["1029A"],
                                     site="1029A"), now, notify=False)
        raise_condition(c, Condition("aqi", "test:region", "info", "全省", site_id=None), now, notify=False)
    msgs = lambda scope: [e["message"] for e in events_after(web.store, scope, 0)]  # noqa: E731
    assert msgs(SYSTEM) == ["烧结机头离线", "职工医院 重度污染", "全省"]
    assert msgs(PUBLIC) == ["职工医院 重度污染"]
    assert msgs(Scope("officer", region_code="130200")) == ["烧结机头离线", "职工医院 重度污染"]
    assert msgs(Scope("analyst")) == ["烧结机头离线", "职工医院 重度污染", "全省"]
    d = web.get("admin", "/api/v1/web/map/features").json()
    row = next(r for r in d["sites"] if r[0] == OUTLET)
    assert row[d["columns"].index("status")] == "offline" and row[d["columns"].index("alerts")] == 1


def test_complaints_over_http(web, monkeypatch):
    r = web.post("anonymous", "/api/v1/complaints", data={"category": "air", "description": "夜间偷排废气，气味刺鼻",
                                                          "lon": "114.4548", "lat": "38.0513", "phone": "13812345678"})
    assert r.status_code == 201, r.text
    code = r.json()["tracking_code"]
    t = web.get("anonymous", f"/api/v1/complaints/track/{code}").json()
    assert t["status"] == "received" and "13812345678" not in str(t)
    bad = web.post("anonymous", "/api/v1/complaints", data={"category": "air", "description": "短", "lon": "114.45",
                                                            "lat": "38.05"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "description" and bad.json()["errors"][0]["value"] == "短"
    photo = web.post("anonymous", "/api/v1/complaints",
                     data={"category": "air", "description": "夜间偷排废气，气味刺鼻", "lon": "114.4548", "lat": "38.0513"},
                     files={"photo": ("x.gif", b"GIF89a" + b"\x00" * 300, "image/gif")})
    assert photo.status_code == 400 and photo.json()["errors"][0]["field"] == "photo"
    near = web.get("anonymous", "/api/v1/complaints/nearby?lon=114.4549&lat=38.0513&category=air").json()
    assert len(near["results"]) == 1 and "tracking_code" not in near["results"][0]
    assert web.get("anonymous", "/api/v1/complaints").status_code == 401
    assert web.get("citizen", "/api/v1/complaints").status_code == 403
    assert web.get("analyst", "/api/v1/complaints").json()["results"][0]["phone"] == "138****5678"
    # the handling officer only: nobody has accepted it yet, so the region's officer sees it masked too
    assert web.get("officer_sjz", "/api/v1/complaints").json()["results"][0]["phone"] == "138****5678"
    assert web.get("officer_ts", "/api/v1/complaints").json()["results"] == []
    assert web.get("officer_ts", f"/api/v1/complaints/{code}").status_code == 404
    assert web.post("analyst", f"/api/v1/complaints/{code}/status", json={"status": "accepted"}).status_code == 403
    r = web.post("officer_sjz", f"/api/v1/complaints/{code}/status", json={"status": "rejected"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "note"
    assert web.post("officer_sjz", f"/api/v1/complaints/{code}/status", json={"status": "accepted"}).status_code == 200
    mine = web.get("officer_sjz", f"/api/v1/complaints/{code}").json()  # now his: he calls back
    assert mine["phone"] == "13812345678" and mine["handler"] == "officer_sjz"
    assert web.get("admin", f"/api/v1/complaints/{code}").json()["phone"] == "138****5678"
    hist = web.get("anonymous", f"/api/v1/complaints/track/{code}").json()["history"]
    assert [h["status"] for h in hist] == ["received", "accepted"] and "actor" not in hist[1]
    from ecohub.store.schema_identity import audit_log

    with web.store.engine.connect() as c:
        actions = [a for (a,) in c.execute(select(audit_log.c.action))]
    assert "complaint_submit" in actions and "complaint_status" in actions and "personal_data_view" in actions


def test_complaint_submissions_are_rate_limited(web, monkeypatch):
    monkeypatch.setenv("ECOHUB_COMPLAINTS_PER_HOUR", "2")
    form = {"category": "noise", "description": "工地夜间施工噪声扰民", "lon": "114.46", "lat": "38.05"}
    codes = [web.post("anonymous", "/api/v1/complaints", data=form).status_code for _ in range(3)]
    assert codes == [201, 201, 429]


def test_public_subscription_is_never_faked(web):
    r = web.post("anonymous", "/api/v1/web/subscriptions", json={"email": "a@example.org", "city": "130100",
                                                                 "min_level": 4})
    assert r.status_code == 201, r.text
    assert r.json() == {"id": r.json()["id"], "confirmed": False, "name": "石家庄市", "confirmation_sent": False}
    assert web.post("anonymous", "/api/v1/web/subscriptions", json={"email": "nope", "city": "130100"}).status_code == 400
    both = web.post("anonymous", "/api/v1/web/subscriptions", json={"email": "a@example.org", "city": "130100",
                                                                    "site": "1029A"})
    assert both.status_code == 400 and "site/city" in both.json()["detail"]
    assert web.post("anonymous", "/api/v1/web/subscriptions", json={"email": "a@example.org", "site": OUTLET}
                    ).status_code == 400
    from ecohub.store.schema_alerts import subscription

    with web.store.engine.connect() as c:
        token, confirmed = c.execute(select(subscription.c.token, subscription.c.confirmed)).one()
    assert not confirmed
    assert web.post("anonymous", "/api/v1/web/subscriptions/confirm", json={"token": token}).status_code == 200
    assert web.post("anonymous", "/api/v1/web/subscriptions/confirm", json={"token": "wrong"}).status_code == 404
    assert web.post("anonymous", "/api/v1/web/subscriptions/unsubscribe", json={"token": token}).status_code == 200
    with web.store.engine.connect() as c:
        assert c.execute(select(subscription.c.confirmed, subscription.c.active)).one() == (True, False)


def test_staff_layers_absent_by_default(bare):
    web = bare
    assert web.get("anonymous", "/api/v1/web/layers/redline").status_code == 401
    d = web.get("admin", "/api/v1/web/layers/redline").json()
    assert d["available"] is False and d["features"] == []
    assert web.get("admin", "/api/v1/web/layers/other").status_code == 404


def test_gzip_helper_round_trip(bare):
    web = bare
    r = web.client.get("/api/v1/web/boundaries/cities.geojson", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in r.headers
    raw = web.client.get("/api/v1/web/boundaries/cities.geojson", headers={"Accept-Encoding": "gzip"})
    assert raw.json() == r.json()
    assert gzip  # (httpx decodes gzip for us)


def test_sources_compare_like_with_like(web):
    """Issue 10 item 10: a 30-second reading is never compared with an hourly limit. The limit is judged on the
    last complete hour's mean of the real-time data — converted to the reference O2 when the permit says so, as
    the alert rule does: C = C' × (21 − O2ref) / (21 − O2) — and the page says which value that is."""
    from ecohub.store import registry as R
    from ecohub.store.schema_alerts import permit_limit

    code = "DEMO-E05-G02"
    with web.store.engine.begin() as c:
        sid = c.scalar(select(site.c.id).where(site.c.code == code))
        pids = dict(c.execute(select(parameter.c.name, parameter.c.id)
                              .where(parameter.c.name.in_(["so2_gas", "nox", "o2"]))).all())
        c.execute(delete(permit_limit).where(permit_limit.c.site_id == sid))
        now = datetime.now(UTC)
        c.execute(insert(permit_limit), [
            {"site_id": sid, "parameter_id": pids["so2_gas"], "period": "hour", "limit_value": 35.0, "unit": "mg/m3",
             "converted_o2": None, "updated_at": now},
            {"site_id": sid, "parameter_id": pids["nox"], "period": "hour", "limit_value": 35.0, "unit": "mg/m3",
             "converted_o2": 16.0, "updated_at": now}])
        ser = {p: R.SeriesResolver().get(c, sid, pids[p], "rt") for p in ("so2_gas", "nox", "o2")}
    hour = int(time.time()) // 3600 * 3600 - 3600  # the last complete hour
    w = ObservationWriter(web.store, "hj212", "test")
    for k in range(120):  # every 30 s
        w.add(ser["so2_gas"], hour + 30 * k, 30.0)
        w.add(ser["nox"], hour + 30 * k, 30.0)
        w.add(ser["o2"], hour + 30 * k, 18.0)
    w.add(ser["so2_gas"], hour + 3600 + 5, 100.0)  # a 30-s spike in the current (incomplete) hour
    w.flush()
    rows = {r["code"]: r for r in web.get("anonymous", "/api/v1/web/sources").json()}
    items = {i["parameter"]: i for i in rows[code]["items"]}
    so2, nox = items["so2_gas"], items["nox"]
    # the newest reading is shown (100, real-time) but the hourly limit is judged on the hourly mean (30)
    assert (so2["value"], so2["interval"]) == (100.0, "rt")
    assert (so2["judged_value"], so2["limit"], so2["basis"], so2["exceeding"]) == (30.0, 35.0, "measured", False)
    # 30 mg/m3 measured at 18 % O2, converted to 16 %: 30 × (21 − 16) / (21 − 18) = 50 > 35
    assert nox["basis"] == "converted" and nox["o2_reference"] == 16.0
    assert nox["judged_value"] == pytest.approx(50.0) and nox["exceeding"] is True
    assert (nox["value"], nox["limit_period"]) == (30.0, "hour")


def test_unknown_codes_answer_404(web):
    """Issue 10 item 10: a station, section or complaint page of an unknown code is a 404 page, not a 200."""
    for path in ("/stations/NOPE1", "/stations/HB-W001", "/sections/NOPE1", "/sections/1029A",
                 "/complaints/ABCD2345EFGH", "/cases/no%20such", "/credit/abc"):
        r = web.get("anonymous", path)
        assert r.status_code == 404, path
        assert "未找到" in r.text
    assert web.get("anonymous", "/stations/1029A").status_code == 200
    assert web.get("anonymous", "/sections/HB-W001").status_code == 200
    r = web.post("anonymous", "/api/v1/complaints", data={"category": "air", "description": "夜间偷排废气，气味刺鼻",
                                                          "lon": "114.4548", "lat": "38.0513"})
    code = r.json()["tracking_code"]
    assert web.get("anonymous", f"/complaints/{code}").status_code == 200
    assert web.get("anonymous", f"/complaints/{code.lower()}").status_code == 200


def test_map_replay_is_kept_per_encoding_and_scope(web):
    """The one map's time slider and the portal's AQI go through the response cache (ecohub.api.response_cache):
    a gzip answer and a plain one are kept apart, each served again byte for byte, never to another scope,
    and a new observation is in the very next answer."""
    rc = web.app.state.response_cache
    url = "/api/v1/web/map/replay?hours=24"
    plain = {"Accept-Encoding": "identity"}
    got = {}
    for who in ("anonymous", "officer_sjz"):
        for enc, hdr in (("gzip", {"Accept-Encoding": "gzip"}), ("plain", plain)):
            for _ in range(4):
                r = web.get(who, url, headers=dict(hdr))
                if r.headers.get("x-cache") == "hit":
                    break
            assert r.headers.get("x-cache") == "hit", (who, enc)
            assert r.status_code == 200 and r.headers.get("content-encoding") == ("gzip" if enc == "gzip" else None)
            got[who, enc] = r.json()  # the client decompresses
            again = web.get(who, url, headers=dict(hdr, **{"If-None-Match": r.headers["etag"]}))
            assert again.status_code == 304 and "content-encoding" not in again.headers
    assert got["anonymous", "gzip"] == got["anonymous", "plain"]
    assert got["officer_sjz", "gzip"] == got["officer_sjz", "plain"]
    assert rc.by_encoding >= {"/api/v1/web/map/replay"}
    # a value of the newest hour changes: the next answer is computed and shows it
    rp = got["anonymous", "plain"]
    code = rp["sites"][0]
    with web.store.engine.connect() as c:
        from ecohub.store.schema import series

        sid = c.scalar(select(series.c.id).join(site, site.c.id == series.c.site_id)
                       .join(parameter, parameter.c.id == series.c.parameter_id)
                       .where(site.c.code == code, parameter.c.name == "co", series.c.interval == "hour"))
    newest = datetime.fromisoformat(rp["times"][-1]).astimezone(UTC)
    w = ObservationWriter(web.store, "zz-late-source", "test")  # a newer source's value for that hour wins
    w.add(sid, int(newest.timestamp()), 120.0)  # CO 1-h 120 mg/m³: IAQI 400 (HJ 633 Table 1)
    w.flush()
    after = web.get("anonymous", url, headers=dict(plain))
    assert "x-cache" not in after.headers
    assert rp["aqi"][0][-1] < 400 <= after.json()["aqi"][0][-1]
