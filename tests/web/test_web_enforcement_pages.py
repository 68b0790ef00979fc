"""In the browser: the case page (timeline, penalties, documents), the enterprise credit page (level with its
colour, the facts and points behind it, versions), the public draw page (objects, seed, hashes, verify; no
inspectors) and the published complaint result on the disclosure page and the tracking page."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from ecohub.store.audit import Origin
from ecohub.store.queries import SYSTEM
from ecohub.store.schema import enterprise
from ecohub.supervision import complaint_loop as L
from ecohub.supervision import complaints as C
from ecohub.supervision.cases import documents as D
from ecohub.supervision.cases import service as cases
from ecohub.supervision.credit import service as credit
from ecohub.supervision.inspect import service as I


def _world(demo):
    store = demo.store()
    o = Origin("承办人乙", "system")
    try:
        with store.engine.connect() as c:
            ents = c.execute(select(enterprise.c.uscc).where(enterprise.c.region_code.startswith("1301"))
                             .order_by(enterprise.c.id).limit(2)).scalars().all()
        uscc = ents[-1]
        d0 = date.today() - timedelta(days=40)
        n = cases.open_case(store, SYSTEM, o, uscc=uscc, violation="air_exceed", discovered_on=d0, filed_on=d0,
                            owner="承办人乙")["number"]
        cases.advance(store, SYSTEM, o, n, on=d0 + timedelta(days=1), note="调取在线监测数据")
        cases.add_penalty(store, SYSTEM, o, n, kind="fine", amount_yuan=120_000)
        cases.advance(store, SYSTEM, o, n, on=d0 + timedelta(days=2))
        cases.advance(store, SYSTEM, o, n, "decided", on=d0 + timedelta(days=3), waived=True, note="书面放弃听证")
        doc = D.generate(store, SYSTEM, o, n, "penalty_decision")
        rating = credit.rate(store, SYSTEM, o, date.today().year, uscc=uscc)[0]
        I.import_objects(store, SYSTEM, o, data=("uscc,category\n" + "".join(f"{u},key\n" for u in ents)).encode())
        I.import_inspectors(store, SYSTEM, o, data="code,name,region\nWA,检查员甲,130100\nWB,检查员乙,130100\n"
                                                   "WC,检查员丙,130100\n".encode())
        draw = I.perform(store, SYSTEM, o, period="2026-11", seed="web-page-seed", ratios={"key": 1.0})
        I.publish(store, SYSTEM, o, draw["id"])
        inp = C.ComplaintInput(category="air", description="工厂烟囱冒黑烟，持续两个小时以上", lon=114.4548, lat=38.0513)
        code = C.submit(store, inp, demo.data_dir)["tracking_code"]
        for to, kw in (("accepted", {}), ("handling", {}), ("handled", {"note": "已责令停产整治"}),
                       ("replied", {"reply": "经查属实，已责令停产整治。"}), ("visited", {"satisfaction": "satisfied"}),
                       ("closed", {})):
            L.advance(store, SYSTEM, o, code, to, **kw)
        waiting = C.submit(store, inp, demo.data_dir)["tracking_code"]
        L.advance(store, SYSTEM, o, waiting, "accepted", supervisor="科长丙")
    finally:
        store.close()
    return {"case": n, "doc": doc, "uscc": uscc, "rating": rating, "draw": draw, "complaint": code,
            "waiting": waiting}


def test_case_credit_draw_and_result_pages(web_page, demo):
    w = _world(demo)
    p = web_page.page
    web_page.login("officer_t", next_path="/cases/" + w["case"])
    p.wait_for_selector(f"body[data-case='{w['case']}']")
    steps = p.eval_on_selector_all("#cp-timeline li", "els => els.map(e => e.dataset.step)")
    assert steps == ["clue", "filed", "investigating", "notified", "decided"]
    assert "书面放弃听证" in p.inner_text("#cp-timeline")
    assert "120000" in p.inner_text("#cp-penalties") and w["doc"]["sha256"] in p.inner_text("#cp-documents")
    with p.expect_download(timeout=20_000) as dl:
        p.click(f"#cp-documents button[data-doc='{w['doc']['id']}']")
    assert dl.value.suggested_filename.endswith(".docx")
    web_page.shot("case-page")
    web_page.goto("/workbench")  # the complaint loop's open stages with their deadlines
    p.wait_for_selector(f"#wb-complaints tr[data-complaint='{w['waiting']}']")
    assert p.query_selector(f"#wb-complaints tr[data-complaint='{w['complaint']}']") is None  # closed
    p.wait_for_selector(f"#wb-cases a[data-page='{w['case']}']")
    p.wait_for_selector("body[data-inspections]")  # the published draw of 2026-11: its objects, not yet inspected
    assert int(p.get_attribute("body", "data-inspections")) == len(w["draw"]["items"]) > 0
    assert "检查员" in p.inner_text("#wb-inspections") and "2026-11-30" in p.inner_text("#wb-inspections")
    web_page.goto(f"/credit/{w['uscc']}")
    p.wait_for_selector(f"body[data-credit='{w['rating']['level']}']")
    assert p.get_attribute("#cr-level", "data-level") == w["rating"]["level"]
    assert p.query_selector("#cr-points tr[data-indicator='cases_decided']") is not None  # the case costs points
    assert str(w["rating"]["score"]) in p.inner_text("#cr-level")
    web_page.shot("credit-page")
    web_page.goto(f"/credit/{w['uscc']}?lang=en")
    p.wait_for_selector("body[data-credit]")
    assert "Facts and points" in p.inner_text("main")
    # the public pages need no sign-in
    web_page.goto(f"/disclosure/draws/{w['draw']['id']}?lang=zh")
    p.wait_for_selector(f"body[data-draw='{w['draw']['id']}']")
    assert w["draw"]["result_sha256"] in p.inner_text("#dp-head") and "web-page-seed" in p.inner_text("#dp-head")
    assert len(p.query_selector_all("#dp-items tbody tr")) == len(w["draw"]["items"])
    assert "检查员" not in p.inner_text("main")  # the inspectors are not published
    p.click("#dp-verify")
    p.wait_for_selector("#dp-verified[data-same='1']")
    web_page.shot("draw-public")
    web_page.goto("/disclosure")
    p.wait_for_selector("body[data-ready='1']")
    assert "已责令停产整治" in p.inner_text("#pub-results")
    p.wait_for_selector(f"#pub-draws a[data-draw='{w['draw']['id']}']")
    web_page.goto(f"/complaints/{w['complaint']}")
    p.wait_for_selector("#track-published")
    assert "已责令停产整治" in p.inner_text("#track-published")
    assert web_page.problems() == []
