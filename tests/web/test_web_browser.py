"""The web front end in a real browser (Playwright + Debian's chromium) against ``ecohub demo`` on 127.0.0.1:
the portal loads with no console errors and fetches nothing from elsewhere, a station marker opens its card
and chart, the language switch works, a complaint is submitted and found by its code, the one map's layers
toggle (and search, region filter, replay work), the cockpit's live feed shows a new alert within seconds,
and pages show only what the role may see. Screenshots in ``test-artifacts/screenshots/``."""

from __future__ import annotations

import math
import struct
import time
import uuid
import zlib

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.slow


def _png(w: int = 48, h: int = 32) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(v for i in range(w) for v in (i * 5 % 256, y * 7 % 256, 120)) for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"tEXt", b"Comment\x00secret GPS") + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _except(problems: list[str], *statuses: int) -> list[str]:
    """Problems other than the given HTTP statuses (and the browser's console line about them)."""
    return [x for x in problems if not any(f"HTTP {c}" in x or f"status of {c}" in x for c in statuses)]


def _isolated_station(page) -> str:
    """The station farthest from any other (a click on it cannot hit a neighbour)."""
    pts = page.evaluate("() => Object.entries(EH.portal.markers).map(([c, m]) => [c, m.getLatLng().lat, m.getLatLng().lng])")
    best, best_d = None, -1.0
    for c, y, x in pts:
        d = min(math.hypot(x - x2, y - y2) for c2, y2, x2 in pts if c2 != c)
        if d > best_d:
            best, best_d = c, d
    return best


def _click_latlng(page, js_map: str, lat: float, lon: float):
    pt = page.evaluate(f"""([lat, lon]) => {{ const m = {js_map}; const p = m.latLngToContainerPoint([lat, lon]);
        const r = m.getContainer().getBoundingClientRect(); return {{x: r.left + p.x, y: r.top + p.y}}; }}""", [lat, lon])
    page.mouse.click(pt["x"], pt["y"])


def test_portal_loads_without_console_errors_or_outside_requests(web_page):
    p = web_page.page
    web_page.goto("/")
    p.wait_for_selector("body[data-map-drawn]", timeout=30_000)
    assert int(p.get_attribute("body", "data-map-drawn")) == 53  # every demo station drawn
    p.wait_for_selector("#stations-table tbody tr[data-code]")
    assert p.locator("#stations-table tbody tr[data-code]").count() == 53
    p.wait_for_selector("#ranking-table tbody tr td.num")
    assert p.locator("#cities-table tr").count() >= 10
    # colours are the official HJ 633 ones
    fills = p.evaluate("() => [...new Set(Object.values(EH.portal.markers).map(m => m.options.fillColor))]")
    assert set(fills) <= {"#00E400", "#FFFF00", "#FF7E00", "#FF0000", "#99004C", "#7E0023", "#b0b8bf"}
    # sortable: click the AQI header twice → ascending
    p.click("#stations-table th[data-key=aqi]")
    vals = [int(x) for x in p.locator("#stations-table tbody tr td.num .badge").all_inner_texts() if x.isdigit()]
    assert vals == sorted(vals)
    p.check("#show-water")
    p.wait_for_timeout(500)
    web_page.shot("portal")
    assert web_page.problems() == []


def test_station_marker_opens_card_and_chart(web_page):
    p = web_page.page
    web_page.goto("/")
    p.wait_for_selector("body[data-map-drawn]", timeout=30_000)
    code = _isolated_station(p)
    ll = p.evaluate("""c => { const l = EH.portal.markers[c].getLatLng();
        EH.portal.map.setView(l, 12, {animate: false}); return [l.lat, l.lng]; }""", code)  # neighbours apart
    p.wait_for_timeout(300)
    _click_latlng(p, "EH.portal.map", ll[0], ll[1])
    p.wait_for_selector("#card-title")
    assert p.get_attribute("#card-title", "href") == f"/stations/{code}"
    p.wait_for_selector("body[data-card-chart]")
    assert int(p.get_attribute("body", "data-card-chart")) == 24
    assert p.locator("#card-chart canvas").count() >= 1
    aqi = p.inner_text("[data-testid=card-aqi]")
    assert aqi == "—" or aqi.isdigit()
    web_page.shot("portal-card", full_page=False)
    # the station page: now, health advice, last 24 hours and last 30 days
    p.click("#card-title")
    p.wait_for_selector("body[data-chart24][data-chart30]")
    assert int(p.get_attribute("body", "data-chart24")) == 24
    assert int(p.get_attribute("body", "data-chart30")) == 30
    assert p.locator("#chart24 canvas").count() >= 1 and p.locator("#chart30 canvas").count() >= 1
    assert p.inner_text("#now-advice") != "—"
    assert p.locator("#conc tbody tr").count() == 6
    web_page.shot("station")
    assert web_page.problems() == []


