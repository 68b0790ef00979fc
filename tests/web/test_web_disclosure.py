"""In the browser, anonymously: the public disclosure page lists a decided penalty (and nothing of an undecided
case), with text from data shown as text."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from ecohub.store.audit import Origin
from ecohub.store.queries import SYSTEM
from ecohub.store.schema import enterprise
from ecohub.supervision.cases import service as cases


def test_public_page_shows_decided_penalty(web_page, demo):
    store = demo.store()
    o = Origin("e2e", "system")
    try:
        with store.engine.begin() as c:
            uscc = c.scalar(select(enterprise.c.uscc).where(enterprise.c.region_code.startswith("1301"))
                            .order_by(enterprise.c.id))
            c.execute(update(enterprise).where(enterprise.c.uscc == uscc).values(name="<b>示例</b>企业"))
        start = date.today() - timedelta(days=3)
        n = cases.open_case(store, SYSTEM, o, uscc=uscc, violation="air_exceed", discovered_on=start,
                            filed_on=start)["number"]
        cases.advance(store, SYSTEM, o, n, on=start + timedelta(days=1))
        cases.add_penalty(store, SYSTEM, o, n, kind="fine", amount_yuan=300_000)
        cases.advance(store, SYSTEM, o, n, on=start + timedelta(days=2))
        cases.advance(store, SYSTEM, o, n, "decided", on=start + timedelta(days=3), waived=True)
        undecided = cases.open_case(store, SYSTEM, o, uscc=uscc, violation="water_exceed", discovered_on=start,
                                    filed_on=start)["number"]
    finally:
        store.close()
    p = web_page.page
    web_page.goto("/disclosure")
    p.wait_for_selector("body[data-ready]")
    text = p.inner_text("#pub-penalties")
    assert n in text and "300000" in text and "第九十九条" in text and undecided not in text
    assert "<b>示例</b>企业" in text and p.query_selector("#pub-penalties b") is None  # shown as text
    web_page.shot("public-disclosure")
    assert web_page.problems() == []
