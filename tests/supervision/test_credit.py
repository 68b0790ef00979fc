"""Enterprise environmental credit: facts → points → level (four levels, vetoes), versions never overwritten,
the case among the facts, blacklist and credit repair, scope — on both backends."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from permit_support import ENT, ENT2, make_enterprise
from sqlalchemy import func, insert, select
from typer.testing import CliRunner

from ecohub.domain.errors import InputError
from ecohub.store.audit import Origin
from ecohub.store.queries import SYSTEM, Scope
from ecohub.store.schema import site
from ecohub.store.schema_alerts import alert
from ecohub.store.schema_enforcement import credit_rating
from ecohub.supervision.cases import service as cases
from ecohub.supervision.credit import method
from ecohub.supervision.credit import service as credit

ORIG = Origin("officer-a", "officer")
NOW = datetime(2026, 6, 30, 8, tzinfo=UTC)
TODAY = date(2026, 6, 30)


def test_method_levels_and_vetoes():
    assert method.rate({}).level == "green" and method.rate({}).score == 100
    r = method.rate({"exceedance_hours": 24})
    assert (r.score, r.level) == (88, "blue") and r.points[0]["points"] == -12
    assert method.rate({"exceedance_hours": 1000}).points[0]["points"] == -30  # capped
    assert method.rate({"cases_decided": 1}).level == "blue"  # 90 but a decided case: not green
    assert method.rate({"cases_decided": 3, "fines_10k_yuan": 100}).level == "yellow"  # 100 − 30 − 10
    assert method.rate({"cases_decided": 3, "fines_10k_yuan": 100, "suspicious_findings": 4}).level == "red"
    v = method.rate({"daily_fine_cases": 1})
    assert v.level == "red" and v.score == 100 and "按日连续处罚" in v.vetoes[0]["reason"]


def _alert(conn, site_id: int, rule: str, occ: int, when: datetime) -> None:
    conn.execute(insert(alert).values(rule=rule, cause_key=f"{rule}:{site_id}:{occ}:{when.isoformat()}",
                                      site_id=site_id, severity="major", status="open", active=True,
                                      message="test", opened_at=when, last_seen_at=when, occurrences=occ))


def test_rating_from_platform_facts_with_versions_blacklist_and_repair(store):
    make_enterprise(store, code=ENT, region="130102", outlets=(("CR-GAS1", "gas_outlet"),))
    make_enterprise(store, code=ENT2, region="130104", outlets=(("CR-GAS2", "gas_outlet"),))
    with store.engine.begin() as c:
        sid = c.scalar(select(site.c.id).where(site.c.code == "CR-GAS1"))
        _alert(c, sid, "permit", 14, datetime(2026, 3, 1, tzinfo=UTC))
        _alert(c, sid, "permit", 99, datetime(2025, 3, 1, tzinfo=UTC))  # another year: not counted
        _alert(c, sid, "suspicious", 1, datetime(2026, 3, 2, tzinfo=UTC))
    first = credit.rate(store, SYSTEM, ORIG, 2026, uscc=ENT, today=TODAY, now=NOW)[0]
    assert first["facts"]["exceedance_hours"] == 14 and first["facts"]["suspicious_findings"] == 1
    assert first["facts"]["permit_missing"] == 1  # no permit in the register
    assert first["score"] == 100 - 7 - 5 - 20 and first["level"] == "yellow" and first["version"] == 1
    # a case decided with a daily continuous penalty: the case is among the facts and vetoes the rating
    n = cases.open_case(store, SYSTEM, ORIG, uscc=ENT, violation="air_exceed", discovered_on="2026-03-02",
                        filed_on="2026-03-03", today=TODAY, now=NOW)["number"]
    cases.advance(store, SYSTEM, ORIG, n, on="2026-03-04", today=TODAY, now=NOW)
    cases.add_penalty(store, SYSTEM, ORIG, n, kind="fine", amount_yuan=100_000, now=NOW)
    cases.add_penalty(store, SYSTEM, ORIG, n, kind="daily_fine", base_yuan=100_000, served_on="2026-03-05",
                      recheck_on="2026-03-15", now=NOW)
    cases.advance(store, SYSTEM, ORIG, n, on="2026-03-16", today=TODAY, now=NOW)
    cases.advance(store, SYSTEM, ORIG, n, "decided", on="2026-03-17", waived=True, today=TODAY, now=NOW)
    second = credit.rate(store, SYSTEM, ORIG, 2026, uscc=ENT, today=TODAY, now=NOW)[0]
    assert second["version"] == 2 and second["level"] == "red" and second["facts"]["cases"] == [n]
    assert second["facts"]["fines_10k_yuan"] == 110 and second["vetoes"][0]["item"] == "daily_fine_cases"
    assert second["blacklisted"]
    hist = credit.history(store, SYSTEM, ENT)
    assert [h["version"] for h in hist] == [2, 1] and hist[1]["level"] == "yellow"  # never overwritten
    levels = {r["uscc"]: r["level"] for r in credit.public_levels(store, 2026)}
    assert levels == {ENT: "red"}
    bl = credit.blacklist(store)
    assert bl[0]["uscc"] == ENT and "按日连续处罚" in bl[0]["reason"]
    # repair: conditions not met (case open, fines unpaid, too early) → approval refused
    entry = bl[0]["id"]
    own = Scope("enterprise", enterprise_id=hist[0]["enterprise_id"])
    with pytest.raises(PermissionError):
        credit.apply_repair(store, Scope("enterprise", enterprise_id=hist[0]["enterprise_id"] + 1), ORIG, entry, "x")
    rep = credit.apply_repair(store, own, Origin("ent"), entry, "已完成整改，安装在线监测", on=TODAY)
    assert not rep["all_hold"]
    with pytest.raises(InputError, match="conditions not met"):
        credit.decide_repair(store, SYSTEM, ORIG, entry, True, on=TODAY, now=NOW)
    cases.advance(store, SYSTEM, ORIG, n, on="2026-03-18", today=TODAY, now=NOW)
    for p in cases.get_case(store, SYSTEM, n)["penalties"]:
        cases.mark_paid(store, SYSTEM, ORIG, n, p["id"], paid_on="2026-03-20", now=NOW)
    cases.close(store, SYSTEM, ORIG, n, on="2026-03-25", today=TODAY, now=NOW)
    later = date(2026, 12, 28)
    ok = credit.decide_repair(store, SYSTEM, ORIG, entry, True, on=later, now=NOW)
    assert ok["all_hold"] and ok["status"] == "restored"
    assert credit.blacklist(store) == [] and credit.blacklist(store, include_restored=True)[0]["restored_on"] == \
        "2026-12-28"
    # scope: an officer of another county sees nothing of it; the public gets levels only
    assert credit.history(store, Scope("officer", region_code="130104"), ENT) == []
    with pytest.raises(PermissionError):
        credit.history(store, Scope("public"), ENT)
    with store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(credit_rating)) == 2


def test_bad_input(store):
    with pytest.raises(InputError, match="no registered enterprise"):
        credit.rate(store, SYSTEM, ORIG, 2026, uscc="91110000000000000X")
    with pytest.raises(InputError, match="year"):
        credit.rate(store, SYSTEM, ORIG, 1850)
    with pytest.raises(PermissionError):
        credit.rate(store, Scope("enterprise", enterprise_id=1), ORIG, 2026)


def test_cli_rate_json(sqlite_store):
    from ecohub.cli.main import app

    make_enterprise(sqlite_store, code=ENT, region="130102", outlets=(("CL-GAS1", "gas_outlet"),))
    url = str(sqlite_store.engine.url)
    r = CliRunner().invoke(app, ["credit", "rate", "--year", "2026", "--enterprise", ENT, "--json",
                                 "--database-url", url])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["level"] == "blue" and d["score"] == 80 and d["facts"]["permit_missing"] == 1
    r = CliRunner().invoke(app, ["credit", "rate", "--year", "2026", "--enterprise", "X", "--database-url", url])
    assert r.exit_code == 2 and "no registered enterprise" in r.output