def test_language_switch(web_page):
    p = web_page.page
    web_page.goto("/")
    assert p.get_attribute("html", "lang") == "zh-CN"
    assert p.inner_text("header nav a >> nth=0") == "实时空气"
    with p.expect_navigation():
        p.click("#lang-switch")
    assert "lang=en" in p.url and p.get_attribute("html", "lang") == "en"
    assert p.inner_text("header nav a >> nth=0") == "Air now"
    p.wait_for_selector("body[data-map-drawn]", timeout=30_000)
    assert "Excellent" in p.inner_text("#legend-aqi")
    web_page.shot("portal-en")
    web_page.goto("/water")  # remembered (cookie)
    assert p.get_attribute("html", "lang") == "en" and "Surface water quality" in p.inner_text("h1")
    p.wait_for_selector("body[data-map-drawn]", timeout=30_000)
    web_page.shot("water-en")
    with p.expect_navigation():
        p.click("#lang-switch")
    assert p.get_attribute("html", "lang") == "zh-CN" and "地表水" in p.inner_text("h1")
    assert web_page.problems() == []


def test_complaint_is_submitted_and_found_by_its_code(web_page, demo):
    p = web_page.page
    web_page.goto("/complaints/new")
    p.wait_for_function("() => EH.complaintMap && EH.complaintMap.getZoom() > 5")
    p.wait_for_timeout(300)
    _click_latlng(p, "EH.complaintMap", 38.0513, 114.4548)
    assert p.input_value("#lon") != ""
    p.select_option("#category", "air")
    p.fill("#description", "化工厂夜间排放刺鼻气体，持续三晚，附近居民无法开窗。")
    p.fill("#phone", "13812345678")
    p.set_input_files("#photo", files=[{"name": "smoke.png", "mimeType": "image/png", "buffer": _png()}])
    p.click("#submit")
    p.wait_for_selector("#tracking-code")
    shown = p.inner_text("#tracking-code").strip()
    assert len(shown.replace("-", "")) == 12
    web_page.shot("complaint-submitted")
    p.click("#follow-link")
    p.wait_for_selector("#track-details")
    assert shown in p.inner_text("#track-details")
    assert p.inner_text("#track-status") == "已登记"
    body = p.inner_text("body")
    assert "13812345678" not in body and "刺鼻气体" not in body  # no personal data in the public view
    web_page.shot("complaint-track")
    # the lookup form finds it by the code as typed (lower case, hyphens)
    web_page.goto("/complaints")
    p.fill("#code", shown.lower())
    with p.expect_navigation():
        p.click("#track-form button")
    p.wait_for_selector("#track-details")
    # a second report at the same place sees the open one as a possible duplicate
    web_page.goto("/complaints/new")
    p.wait_for_function("() => EH.complaintMap && EH.complaintMap.getZoom() > 5")
    p.wait_for_timeout(300)
    _click_latlng(p, "EH.complaintMap", 38.0513, 114.4548)
    p.wait_for_selector("#dup-box")
    # validation errors name the field
    p.fill("#description", "太臭")
    p.click("#submit")
    p.wait_for_selector("#result .msg.error")
    assert "description" in p.inner_text("#result")
    assert p.locator(".form-row.invalid[data-field=description]").count() == 1
    web_page.shot("complaint-validation")
    from ecohub.store.schema_supervision import complaint

    store = demo.store()
    try:
        with store.engine.connect() as c:
            row = c.execute(select(complaint.c.photo_type, complaint.c.photo_size, complaint.c.phone)
                            .where(complaint.c.tracking_code == shown.replace("-", ""))).one()
    finally:
        store.close()
    assert row.photo_type == "image/jpeg" and row.photo_size > 100 and row.phone == "13812345678"
    assert _except(web_page.problems(), 400) == []  # (the refused description answered 400, on purpose)


