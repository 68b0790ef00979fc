"""Enforcement cases: the procedure declared once (every illegal transition refused with a reason), deadlines on
working days from the shipped holiday calendar, daily continuous penalties, overdue alerts, audit, scope walls,
bad input leaving nothing half-saved — on both backends."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from permit_support import ENT, ENT2, make_enterprise
from sqlalchemy import func, select
from typer.testing import CliRunner

from ecohub.domain.errors import InputError, NotFound
from ecohub.store.audit import Origin
from ecohub.store.audit import query as audit_query
from ecohub.store.queries import Scope
from ecohub.store.schema_alerts import alert
from ecohub.store.schema_enforcement import enf_case, enf_case_event, enf_penalty
from ecohub.supervision import workdays
from ecohub.supervision.cases import machine, penalties, service

ORIG = Origin("officer-a", "officer")
TODAY = date(2026, 6, 30)
NOW = datetime(2026, 6, 30, 8, tzinfo=UTC)
A = Scope("officer", region_code="130102", name="officer-a")
B = Scope("officer", region_code="130104", name="officer-b")


# --- working days (pure) --------------------------------------------------------------------------------------
def test_working_days_follow_the_state_council_notice():
    # 2026 Spring Festival: 2-15 … 2-23 off, Saturday 2-14 and 2-28 worked
    assert workdays.is_working_day(date(2026, 2, 14))
    assert not workdays.is_working_day(date(2026, 2, 16))
    assert workdays.is_working_day(date(2026, 2, 28))
    assert not workdays.is_working_day(date(2026, 3, 1))  # an ordinary Sunday
    # 5 working days after Thursday 2026-02-12: 13 (Fri), 14 (Sat, worked), 24, 25, 26
    assert workdays.add_working_days(date(2026, 2, 12), 5) == date(2026, 2, 26)
    # National Day 2026: 10-01 … 10-07 off, Saturday 10-10 worked; from Wednesday 09-30: 10-08, 10-09, 10-10, 10-12
    assert workdays.add_working_days(date(2026, 9, 30), 4) == date(2026, 10, 12)
    # 2025 National Day + Mid-Autumn: 10-01 … 10-08 off
    assert workdays.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    # a calendar-day period ending on a holiday ends on the next working day (民法典 art. 203)
    assert workdays.add_calendar_days(date(2026, 9, 16), 15) == date(2026, 10, 8)
    assert workdays.working_days_between(date(2026, 2, 12), date(2026, 2, 26)) == 5


def test_calendar_reach_is_stated_and_enforced():
    assert workdays.coverage() == (date(2025, 1, 1), date(2026, 12, 31))
    with pytest.raises(workdays.CalendarRangeError, match="2027-01-04"):
        workdays.is_working_day(date(2027, 1, 4))
    # the case workflow goes on beyond the calendar on weekends only, and says so
    assert workdays.add_working_days(date(2026, 12, 30), 5, strict=False) == date(2027, 1, 6)
    assert workdays.provisional(date(2027, 1, 6)) and not workdays.provisional(date(2026, 12, 31))


def test_daily_fine_worked_value():
    d = penalties.daily_fine(100_000, date(2026, 3, 2), date(2026, 4, 1))
    assert (d.from_date, d.to_date, d.days, d.amount_yuan) == (date(2026, 3, 3), date(2026, 4, 1), 30, 3_000_000)
    with pytest.raises(InputError, match="recheck_on"):
        penalties.daily_fine(100_000, date(2026, 4, 1), date(2026, 3, 2))


def test_every_undeclared_transition_is_refused_with_a_reason():
    for frm in machine.STATES:
        for to in machine.STATES:
            why = machine.refusal(frm, to)
            if (frm, to) in machine.TRANSITIONS:
                assert why is None
            else:
                assert why and (frm in why or "finished" in why)


# --- with a store ---------------------------------------------------------------------------------------------
@pytest.fixture
def ents(store):
    make_enterprise(store, code=ENT, region="130102", outlets=(("C-GAS1", "gas_outlet"),))
    make_enterprise(store, code=ENT2, region="130104", outlets=(("C-GAS2", "gas_outlet"),))
    return store


def _open(store, **kw):
    args = dict(uscc=ENT, violation="air_exceed", source_kind="alert", source_ref="17",
                discovered_on="2026-01-05", filed_on="2026-01-06", supervisor="chief-a", today=TODAY, now=NOW)
    args.update(kw)
    return service.open_case(store, A, ORIG, **args)


def test_case_from_filing_to_closing(ents):
    store = ents
    c = _open(store)
    assert c["state"] == "filed" and c["decision_due"] == "2026-04-07"  # 01-06 + 90 days = 04-06, 清明 holiday → 04-07
    n = c["number"]
    assert service.advance(store, A, ORIG, n, on="2026-01-20", today=TODAY, now=NOW)["state"] == "investigating"
    with pytest.raises(InputError, match="needs at least one proposed penalty"):
        service.advance(store, A, ORIG, n, on="2026-02-12", today=TODAY, now=NOW)
    service.add_penalty(store, A, ORIG, n, kind="fine", amount_yuan=200_000, now=NOW)
    service.add_penalty(store, A, ORIG, n, kind="daily_fine", base_yuan=200_000, served_on="2026-01-21",
                        recheck_on="2026-02-10", now=NOW)
    c = service.advance(store, A, ORIG, n, on="2026-02-12", today=TODAY, now=NOW)  # 告知
    assert c["state"] == "notified" and c["state_due"] == "2026-02-26"  # 5 working days over Spring Festival
    with pytest.raises(InputError, match="may still request a hearing until 2026-02-26"):
        service.advance(store, A, ORIG, n, "decided", on="2026-02-25", today=TODAY, now=NOW)
    c = service.advance(store, A, ORIG, n, "decided", on="2026-02-27", today=TODAY, now=NOW)
    assert c["state_due"] == "2026-03-09"  # 7 working days: 2-28 (Saturday, worked), 3-2 … 3-6, 3-9
    c = service.advance(store, A, ORIG, n, on="2026-03-02", today=TODAY, now=NOW)  # served → executing
    assert c["state"] == "executing" and c["state_due"] == "2026-03-17"
    with pytest.raises(InputError, match="fines not paid"):
        service.close(store, A, ORIG, n, on="2026-03-20", today=TODAY, now=NOW)
    for p in c["penalties"]:
        service.mark_paid(store, A, ORIG, n, p["id"], paid_on="2026-03-10", now=NOW)
    c = service.close(store, A, ORIG, n, on="2026-03-20", today=TODAY, now=NOW)
    assert c["state"] == "closed" and c["penalty_total_yuan"] == 200_000 + 200_000 * 20
    assert [e["to_state"] for e in c["timeline"]] == ["clue", "filed", "investigating", "notified", "decided",
                                                      "executing", "closed"]
    with pytest.raises(InputError, match="finished case"):
        service.advance(store, A, ORIG, n, "executing", on="2026-03-21", today=TODAY, now=NOW)
    audited = audit_query(store, target=f"case:{n}", limit=50)
    assert sum(a["action"] == "case_transition" for a in audited) == 6
    assert all(a["actor"] == "officer-a" for a in audited)
    pub = service.public_penalties(store)
    assert pub[0]["number"] == n and "owner" not in pub[0] and pub[0]["penalties"][1]["days"] == 20


def test_service_deadline_counts_working_days(ents):
    c = _open(ents)
    n = c["number"]
    service.advance(ents, A, ORIG, n, on="2026-01-07", today=TODAY, now=NOW)
    service.add_penalty(ents, A, ORIG, n, kind="warning", now=NOW)
    service.advance(ents, A, ORIG, n, on="2026-02-02", today=TODAY, now=NOW)
    c = service.advance(ents, A, ORIG, n, "decided", on="2026-02-03", waived=True, note="当事人书面放弃听证",
                        today=TODAY, now=NOW)
    # 7 working days after Tuesday 2026-02-03: 4, 5, 6, 9, 10, 11, 12
    assert c["state_due"] == "2026-02-12"
    assert c["timeline"][-1]["detail"]["hearing_waived"] is True


def test_hearing_request_after_the_window_is_refused(ents):
    n = _open(ents)["number"]
    service.advance(ents, A, ORIG, n, on="2026-01-07", today=TODAY, now=NOW)
    service.add_penalty(ents, A, ORIG, n, kind="fine", amount_yuan=100_000, now=NOW)
    service.advance(ents, A, ORIG, n, on="2026-04-01", today=TODAY, now=NOW)  # due: 2026-04-09 (4-4 … 4-6 off)
    assert service.get_case(ents, A, n)["state_due"] == "2026-04-09"
    with pytest.raises(InputError, match="window closed on 2026-04-09"):
        service.advance(ents, A, ORIG, n, "hearing", on="2026-04-10", today=TODAY, now=NOW)
    assert service.advance(ents, A, ORIG, n, "hearing", on="2026-04-09", today=TODAY, now=NOW)["state"] == "hearing"


def test_bad_input_is_refused_and_nothing_is_half_saved(ents):
    store = ents
    with pytest.raises(InputError, match="unknown legal basis"):
        _open(store, violation="littering")
    with pytest.raises(InputError, match="filed_on"):
        _open(store, discovered_on="2026-02-01", filed_on="2026-01-01")
    with pytest.raises(InputError, match="discovered_on"):
        _open(store, discovered_on="2026-13-01")
    with pytest.raises(InputError, match="no registered enterprise"):
        _open(store, uscc="91110000000000000X")
    with store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(enf_case)) == 0
        assert c.scalar(select(func.count()).select_from(enf_case_event)) == 0
    n = _open(store)["number"]
    service.advance(store, A, ORIG, n, on="2026-01-07", today=TODAY, now=NOW)
    with pytest.raises(InputError, match="outside the range"):
        service.add_penalty(store, A, ORIG, n, kind="fine", amount_yuan=5_000_000, now=NOW)
    with pytest.raises(InputError, match="recheck_on"):
        service.add_penalty(store, A, ORIG, n, kind="daily_fine", base_yuan=100_000, served_on="2026-02-10",
                            recheck_on="2026-02-01", now=NOW)
    with pytest.raises(InputError, match="before the case's previous step"):
        service.advance(store, A, ORIG, n, "revoked", on="2026-01-01", note="x", today=TODAY, now=NOW)
    with pytest.raises(InputError, match="needs a reason"):
        service.close(store, A, ORIG, n, on="2026-01-08", today=TODAY, now=NOW)
    with store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(enf_penalty)) == 0
        assert c.scalar(select(enf_case.c.state)) == "investigating"
    c = service.close(store, A, ORIG, n, reason="违法事实不能成立", on="2026-01-08", today=TODAY, now=NOW)
    assert c["state"] == "revoked" and c["reason"] == "违法事实不能成立"


def test_daily_fine_only_where_the_law_allows(ents):
    n = _open(ents, violation="monitoring_fraud")["number"]
    service.advance(ents, A, ORIG, n, on="2026-01-07", today=TODAY, now=NOW)
    with pytest.raises(InputError, match="does not allow a daily continuous penalty"):
        service.add_penalty(ents, A, ORIG, n, kind="daily_fine", base_yuan=50_000, served_on="2026-01-08",
                            recheck_on="2026-01-20", now=NOW)


def test_not_filed_needs_a_reason(ents):
    n = _open(ents, pending=True)["number"]
    c = service.get_case(ents, A, n)
    assert c["state"] == "clue" and c["state_due"] == "2026-01-20"  # 15 days after 01-05
    with pytest.raises(InputError, match="needs a reason"):
        service.close(ents, A, ORIG, n, on="2026-01-06", today=TODAY, now=NOW)
    assert service.close(ents, A, ORIG, n, reason="不属于本机关管辖", on="2026-01-06", today=TODAY,
                         now=NOW)["state"] == "not_filed"


def test_overdue_steps_alert_the_supervisor(ents):
    n = _open(ents)["number"]
    assert service.list_cases(ents, A, overdue=True, today=date(2026, 4, 7)) == []
    over = service.list_cases(ents, A, overdue=True, today=date(2026, 4, 8))
    assert [r["number"] for r in over] == [n] and over[0]["overdue"]
    raised = service.check_overdue(ents, today=date(2026, 4, 8), now=NOW)
    assert raised[0]["notify"] == "chief-a"
    with ents.engine.connect() as c:
        a = c.execute(select(alert).where(alert.c.rule == "case_overdue")).mappings().one()
    assert a["details"]["owner"] == "officer-a" and "已逾期" in a["message"]
    service.check_overdue(ents, today=date(2026, 4, 9), now=NOW)  # the same step: the same alert
    with ents.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(alert).where(alert.c.rule == "case_overdue")) == 1
    service.advance(ents, A, ORIG, n, on="2026-04-08", today=TODAY, now=NOW)  # the step done: the alert clears
    with ents.engine.connect() as c:
        assert c.scalar(select(alert.c.active).where(alert.c.rule == "case_overdue")) in (False, 0)


def test_scope_walls(ents):
    n = _open(ents)["number"]
    with pytest.raises(NotFound):
        service.get_case(ents, B, n)
    assert service.list_cases(ents, B) == []
    with pytest.raises(NotFound):
        service.advance(ents, B, ORIG, n, on="2026-01-07", today=TODAY, now=NOW)
    with pytest.raises(PermissionError):
        service.open_case(ents, B, ORIG, uscc=ENT, violation="air_exceed", today=TODAY, now=NOW)
    with ents.engine.connect() as c:
        eid1 = c.scalar(select(enf_case.c.enterprise_id))
    own = Scope("enterprise", enterprise_id=eid1)
    other = Scope("enterprise", enterprise_id=eid1 + 1)
    assert [r["number"] for r in service.list_cases(ents, own)] == [n]
    assert service.list_cases(ents, other) == []
    with pytest.raises(PermissionError):
        service.advance(ents, own, ORIG, n, on="2026-01-07", today=TODAY, now=NOW)
    with pytest.raises(PermissionError):
        service.list_cases(ents, Scope("public"))
    assert service.public_penalties(ents) == []  # not decided: not published
    city = Scope("officer", region_code="130100")
    assert len(service.list_cases(ents, city)) == 1


def test_cli_open_advance_list(sqlite_store, tmp_path, monkeypatch):
    from ecohub.cli.main import app

    make_enterprise(sqlite_store, code=ENT, region="130102", outlets=(("C-GAS1", "gas_outlet"),))
    url = str(sqlite_store.engine.url)
    r = CliRunner().invoke(app, ["case", "open", "--enterprise", ENT, "--violation", "air_exceed", "--discovered",
                                 "2026-01-05", "--filed", "2026-01-06", "--json", "--database-url", url])
    assert r.exit_code == 0, r.output
    number = json.loads(r.output)["number"]
    r = CliRunner().invoke(app, ["case", "advance", number, "--to", "closed", "--database-url", url])
    assert r.exit_code == 2 and "not a step of the procedure" in r.output
    r = CliRunner().invoke(app, ["case", "open", "--enterprise", ENT, "--violation", "nope", "--database-url", url])
    assert r.exit_code == 2 and "unknown legal basis" in r.output
    r = CliRunner().invoke(app, ["case", "list", "--overdue", "--json", "--database-url", url])
    assert r.exit_code == 0
    rows = json.loads(r.output)
    assert [x["number"] for x in rows] == [number]  # filed 2026-01-06: the decision was due 2026-04-07
    r = CliRunner().invoke(app, ["case", "open", "--help"])
    assert "立案" in r.output
