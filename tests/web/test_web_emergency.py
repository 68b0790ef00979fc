"""End to end in the browser: an incident reported near a demo enterprise → plume drawn on the one map →
affected receptors listed on the incident card → notification queued through the alert channels."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import insert, select

from ecohub.emergency.registers import import_receptors
from ecohub.store.schema import enterprise, site
from ecohub.store.schema_alerts import alert, outbox, subscription


def _prepare(demo) -> tuple[str, float, float]:
    store = demo.store()
    try:
        with store.engine.connect() as conn:
            row = conn.execute(select(enterprise.c.uscc, site.c.lon, site.c.lat)
                               .select_from(site.join(enterprise, enterprise.c.id == site.c.enterprise_id))
                               .where(site.c.region_code.startswith("1301"))  # the officer's city (石家庄)
                               .order_by(site.c.id)).first()
        uscc, lon, lat = row
        fc = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon + 0.012, lat]},
             "properties": {"code": "E2E-SCH", "name": "下风向小学（演示）", "type": "学校", "population": 600}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon - 0.02, lat]},
             "properties": {"code": "E2E-UP", "name": "上风向村（演示）", "type": "村庄", "population": 300}}]}
        import_receptors(store, data=json.dumps(fc).encode(), filename="e2e.geojson")
        with store.engine.begin() as conn:
            conn.execute(insert(subscription).values(
                audience="staff", channel="webhook", target="https://hooks.invalid/e2e", secret="s", rules=["incident"],
                min_severity="info", confirmed=True, active=True, token="e" * 32, created_at=datetime.now(UTC)))
    finally:
        store.close()
    return uscc, lon, lat


def test_incident_plume_receptors_notification(web_page, demo):
    uscc, lon, lat = _prepare(demo)
    p = web_page.page
    web_page.login("officer_t", next_path="/incidents")
    p.wait_for_selector("#inc-forms:not(.hidden)")
    p.fill("#inc-name", "储罐氨泄漏（演示）")
    p.fill("#inc-lon", str(lon))
    p.fill("#inc-lat", str(lat))
    p.fill("#inc-time", "2026-12-04T10:00")
    p.fill("#inc-substance", "氨")
    p.fill("#inc-amount", "800")
    p.fill("#inc-uscc", uscc)
    p.click("#inc-go")
    p.wait_for_selector("body[data-incident]")
    iid = int(p.get_attribute("body", "data-incident"))
    p.wait_for_selector(f"#inc-table tr[data-incident='{iid}']")
    p.fill("#d-wind", "2.5")
    p.fill("#d-from", "270")
    p.fill("#d-rate", "200")
    p.fill("#d-height", "5")
    p.fill("#d-thr", "5, 0.5")
    p.click("#disp-go")
    p.wait_for_selector("body[data-dispersion]")
    assert p.get_attribute("body", "data-dispersion") == "1"
    assert "下风向小学" in p.inner_text("#affected") and "上风向村" not in p.inner_text("#affected")
    web_page.shot("incident-page")
    inc = {"id": iid}
    p.click("#to-map")
    p.wait_for_selector("body[data-map-drawn]", timeout=30_000)
    p.wait_for_function("() => document.querySelector('[data-em-count=incidents]').textContent === '1'")
    kinds = p.evaluate("() => { const out = []; EH.emergencyMap.groups.incidents.eachLayer(g => g.eachLayer("
                       "l => out.push(l.feature.properties.kind))); return out; }")
    assert kinds.count("isopleth") == 2 and kinds.count("incident") == 1 and kinds.count("receptor") == 1
    assert p.evaluate("() => EH.map.map.hasLayer(EH.emergencyMap.groups.incidents)")
    p.evaluate("id => EH.emergencyMap.incidentCard(id)", inc["id"])
    p.wait_for_selector("#em-affected tr[data-receptor='E2E-SCH']")
    assert "下风向小学" in p.inner_text("#em-affected")
    web_page.shot("map-incident")
    store = demo.store()
    try:
        with store.engine.connect() as conn:
            aid = conn.scalar(select(alert.c.id).where(alert.c.rule == "incident"))
            assert conn.execute(select(outbox.c.channel).where(outbox.c.alert_id == aid)).all() == [("webhook",)]
    finally:
        store.close()
    assert web_page.problems() == []
