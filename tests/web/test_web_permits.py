"""In the browser: an officer opens a permit and sees the emissions chart (actual, projected, permitted); the
enterprise submits an execution report on the same page; the officer returns it with reasons."""

from __future__ import annotations

from sqlalchemy import select

from ecohub.api.identity import create_user
from ecohub.store.schema import enterprise, site
from ecohub.store.schema_permits import permit
from ecohub.supervision.permits.register import rows_from_json, save_tables


def _permit(demo) -> str:
    store = demo.store()
    try:
        with store.engine.connect() as conn:
            uscc, code = conn.execute(select(enterprise.c.uscc, site.c.code)
                                      .select_from(site.join(enterprise, enterprise.c.id == site.c.enterprise_id))
                                      .where(site.c.region_code.startswith("1301"), site.c.kind == "gas_outlet")
                                      .order_by(site.c.id)).first()
        number = uscc + "001P"
        with store.engine.connect() as conn:
            if conn.scalar(select(permit.c.id).where(permit.c.number == number)) is not None:
                return number  # made by an earlier test of this session's demo
        res = save_tables(store, rows_from_json({
            "permits": [{"number": number, "enterprise": uscc, "category": "key", "issued_on": "2025-01-01",
                         "valid_from": "2025-01-01", "valid_to": "2029-12-31"}],
            "outlets": [{"permit": number, "outlet_code": "DA001", "site": code, "type": "main"}],
            "limits": [{"permit": number, "outlet": "DA001", "parameter": "a21026", "limit": "35", "unit": "mg/m3",
                        "period": "hour", "standard": "GB 13223-2011"}],
            "tonnage": [{"permit": number, "parameter": "so2", "tonnes": "80"},
                        {"permit": number, "parameter": "nox", "tonnes": "120"}]}))
        assert res.errors == [], res.errors
        with store.engine.begin() as c:
            create_user(c, "ent_t", demo.users["admin_t"], "enterprise", enterprise_uscc=uscc)
        demo.users["ent_t"] = demo.users["admin_t"]
    finally:
        store.close()
    return number


def test_officer_chart_enterprise_submits_officer_returns(web_page, demo, browser):
    number = _permit(demo)
    p = web_page.page
    web_page.login("officer_t", next_path=f"/permits?number={number}")
    p.wait_for_selector("body[data-chart]")
    opt = "() => echarts.getInstanceByDom(document.querySelector('#pm-chart')).getOption()"
    assert p.evaluate(opt + ".series.length") == 3  # actual, projected, permitted
    # so2 and nox have a tonnage; the demo's earlier limit rows of this outlet (attached) add their pollutants
    assert {"so2_gas", "nox"} <= set(p.evaluate(opt + ".xAxis[0].data"))
    assert "DA001" in p.inner_text("#pm-outlets") and "so2_gas" in p.inner_text("#pm-limits")
    p.wait_for_selector("body[data-monthly='12']")  # the tonnes of each month, one bar series per pollutant
    mopt = "() => echarts.getInstanceByDom(document.querySelector('#pm-monthly')).getOption()"
    assert len(p.evaluate(mopt + ".xAxis[0].data")) == 12
    assert p.evaluate(mopt + ".series.length") == p.evaluate(opt + ".xAxis[0].data.length")
    web_page.shot("permit-officer")
    # the enterprise, in its own browser context
    ctx = browser.new_context(viewport={"width": 1300, "height": 900}, locale="zh-CN")
    ent = ctx.new_page()
    ent.goto(demo.url + f"/login?next=/permits?number={number}")
    ent.fill("#username", "ent_t")
    ent.fill("#password", demo.users["ent_t"])
    with ent.expect_navigation():
        ent.click("#login-go")
    ent.wait_for_selector("#pm-report-form:not(.hidden)")
    ent.wait_for_selector("body[data-chart]")
    ent.wait_for_selector("#pm-due tr[data-due='year 2025'][data-overdue='true']")  # a key permit: annual report
    ent.click("#pm-fill-year-2025")
    assert ent.input_value("#pm-kind") == "year" and ent.input_value("#pm-period") == "2025"
    ent.select_option("#pm-kind", "month")
    ent.fill("#pm-period", "2026-01")
    ent.fill("#pm-note", "正常生产")
    ent.click("#pm-submit")
    ent.wait_for_selector("#pm-reports tr[data-state='submitted']")
    ctx.close()
    # the officer returns it with reasons
    p.reload()
    p.wait_for_selector("#pm-reports tr[data-state='submitted'] button[id^='pm-return-']")
    rid = p.get_attribute("#pm-reports tr[data-state='submitted']", "data-report")
    p.fill(f"#pm-return-note-{rid}", "缺少1月手工监测报告")
    p.click(f"#pm-return-{rid}")
    p.wait_for_selector(f"#pm-reports tr[data-report='{rid}'][data-state='returned']")
    assert "缺少1月手工监测报告" in p.inner_text("#pm-reports")
    web_page.shot("permit-report-returned")
    assert web_page.problems() == []


