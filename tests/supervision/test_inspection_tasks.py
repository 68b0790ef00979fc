"""Inspection tasks of the workbench: every object of an open draw is a task until an inspection is filed against
its draw item; due on the period's last day; overdue after; the caller's own first; scope by region; a random
inspection only against an item of an open draw for that enterprise."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from permit_support import uscc

from ecohub.domain.errors import InputError
from ecohub.store import registry as R
from ecohub.store.audit import Origin
from ecohub.store.queries import SYSTEM, Scope
from ecohub.supervision.inspect import records, service
from ecohub.supervision.inspect import tasks as T

ORIG = Origin("admin", "admin")
IN_PERIOD = datetime(2026, 11, 20, 4, tzinfo=UTC)
AFTER = datetime(2026, 12, 2, 4, tzinfo=UTC)


@pytest.fixture
def drawn(store):
    ents = [uscc(f"9113020{i:02d}MA000000") for i in range(4)]
    with store.engine.begin() as c:
        for i, u in enumerate(ents):
            R.add_enterprise(c, u, f"任务企业{i}", "130102" if i < 2 else "130202")  # 石家庄 ×2, 唐山 ×2
    service.import_objects(store, SYSTEM, ORIG, data=("uscc,category\n" + "".join(f"{u},key\n" for u in ents)).encode())
    service.import_inspectors(store, SYSTEM, ORIG, data=("code,name,region,qualifications,linked\n" + "".join(
        f"insp{j},检查员{j},{'130100' if j < 3 else '130200'},执法证,\n" for j in range(6))).encode())
    d = service.perform(store, SYSTEM, ORIG, period="2026-11", seed="tasks", ratios={"key": 1.0})
    return store, ents, d


def test_tasks_due_overdue_mine_and_done(drawn):
    store, ents, d = drawn
    admin = Scope("admin", name="root")
    tasks = T.inspection_tasks(store, admin, now=IN_PERIOD)
    assert sorted(t["enterprise_uscc"] for t in tasks) == sorted(ents)
    assert {t["due"] for t in tasks} == {"2026-11-30"} and not any(t["overdue"] for t in tasks)
    assert all(len(t["inspectors"]) == 2 for t in tasks) and tasks[0]["days_left"] == 10
    assert T.inspection_tasks(store, admin, now=IN_PERIOD, overdue_only=True) == []
    late = T.inspection_tasks(store, admin, now=AFTER, overdue_only=True)
    assert len(late) == 4 and all(t["days_left"] == -2 for t in late)
    # the officer of 石家庄 sees his region's two; his own (as one of the two inspectors) first
    sjz = [t for t in tasks if t["region_code"] == "130102"]
    crew = sjz[0]["inspectors"][0]["code"]
    officer = Scope("officer", region_code="130100", name=crew)
    mine = T.inspection_tasks(store, officer, now=IN_PERIOD)
    assert {t["region_code"] for t in mine} == {"130102"} and len(mine) == 2
    assert mine[0]["mine"] and mine[0]["enterprise_uscc"] == sjz[0]["enterprise_uscc"]
    assert all(t["mine"] for t in T.inspection_tasks(store, officer, now=IN_PERIOD, mine_only=True))
    # filing the random inspection against the item closes the task
    item = mine[0]["draw_item_id"]
    records.record(store, officer, Origin(crew, "officer"), uscc=mine[0]["enterprise_uscc"], inspected_at=IN_PERIOD,
                   inspectors=[i["name"] for i in mine[0]["inspectors"]], kind="random", draw_item_id=item,
                   now=AFTER)
    left = T.inspection_tasks(store, officer, now=IN_PERIOD)
    assert [t["draw_item_id"] for t in left] == [t["draw_item_id"] for t in mine[1:]]
    # closing the period ends the remaining tasks
    service.close(store, SYSTEM, ORIG, d["id"])
    assert T.inspection_tasks(store, admin, now=AFTER) == []
    assert T.period_due("2028-02") == date(2028, 2, 29)


def test_random_inspection_needs_an_open_item_of_that_enterprise(drawn):
    store, ents, d = drawn
    admin = Scope("admin", name="root")
    tasks = {t["enterprise_uscc"]: t for t in T.inspection_tasks(store, admin, now=IN_PERIOD)}
    kw = dict(inspected_at=IN_PERIOD, inspectors=["甲", "乙"], kind="random", now=AFTER)
    with pytest.raises(InputError, match="no such draw item"):
        records.record(store, admin, ORIG, uscc=ents[0], draw_item_id=999_999, **kw)
    with pytest.raises(InputError, match=f"not for enterprise {ents[0]}"):
        records.record(store, admin, ORIG, uscc=ents[0], draw_item_id=tasks[ents[1]]["draw_item_id"], **kw)
    service.close(store, SYSTEM, ORIG, d["id"])
    with pytest.raises(InputError, match="closed"):
        records.record(store, admin, ORIG, uscc=ents[0], draw_item_id=tasks[ents[0]]["draw_item_id"], **kw)
    assert records.list_inspections(store, admin) == []


def test_tasks_are_for_staff(drawn):
    store, _, _ = drawn
    for scope in (Scope("enterprise", enterprise_id=1), Scope("public"), Scope("officer")):
        with pytest.raises(PermissionError):
            T.inspection_tasks(store, scope)


def test_cli_tasks(sqlite_store):
    import json

    from typer.testing import CliRunner

    from ecohub.cli.main import app

    store = sqlite_store
    with store.engine.begin() as c:
        R.add_enterprise(c, uscc("911302990MA000000"), "任务企业CLI", "130102")
    service.import_objects(store, SYSTEM, ORIG, data=f"uscc,category\n{uscc('911302990MA000000')},key\n".encode())
    service.import_inspectors(store, SYSTEM, ORIG, data="code,name,region\nA,甲,130100\nB,乙,130100\n".encode())
    service.perform(store, SYSTEM, ORIG, period="2026-11", seed="cli", ratios={"key": 1.0})
    r = CliRunner().invoke(app, ["inspect", "tasks", "--json", "--database-url", str(store.engine.url)])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert [x["enterprise_name"] for x in rows] == ["任务企业CLI"] and rows[0]["due"] == "2026-11-30"
