"""In the browser: the officer's workbench lists the cases of his region with their deadlines (overdue marked)
and shows a case's timeline; a case of another city is not listed."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from ecohub.store.audit import Origin
from ecohub.store.queries import SYSTEM
from ecohub.store.schema import enterprise
from ecohub.supervision.cases import service as cases


def test_workbench_cases_and_timeline(web_page, demo):
    store = demo.store()
    o = Origin("承办人甲", "system")
    try:
        with store.engine.connect() as c:
            mine = c.scalar(select(enterprise.c.uscc).where(enterprise.c.region_code.startswith("1301"))
                            .order_by(enterprise.c.id))
            other = c.scalar(select(enterprise.c.uscc).where(~enterprise.c.region_code.startswith("1301"))
                             .order_by(enterprise.c.id))
        old = date.today() - timedelta(days=120)
        overdue = cases.open_case(store, SYSTEM, o, uscc=mine, violation="air_exceed", discovered_on=old,
                                  filed_on=old, owner="承办人甲")["number"]
        cases.advance(store, SYSTEM, o, overdue, on=old + timedelta(days=1), note="现场检查取证")
        hidden = cases.open_case(store, SYSTEM, o, uscc=other, violation="air_exceed")["number"] if other else None
    finally:
        store.close()
    p = web_page.page
    web_page.login("officer_t", next_path="/workbench")
    p.wait_for_selector(f"#wb-cases tr[data-case='{overdue}'][data-overdue='1']")
    if hidden:
        assert p.query_selector(f"#wb-cases tr[data-case='{hidden}']") is None
    p.check("#wb-overdue")
    p.wait_for_selector(f"#wb-cases tr[data-case='{overdue}']")
    p.click(f"a[data-open='{overdue}']")
    p.wait_for_selector(f"body[data-timeline='{overdue}']")
    steps = p.eval_on_selector_all("#wb-timeline li", "els => els.map(e => e.dataset.step)")
    assert steps == ["clue", "filed", "investigating"]
    assert "现场检查取证" in p.inner_text("#wb-timeline")
    web_page.shot("workbench-timeline")
    assert web_page.problems() == []