def test_manifest_list_with_state_filter(web_page, demo):
    from datetime import date

    from ecohub.store.audit import Origin
    from ecohub.store.queries import SYSTEM
    from ecohub.supervision.waste import manifest as M
    from ecohub.supervision.waste.codes import add_licence

    store = demo.store()
    try:
        with store.engine.connect() as c:
            ents = [u for (u,) in c.execute(select(enterprise.c.uscc).where(enterprise.c.region_code.startswith("1301"))
                                            .order_by(enterprise.c.id).limit(2))]
        o = Origin("e2e", "system")
        add_licence(store, o, uscc=ents[1], licence_no="E2E-LIC", codes=["HW08"], valid_from=date(2025, 1, 1),
                    valid_to=date(2035, 1, 1))
        a = M.create(store, SYSTEM, o, generator=ents[0], receiver=ents[1], code="900-249-08", tonnes=2)["number"]
        b = M.create(store, SYSTEM, o, generator=ents[0], receiver=ents[1], code="900-214-08", tonnes=1)["number"]
        M.transition(store, SYSTEM, o, b, "cancel", reason="重复填报")
        M.transition(store, SYSTEM, o, a, "dispatch", transporter="<b>危运</b>公司", vehicle="冀A00001")
    finally:
        store.close()
    p = web_page.page
    web_page.login("officer_t", next_path="/waste")
    p.wait_for_selector(f"#wst-table tr[data-manifest='{a}']")
    assert p.query_selector(f"#wst-table tr[data-manifest='{b}']") is None  # cancelled is not open
    # the flow on the map: one line generator → receiver, its transporter named as text (not HTML)
    p.wait_for_function("() => document.querySelector('#wst-flows').innerText.includes('危运')")
    p.wait_for_selector("body[data-flow-lines='1']")
    lines = ("() => { let n = 0; EH.wasteMap.eachLayer(l => { if (l instanceof L.Polyline && l.options.color === "
             "'#ef6c00') n++; }); return n; }")
    assert p.evaluate(lines) == 1
    assert "<b>危运</b>公司" in p.inner_text("#wst-flows")
    assert p.query_selector("#wst-flows b") is None
    web_page.shot("waste-manifests")
    p.select_option("#wst-state", "cancelled")
    p.wait_for_selector(f"#wst-table tr[data-manifest='{b}'][data-state='cancelled']")
    assert p.query_selector(f"#wst-table tr[data-manifest='{a}']") is None
    assert "→" in p.inner_text("#wst-table")
    p.select_option("#wst-state", "cancelled")
    p.wait_for_selector(f"#wst-table tr[data-manifest='{b}']")
    p.wait_for_function("() => document.querySelectorAll('#wst-flows tbody tr').length === 1 && "
                        "document.querySelector('#wst-flows').innerText.includes('未发运')")
    assert web_page.problems() == []


def test_public_permit_disclosure_page(web_page, demo):
    number = _permit(demo)
    p = web_page.page
    web_page.goto("/disclosure/permits")  # anyone, no sign-in
    p.wait_for_selector(f"#pd-list tr[data-permit='{number}']")
    p.fill("#pd-q", number[-10:])
    p.click("#pd-go")
    p.wait_for_function("() => document.querySelectorAll('#pd-list tbody tr').length === 1")
    with p.expect_navigation():
        p.click(f"#pd-list tr[data-permit='{number}'] a")
    p.wait_for_selector(f"body[data-permit-shown='{number}']")
    text = p.inner_text("#pd-detail")
    assert "DA001" in text and "主要排放口" in text and "GB 13223-2011" in text and "重点管理" in text
    assert "80" in p.inner_text("#pd-tonnage") and "so2" in p.inner_text("#pd-tonnage")
    store = demo.store()
    try:
        with store.engine.connect() as c:
            code = c.scalar(select(site.c.code).where(site.c.enterprise_id.in_(
                select(enterprise.c.id).where(enterprise.c.uscc == number[:18]))))
    finally:
        store.close()
    assert code and code not in p.content()  # no site codes (nor coordinates) on the public page
    web_page.shot("permit-disclosure")
    web_page.goto(f"/disclosure/permits?number={number}&lang=en")
    p.wait_for_selector(f"body[data-permit-shown='{number}']")
    assert "Key management" in p.inner_text("#pd-detail") and "Permitted emissions" in p.inner_text("#pd-detail")
    assert web_page.problems() == []