def test_one_map_layers_toggle_search_filter_replay(web_page, demo):
    p = web_page.page
    web_page.goto("/map")
    p.wait_for_url("**/login?next=*")  # staff page: sign in first
    web_page.login("admin_t", next_path="/map")
    p.wait_for_selector("body[data-map-drawn]", timeout=30_000)
    n = int(p.get_attribute("body", "data-map-drawn"))
    assert n == 53 + 33 + 12  # air stations, water sections, outlets
    has = "k => EH.map.map.hasLayer(EH.map.groups[k])"
    for k in ("air", "water", "sources", "alerts"):
        assert p.evaluate(has, k)
    assert p.inner_text("[data-count=air]") == "53" and p.inner_text("[data-count=sources]") == "12"
    p.uncheck("input[data-layer=air]")
    assert not p.evaluate(has, "air")
    p.uncheck("input[data-layer=sources]")
    assert not p.evaluate(has, "sources")
    p.check("input[data-layer=air]")
    assert p.evaluate(has, "air")
    p.check("input[data-layer=counties]")
    p.wait_for_function("() => document.querySelector('[data-count=counties]').textContent === '167'")
    assert p.evaluate(has, "counties")
    p.check("input[data-layer=redline]")
    p.wait_for_function("() => document.querySelector('[data-count=redline]').textContent !== ''")
    # search by code opens the card with latest values and trend
    p.fill("#search", "1029A")
    p.press("#search", "Enter")
    p.wait_for_selector("#card-title")
    assert p.inner_text("#card-title") == "职工医院"
    p.wait_for_selector("#card-latest tr")
    p.wait_for_selector("body[data-card-chart]")
    web_page.shot("map-card")
    # region filter (石家庄市 = 1301)
    p.select_option("#region", "1301")
    assert 0 < int(p.inner_text("[data-count=air]")) < 53
    # replay: the first hour of the last 24
    p.evaluate("() => { const s = document.getElementById('slider'); s.value = '0'; s.dispatchEvent(new Event('input')); }")
    p.wait_for_selector("body[data-replay-hour='0']")
    assert p.inner_text("#replay-time") != "实时"
    p.select_option("#region", "")
    p.check("input[data-layer=sources]")
    web_page.shot("map")
    assert web_page.problems() == []


def test_cockpit_live_feed_shows_a_new_alert_within_seconds(web_page, demo):
    p = web_page.page
    web_page.login("admin_t", next_path="/cockpit")
    p.wait_for_selector("body[data-cockpit=loaded]", timeout=40_000)
    p.wait_for_selector("body[data-live=connected]", timeout=15_000)
    assert p.inner_text("#kpi-offline .value").startswith("12")  # quiet demo: no simulated devices
    web_page.shot("cockpit")
    from ecohub.alerts.lifecycle import Condition, raise_condition
    from ecohub.store.schema import site

    message = f"测试告警 {uuid.uuid4().hex[:8]}：职工医院 PM2.5 超标"
    store = demo.store()
    try:
        with store.engine.begin() as c:
            sid = c.scalar(select(site.c.id).where(site.c.code == "1029A"))
            t0 = time.monotonic()
            raise_condition(c, Condition("aqi", f"browser-test:{uuid.uuid4()}", "major", message, site_id=sid,
                                         site="1029A"), int(time.time()), notify=False)
    finally:
        store.close()
    p.wait_for_selector(f"#feed li:has-text('{message}')", timeout=10_000)
    elapsed = time.monotonic() - t0
    assert elapsed < 10
    web_page.shot("cockpit-live")
    print(f"live feed: alert shown {elapsed:.2f} s after its creation")
    assert web_page.problems() == []


