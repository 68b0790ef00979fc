"""Self-monitoring completeness against the plan (missing manual reports are findings) and the execution-report
review workflow (submitted → accepted / returned with reasons → resubmitted), each step audited."""

from __future__ import annotations

from datetime import date

import pytest
from permit_support import NUMBER, good_tables, make_enterprise, write_dir
from sqlalchemy import func, select

from ecohub.domain.errors import InputError, NotFound
from ecohub.store import registry as R
from ecohub.store.audit import Origin
from ecohub.store.queries import Scope
from ecohub.store.schema_identity import audit_log
from ecohub.store.schema_permits import permit
from ecohub.store.writer import ObservationWriter
from ecohub.supervision.permits import reports as RP
from ecohub.supervision.permits.register import import_register

ORIG = Origin("test", "system")


def _setup(store, tmp_path):
    make_enterprise(store)
    t = good_tables()
    t["plans"] = [["permit", "outlet", "parameter", "method", "frequency"],
                  [NUMBER, "DA001", "a21026", "自动", "hour"], [NUMBER, "DA001", "smoke", "手工", "month"],
                  [NUMBER, "DA002", "nox", "manual", "quarter"]]
    assert import_register(store, write_dir(tmp_path / "reg", t)).errors == []
    with store.engine.connect() as c:
        eid = c.scalar(select(permit.c.enterprise_id))
        pid = c.scalar(select(permit.c.id))
    return eid, pid


def test_period_bounds_and_intervals():
    a, b = RP.period_bounds("quarter", "2026-q4")
    assert (a.month, b.year, b.month) == (10, 2027, 1)
    assert [s.month for s, _ in RP._intervals("month", a, b)] == [10, 11, 12]
    assert RP._intervals("quarter", *RP.period_bounds("year", "2026")) == [
        (date(2026, 1, 1), date(2026, 4, 1)), (date(2026, 4, 1), date(2026, 7, 1)),
        (date(2026, 7, 1), date(2026, 10, 1)), (date(2026, 10, 1), date(2027, 1, 1))]
    with pytest.raises(InputError, match="2026-Q1"):
        RP.period_bounds("quarter", "2026-5")


def test_completeness_against_the_plan(store, tmp_path):
    _eid, pid = _setup(store, tmp_path)
    a, b = RP.period_bounds("quarter", "2026-Q1")
    with store.engine.begin() as c:
        sid = R.SeriesResolver().get(c, R.site_index(c)["GAS1"][0], R.parameter_index(c)["so2_gas"], "hour")
    with ObservationWriter(store, "import") as w:
        for h in range(100):
            w.add(sid, int(a.timestamp()) + 3600 * h, 20.0, "D" if h < 10 else "N")
    RP.file_manual_report(store, Scope("system"), ORIG, NUMBER, site_code="GAS1", parameter_name="smoke",
                          sampled_on=date(2026, 1, 20), value=4.2, lab="某检测公司")
    with pytest.raises(InputError, match="not in this permit's monitoring plan"):
        RP.file_manual_report(store, Scope("system"), ORIG, NUMBER, site_code="GAS2", parameter_name="smoke",
                              sampled_on=date(2026, 1, 20))
    comp = RP.plan_completeness(store, pid, a, b)
    by = {(i["site"], i["parameter"]): i for i in comp["items"]}
    assert by[("GAS1", "so2_gas")]["due"] == 2160 and by[("GAS1", "so2_gas")]["done"] == 90
    assert (by[("GAS1", "smoke")]["due"], by[("GAS1", "smoke")]["done"]) == (3, 1)
    assert (by[("GAS2", "nox")]["due"], by[("GAS2", "nox")]["done"]) == (1, 0)
    assert sorted((f["site"], f["parameter"], f["interval"][:10]) for f in comp["findings"]) == [
        ("GAS1", "smoke", "2026-02-01"), ("GAS1", "smoke", "2026-03-01"), ("GAS2", "nox", "2026-01-01")]


def test_report_review_workflow_audited(store, tmp_path):
    eid, _pid = _setup(store, tmp_path)
    ent = Scope("enterprise", enterprise_id=eid)
    officer = Scope("officer", region_code="130100")
    with pytest.raises(PermissionError):
        RP.submit(store, officer, ORIG, NUMBER, "month", "2026-01")
    r = RP.submit(store, ent, ORIG, NUMBER, "month", "2026-01", {"note": "正常生产"})
    assert r["state"] == "submitted" and "emissions_t" in r["prefilled"] and r["prefilled"]["findings"]
    with pytest.raises(PermissionError):
        RP.review(store, ent, ORIG, r["id"], "accept")
    with pytest.raises(InputError, match="reasons are required"):
        RP.review(store, officer, ORIG, r["id"], "return")
    with pytest.raises(NotFound):
        RP.review(store, Scope("officer", region_code="130200"), ORIG, r["id"], "accept")  # not his region
    r = RP.review(store, officer, ORIG, r["id"], "return", "缺少2月手工监测报告")
    assert r["state"] == "returned" and r["review_note"] == "缺少2月手工监测报告"
    with pytest.raises(RP.IllegalReportStep, match="cannot accept a report that is returned"):
        RP.review(store, officer, ORIG, r["id"], "accept")
    r = RP.submit(store, ent, ORIG, NUMBER, "month", "2026-01", {"note": "已补充"})
    assert r["state"] == "submitted" and r["version"] == 3
    r = RP.review(store, officer, ORIG, r["id"], "accept")
    assert r["state"] == "accepted"
    with pytest.raises(RP.IllegalReportStep, match="allowed: nothing"):
        RP.submit(store, ent, ORIG, NUMBER, "month", "2026-01")
    with store.engine.connect() as c:
        n = c.scalar(select(func.count()).select_from(audit_log).where(
            audit_log.c.target == f"permit_report:{NUMBER}:month:2026-01"))
    assert n == 4
    assert [x["state"] for x in RP.list_reports(store, ent)] == ["accepted"]
    assert RP.list_reports(store, Scope("officer", region_code="130200")) == []
