"""The complaint loop (12369): transfer to the county, stage deadlines on working days, overdue alerts to the
supervisor, merging of duplicates with one reply, links complaint → inspection → case, return visit, publication;
every undeclared step refused with a reason and nothing half-saved; scope walls — on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from permit_support import ENT, make_enterprise
from sqlalchemy import func, select

from ecohub.domain.errors import InputError, NotFound
from ecohub.store.audit import Origin
from ecohub.store.audit import query as audit_query
from ecohub.store.queries import Scope
from ecohub.store.schema_alerts import alert
from ecohub.store.schema_supervision import complaint_event, complaint_handling
from ecohub.supervision import complaint_loop as L
from ecohub.supervision import complaint_machine as M
from ecohub.supervision import complaints as C
from ecohub.supervision.cases import service as cases
from ecohub.supervision.inspect import records

P = (114.4548, 38.0513)  # 石家庄市 新华区
P_30M = (114.4548 + 0.00034, 38.0513)
P_2KM = (114.4548 + 0.023, 38.0513)
CITY = Scope("officer", region_code="130100", name="city-officer")
COUNTY = Scope("officer", region_code="130105", name="county-officer")
OTHER = Scope("officer", region_code="130200", name="tangshan-officer")
ADMIN = Scope("admin", name="a1")
O_CITY = Origin("city-officer", "officer")
O_COUNTY = Origin("county-officer", "officer")
T0 = datetime(2026, 9, 28, 2, tzinfo=UTC)  # Monday 10:00 Beijing, before National Day


def _submit(store, tmp_path, at=T0, where=P, category="air"):
    inp = C.ComplaintInput(category=category, description="工厂烟囱冒黑烟，持续两个小时以上", lon=where[0], lat=where[1],
                           phone="13812345678")
    return C.submit(store, inp, tmp_path, now=at)["tracking_code"]


def _events(store, code):
    return [h["status"] for h in C.track(store, code)["history"]]


# --- the declaration (pure) -----------------------------------------------------------------------------------
def test_every_undeclared_step_is_refused_with_a_reason():
    for frm in M.STAGES:
        for to in M.STAGES:
            why = M.refusal(frm, to)
            assert (why is None) == ((frm, to) in M.TRANSITIONS)
            if why:
                assert frm in why
    assert "unknown stage" in M.refusal("received", "done")
    assert set(M.STATUS_OF) == set(M.STAGES) and set(M.DUE) == set(M.STAGES)
    assert set(M.STATUS_OF.values()) <= set(C.STATUSES)


def test_stage_deadlines_count_working_days_over_national_day():
    from datetime import date

    # accepted Wednesday 2026-09-30: 3 working days → 10-08, 10-09, 10-10 (a Saturday worked, 调休)
    assert M.due("accepted", entered=date(2026, 9, 30), submitted=date(2026, 9, 28), accepted=None) == date(2026, 10, 10)
    # received: 15 calendar days from submission, ending on a holiday → the next working day (民法典 art. 203)
    assert M.due("received", entered=date(2026, 9, 20), submitted=date(2026, 9, 20), accepted=None) == date(2026, 10, 8)
    # handling: 60 days counted from acceptance, not from entering the stage
    assert M.due("handling", entered=date(2026, 3, 20), submitted=date(2026, 3, 1),
                 accepted=date(2026, 3, 2)) == date(2026, 5, 6)  # 05-01 … 05-05 off
    assert M.due("closed", entered=date(2026, 3, 2), submitted=date(2026, 3, 2), accepted=None) is None


# --- with a store ---------------------------------------------------------------------------------------------
@pytest.fixture
def ent(store):
    make_enterprise(store, code=ENT, region="130105", outlets=(("C-GAS1", "gas_outlet"),))
    return store


def test_the_whole_loop_transfer_links_visit_and_publication(ent, tmp_path):
    store = ent
    code = _submit(store, tmp_path)
    assert C.get_complaint(store, COUNTY, code) is not None  # located in 新华区 already
    out = L.advance(store, CITY, O_CITY, code, "accepted", supervisor="chief-city", now=T0 + timedelta(hours=2))
    assert out["stage_due"] == "2026-10-08"
    h = L.handling(store, CITY, code)
    assert h["handler"] == "city-officer" and h["supervisor"] == "chief-city" and h["stage_due"] == "2026-10-08"
    L.advance(store, CITY, O_CITY, code, "transferred", region_code="130105", now=T0 + timedelta(days=1))
    h = L.handling(store, COUNTY, code)
    assert h["stage"] == "transferred" and h["transferred_to"] == "130105" and h["located_region"] == "130105"
    L.advance(store, COUNTY, O_COUNTY, code, "handling", now=T0 + timedelta(days=2))
    assert L.handling(store, COUNTY, code)["handler"] == "county-officer"
    # the targeted inspection and the case it led to
    insp = records.record(store, COUNTY, O_COUNTY, uscc=ENT, inspected_at=T0 + timedelta(days=2, hours=1),
                          inspectors=["i1", "i2"], trigger_kind="complaint", trigger_ref=code,
                          findings="除尘设施未运行", now=T0 + timedelta(days=2, hours=3))
    case = cases.open_case(store, COUNTY, O_COUNTY, uscc=ENT, violation="air_exceed", source_kind="complaint",
                           source_ref=code, discovered_on="2026-09-30", filed_on="2026-09-30",
                           today=(T0 + timedelta(days=2)).date(), now=T0 + timedelta(days=2, hours=4))
    L.link(store, COUNTY, O_COUNTY, code, inspection_id=insp["id"], case=case["number"])
    h = L.handling(store, COUNTY, code)
    assert h["inspection_id"] == insp["id"] and h["case"] == case["number"]
    with pytest.raises(InputError, match="already linked"):
        other = records.record(store, COUNTY, O_COUNTY, uscc=ENT, inspected_at=T0 + timedelta(days=2, hours=2),
                               inspectors=["i1", "i3"], trigger_kind="alert", trigger_ref="9",
                               now=T0 + timedelta(days=2, hours=3))
        L.link(store, COUNTY, O_COUNTY, code, inspection_id=other["id"])
    L.advance(store, COUNTY, O_COUNTY, code, "handled", note="现场检查发现除尘设施未运行，已立案查处",
              now=T0 + timedelta(days=10))
    with pytest.raises(InputError) as e:
        L.advance(store, COUNTY, O_COUNTY, code, "replied", now=T0 + timedelta(days=11))
    assert e.value.field == "reply"
    L.advance(store, COUNTY, O_COUNTY, code, "replied", reply="经查属实，已立案处罚并责令整改。",
              now=T0 + timedelta(days=11))
    L.advance(store, COUNTY, O_COUNTY, code, "visited", satisfaction="unsatisfied", note="仍有异味",
              now=T0 + timedelta(days=12))
    assert L.public_result(store, code) is None  # not published yet
    L.advance(store, COUNTY, O_COUNTY, code, "handling", note="回访不满意，复查", now=T0 + timedelta(days=13))
    L.advance(store, COUNTY, O_COUNTY, code, "handled", note="复查：设施已恢复运行", now=T0 + timedelta(days=15))
    L.advance(store, COUNTY, O_COUNTY, code, "replied", reply="复查确认已整改。", now=T0 + timedelta(days=16))
    L.advance(store, COUNTY, O_COUNTY, code, "visited", satisfaction="satisfied", now=T0 + timedelta(days=17))
    with pytest.raises(L.IllegalStep, match="unsatisfied"):
        L.advance(store, COUNTY, O_COUNTY, code, "handling", note="again", now=T0 + timedelta(days=17))
    out = L.advance(store, COUNTY, O_COUNTY, code, "closed", now=T0 + timedelta(days=18))
    assert out["status"] == "closed" and out["stage_due"] is None
    pub = L.public_result(store, code)
    assert pub["result"] == "复查：设施已恢复运行" and pub["satisfaction"] == "satisfied"
    rows = L.public_results(store, region_code="130100")
    assert len(rows) == 1 and "phone" not in rows[0] and "description" not in rows[0]
    assert _events(store, code) == ["received", "accepted", "transferred", "handling", "handled", "replied",
                                    "visited", "handling", "handled", "replied", "visited", "closed"]
    assert C.track(store, code)["status"] == "closed"
    audited = audit_query(store, target=f"complaint:{code}", limit=50)
    assert sum(a["action"] == "complaint_stage" for a in audited) == 11
    assert sum(a["action"] == "complaint_link" for a in audited) == 1


def test_deadline_of_acceptance_and_overdue_alert_to_the_supervisor(store, tmp_path):
    code = _submit(store, tmp_path)
    out = L.advance(store, CITY, O_CITY, code, "accepted", supervisor="chief-city", now=T0 + timedelta(hours=1))
    assert out["stage_due"] == "2026-10-08"  # Monday 09-28 + 3 working days: 29, 30, (10-01 … 10-07 off), 10-08
    assert L.check_overdue(store, today=datetime(2026, 10, 8).date(), now=T0) == []
    raised = L.check_overdue(store, today=datetime(2026, 10, 12).date(), now=T0 + timedelta(days=14))
    assert [(r["stage"], r["notify"]) for r in raised] == [("accepted", "chief-city")]
    with store.engine.connect() as conn:
        a = conn.execute(select(alert).where(alert.c.rule == L.OVERDUE_RULE)).mappings().one()
    assert a["details"]["notify"] == "chief-city" and a["details"]["days_overdue"] == 4
    L.advance(store, CITY, O_CITY, code, "handling", now=T0 + timedelta(days=14, hours=1))
    with store.engine.connect() as conn:
        assert conn.scalar(select(alert.c.active).where(alert.c.id == a["id"])) is False


def test_duplicates_merge_and_share_one_reply(store, tmp_path):
    first = _submit(store, tmp_path)
    second = _submit(store, tmp_path, at=T0 + timedelta(days=1), where=P_30M)
    far = _submit(store, tmp_path, at=T0 + timedelta(days=1), where=P_2KM)
    noise = _submit(store, tmp_path, at=T0 + timedelta(days=1), category="noise")
    late = _submit(store, tmp_path, at=T0 + timedelta(days=45))
    L.advance(store, CITY, O_CITY, first, "accepted", now=T0 + timedelta(hours=1))
    for other, why in ((far, "m away"), (noise, "another category"), (late, "days apart"), (second, "itself")):
        with pytest.raises(InputError, match=why) as e:
            L.advance(store, CITY, O_CITY, other, "merged", target=second if other == second else first,
                      now=T0 + timedelta(days=2))
        assert e.value.field == "target"
    with pytest.raises(InputError) as e:
        L.advance(store, CITY, O_CITY, second, "merged", now=T0 + timedelta(days=2))
    assert e.value.field == "target"
    L.advance(store, CITY, O_CITY, second, "merged", target=first, now=T0 + timedelta(days=2))
    assert L.handling(store, CITY, first)["merged"] == [second]
    assert L.handling(store, CITY, second)["merged_into"] == first
    assert C.track(store, second)["status"] == "closed"
    with pytest.raises(InputError, match="merged"):  # not into a merged one
        L.advance(store, CITY, O_CITY, far, "merged", target=second, now=T0 + timedelta(days=2))
    L.advance(store, CITY, O_CITY, first, "handling", now=T0 + timedelta(days=3))
    L.advance(store, CITY, O_CITY, first, "handled", note="责令停产整治", now=T0 + timedelta(days=4))
    L.advance(store, CITY, O_CITY, first, "replied", reply="已责令停产整治。", now=T0 + timedelta(days=5))
    hist = C.track(store, second)["history"]
    assert [h["status"] for h in hist] == ["received", "merged", "replied"]
    assert hist[-1]["note"] == "已责令停产整治。" and first not in hist[1]["note"]  # no other complainant's code
    L.advance(store, CITY, O_CITY, first, "visited", satisfaction="basic", now=T0 + timedelta(days=6))
    L.advance(store, CITY, O_CITY, first, "closed", now=T0 + timedelta(days=7))
    assert L.public_result(store, second) == L.public_result(store, first) | {"merged": True}


def test_illegal_steps_and_bad_input_leave_nothing_half_saved(store, tmp_path):
    code = _submit(store, tmp_path)

    def count():
        with store.engine.connect() as conn:
            return (conn.scalar(select(func.count()).select_from(complaint_event)),
                    conn.scalar(select(func.count()).select_from(complaint_handling)))

    before = count()
    with pytest.raises(L.IllegalStep, match="received .* cannot move to replied"):
        L.advance(store, CITY, O_CITY, code, "replied", reply="x", now=T0)
    L.advance(store, CITY, O_CITY, code, "accepted", now=T0)
    mid = count()
    assert mid[0] == before[0] + 1
    for kw, field in (({"region_code": "999999"}, "region"), ({}, "region")):
        with pytest.raises(InputError) as e:
            L.advance(store, CITY, O_CITY, code, "transferred", now=T0, **kw)
        assert e.value.field == field
    with pytest.raises(PermissionError, match="outside"):
        L.advance(store, CITY, O_CITY, code, "transferred", region_code="130202", now=T0)
    with pytest.raises(InputError) as e:
        L.advance(store, CITY, O_CITY, code, "handled", note="x" * 2001, now=T0)
    assert e.value.field == "note"
    with pytest.raises(InputError) as e:
        L.link(store, CITY, O_CITY, code, inspection_id=424242)
    assert e.value.field == "inspection"
    with pytest.raises(InputError) as e:
        L.link(store, CITY, O_CITY, code, case="130105-2026-9999")
    assert e.value.field == "case"
    assert count() == mid and L.handling(store, CITY, code)["stage"] == "accepted"
    L.advance(store, CITY, O_CITY, code, "handling", now=T0)
    L.advance(store, CITY, O_CITY, code, "handled", note="已处理", now=T0)
    L.advance(store, CITY, O_CITY, code, "replied", reply="已处理", now=T0)
    with pytest.raises(InputError) as e:
        L.advance(store, CITY, O_CITY, code, "visited", satisfaction="great", now=T0)
    assert e.value.field == "satisfaction"
    L.advance(store, CITY, O_CITY, code, "closed", note="举报人电话无法接通", now=T0)
    with pytest.raises(L.IllegalStep, match="finished complaint"):
        L.advance(store, CITY, O_CITY, code, "handling", now=T0)
    assert L.public_result(store, code) is None  # closed without a return visit: not published


def test_scope_walls(store, tmp_path):
    code = _submit(store, tmp_path)
    with pytest.raises(NotFound):
        L.advance(store, OTHER, Origin("tangshan-officer", "officer"), code, "accepted", now=T0)
    with pytest.raises(NotFound):
        L.handling(store, OTHER, code)
    with pytest.raises(PermissionError):
        L.advance(store, Scope("analyst"), Origin("x", "analyst"), code, "accepted", now=T0)
    with pytest.raises(PermissionError):
        L.advance(store, Scope("enterprise", enterprise_id=1), Origin("e", "enterprise"), code, "accepted", now=T0)
    L.advance(store, ADMIN, Origin("a1", "admin"), code, "accepted", now=T0)
    # transferred to another county of the city: that county's officers handle it, 新华区's no longer see it
    L.advance(store, CITY, O_CITY, code, "transferred", region_code="130104", now=T0)
    assert L.handling(store, Scope("officer", region_code="130104"), code)["stage"] == "transferred"
    with pytest.raises(NotFound):
        L.handling(store, COUNTY, code)
    assert L.handling(store, CITY, code)["located_region"] == "130105"


def test_cli_advance_show_and_overdue(sqlite_store, tmp_path):
    import json

    from typer.testing import CliRunner

    from ecohub.cli.main import app

    code = _submit(sqlite_store, tmp_path)
    url = str(sqlite_store.engine.url)
    run = lambda *a: CliRunner().invoke(app, ["complaint", *a, "--database-url", url])  # noqa: E731
    r = run("advance", code, "replied", "--reply", "x")
    assert r.exit_code == 2 and "cannot move to replied" in r.output
    r = run("advance", C.format_code(code), "accepted", "--supervisor", "chief", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["stage"] == "accepted" and json.loads(r.output)["supervisor"] == "chief"
    r = run("advance", code, "transferred", "--region", "130104")
    assert r.exit_code == 0 and "130104" in r.output
    r = run("check-overdue", "--json")  # accepted today: nothing is overdue yet
    assert r.exit_code == 0 and json.loads(r.output) == []
    r = CliRunner().invoke(app, ["complaint", "advance", "--help"])
    assert "county" in r.output and "satisfied" in r.output
    assert any(a["actor"].startswith("cli:") for a in audit_query(sqlite_store, target=f"complaint:{code}"))