def test_cockpit_buttons_acknowledge_and_close_an_alert(web_page, demo):
    """An admin acknowledges and closes an alert from the cockpit's feed; the alert's state and the audit log
    record who did it."""
    from ecohub.alerts.lifecycle import Condition, raise_condition
    from ecohub.store.schema import site
    from ecohub.store.schema_alerts import alert
    from ecohub.store.schema_identity import audit_log

    p = web_page.page
    web_page.login("admin_t", next_path="/cockpit")
    p.wait_for_selector("body[data-live=connected]", timeout=40_000)
    message = f"测试告警 {uuid.uuid4().hex[:8]}：按钮确认与关闭"
    store = demo.store()
    try:
        with store.engine.begin() as c:
            sid = c.scalar(select(site.c.id).where(site.c.code == "1029A"))
            aid = raise_condition(c, Condition("aqi", f"browser-button:{uuid.uuid4()}", "warning", message,
                                               site_id=sid, site="1029A"), int(time.time()), notify=False).alert_id
        li = f"#feed li[data-alert='{aid}']"
        p.wait_for_selector(f"{li} button[data-act=acknowledge]", timeout=10_000)
        p.click(f"{li} button[data-act=acknowledge]")
        p.wait_for_selector(f"{li}[data-status=acknowledged]", timeout=10_000)
        assert "已确认告警" in p.inner_text("#cockpit-msg")
        p.once("dialog", lambda d: d.accept("现场核查：浏览器测试关闭"))
        p.click(f"{li}[data-status=acknowledged] button[data-act=close]")
        p.wait_for_selector(f"{li}[data-status=closed]", timeout=10_000)
        web_page.shot("cockpit-alert-closed")
        with store.engine.connect() as c:
            a = c.execute(select(alert.c.status, alert.c.acknowledged_by, alert.c.closed_by, alert.c.close_reason)
                          .where(alert.c.id == aid)).one()
            audit = c.execute(select(audit_log.c.action, audit_log.c.actor).where(
                audit_log.c.target == f"alert:{aid}").order_by(audit_log.c.id)).all()
    finally:
        store.close()
    assert tuple(a) == ("closed", "admin_t", "admin_t", "现场核查：浏览器测试关闭")
    assert [tuple(x) for x in audit] == [("alert_acknowledge", "admin_t"), ("alert_close", "admin_t")]
    assert web_page.problems() == []


def test_pages_show_only_what_the_role_may_see(web_page, demo):
    p = web_page.page
    # an officer of 石家庄 sees its own outlets, not 唐山's, on the one map
    web_page.login("officer_t", next_path="/map")
    p.wait_for_selector("body[data-map-drawn]", timeout=30_000)
    codes = set(p.evaluate("() => EH.map.items.map(i => i.s.code)"))
    assert "DEMO-E05-G01" in codes and "DEMO-E01-G01" not in codes
    assert int(p.inner_text("[data-count=sources]")) == 4
    # a public account may not use the cockpit
    p.click("#logout")
    p.wait_for_url(demo.url + "/")
    web_page.login("citizen_t", next_path="/cockpit")
    p.wait_for_selector("#cockpit-msg .msg.error")
    assert "无权" in p.inner_text("#cockpit-msg")
    web_page.shot("cockpit-forbidden", full_page=False)
    # the public portal's sources page shows only disclosed outlets (the 石家庄 key units in the demo)
    web_page.goto("/sources")
    p.wait_for_selector("#sources p.muted, #sources-table")
    text = p.inner_text("#sources")
    assert "DEMO-E01-G01" not in text and "烧结机头" not in text
    assert _except(web_page.problems(), 401, 403) == []


@pytest.mark.parametrize("path, ready", [
    ("/sections/HB-W001", "#sec-values tbody tr"),
    ("/water", "body[data-map-drawn]"),
    ("/subscribe", "#target optgroup"),
    ("/data", "#datasets p, #datasets ul"),
    ("/login", "#login-form"),
])
def test_other_pages_render_cleanly(web_page, path, ready):
    web_page.goto(path)
    web_page.page.wait_for_selector(ready, timeout=30_000, state="attached")
    web_page.page.wait_for_timeout(300)
    web_page.shot(path.strip("/").replace("/", "-") or "root")
    assert web_page.problems() == []


def test_reports_page_generates_and_lists_an_issue(web_page, demo):
    """Staff generate this month's report of the demo province on /reports; it is listed with its download."""
    from datetime import datetime as _dt

    from ecohub.domain.timeutil import BEIJING

    p = web_page.page
    web_page.login("admin_t", next_path="/reports")
    p.wait_for_selector("#report-form")
    p.fill("input[name=period]", _dt.now(BEIJING).strftime("%Y-%m"))
    p.select_option("select[name=format]", "pdf")
    p.click("#report-form button[type=submit]")
    p.wait_for_selector("#reports-table tbody tr[data-id]", timeout=90_000)
    row = p.inner_text("#reports-table tbody tr[data-id]")
    assert "PDF" in row and "130000" in row
    with p.expect_download(timeout=30_000) as dl:
        p.click("#reports-table tbody tr[data-id] button")
    assert dl.value.suggested_filename.endswith(".pdf")
    web_page.shot("reports")
    web_page.goto("/assessments")
    p.wait_for_selector("#noise-form")
    web_page.shot("assessments")
    assert web_page.problems() == []


def test_forecast_strip_warning_and_station_chart(web_page, demo):
    """A forecast issue of 石家庄 (persistence, AQI 230 → yellow warning by the 2018 scheme) appears on the portal's
    3-day strip in level colours with its range, in the cockpit's warning list, and the station page draws the
    city's forecast-vs-observed chart without errors."""
    from datetime import UTC, datetime, timedelta

    from ecohub.forecast import service
    from ecohub.forecast.history import from_records

    today = (datetime.now(UTC) + timedelta(hours=8)).date()
    days = [(today - timedelta(days=k)).isoformat() for k in range(20, 0, -1)]
    hist = from_records(days, {"aqi": [230.0] * 20, "pm25": [180.0] * 20, "pm10": [200.0] * 20, "so2": [10.0] * 20,
                               "no2": [40.0] * 20, "co": [1.0] * 20, "o3_8h": [30.0] * 20}, "130100")
    import numpy as np

    from ecohub.forecast.hourly import HOURLY_OF_DAILY, HourlyHistory

    shape = np.concatenate([np.full(12, 150.0), np.full(12, 210.0)])
    hourly = HourlyHistory(np.datetime64(days[0]), {p: np.tile(shape, (20, 1)) for p in HOURLY_OF_DAILY})
    store = demo.store()
    try:
        out = service.issue(store, "130100", hist, name="石家庄市", hourly=hourly)
    finally:
        store.close()
    assert out["issued"] and out["warning"] == 2
    p = web_page.page
    web_page.goto("/")
    p.wait_for_selector("#forecast-strip .fc-city[data-city='130100'] .fc-day", timeout=30_000)
    boxes = p.locator("#forecast-strip .fc-city[data-city='130100'] .fc-day")
    assert boxes.count() == 3
    assert "AQI 184–276" in boxes.first.inner_text()  # 230 ± 20 % (persistence range)
    assert "rgb(153, 0, 76)" in boxes.first.get_attribute("style") or "#99004C" in boxes.first.get_attribute("style")
    assert p.locator("#forecast-strip [data-city='130100'] [data-warning='2']").count() == 1
    web_page.shot("portal-forecast")
    web_page.login("admin_t", next_path="/cockpit")
    p.wait_for_selector("#warnings-list li[data-city='130100']", timeout=30_000)
    assert "黄色预警" in p.inner_text("#warnings-list")
    web_page.goto("/stations/1029A")
    p.wait_for_selector("#forecast-vs-obs .msg, body[data-forecast-vs-obs]", timeout=30_000, state="attached")
    # the 72 hourly values of the city's issue (the station has no issue of its own)
    p.wait_for_selector("body[data-forecast-hourly='72']", timeout=30_000, state="attached")
    assert p.get_attribute("#forecast-hourly", "data-issue") == str(out["id"])
    web_page.shot("station-forecast-hourly")
    assert _except(web_page.problems(), 401, 403) == []


def test_surfaces_page_draws_kriging_bands_with_legend(web_page, demo):
    p = web_page.page
    web_page.login("admin_t", next_path="/surfaces")
    p.wait_for_selector("#surf-form")
    p.select_option("select[name=method]", "kriging")
    p.click("#surf-form button[type=submit]")
    p.wait_for_selector("body[data-surface]", timeout=60_000)
    assert int(p.get_attribute("body", "data-surface")) >= 1
    assert "LOO RMSE" in p.inner_text("#surf-meta") and p.inner_text("#surf-legend").strip()
    p.check("#soil-layer")
    web_page.shot("surfaces")
    web_page.goto("/map")
    p.check("input[data-layer=soil]")
    p.wait_for_function("document.querySelector('[data-count=soil]').textContent !== ''")
    assert web_page.problems() == []
