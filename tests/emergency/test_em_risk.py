"""Risk-source register: HJ 941-2018 grading (pure), import on both backends, workflow, API, CLI."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from ecohub.domain.errors import InputError
from ecohub.emergency import hj941, risk
from ecohub.store.queries import SYSTEM, Scope
from ecohub.store.schema import enterprise
from ecohub.store.schema_emergency import risk_source, risk_substance

USCC_A = "91130100MA00000012"
USCC_B = "91130200MA0000002A"


def test_q_ratio_and_levels():
    """Q = Σ q/Q: 30 t ammonia (Q = 5 t) + 12 t chlorine (Q = 1 t) = 6 + 12 = 18 → Q2."""
    r = hj941.q_ratio([hj941.SubstanceLine("氨", 30), hj941.SubstanceLine("chlorine", 12)])
    assert r.q == pytest.approx(18.0)
    assert [hj941.q_level(q) for q in (0.5, 1, 9.99, 10, 99.9, 100)] == ["Q0", "Q1", "Q1", "Q2", "Q2", "Q3"]
    assert [hj941.m_level(m) for m in (0, 24.9, 25, 44.9, 45, 59.9, 60, 100)] == \
        ["M1", "M1", "M2", "M2", "M3", "M3", "M4", "M4"]
    assert hj941.air_sensitivity(60_000, 0) == "E1" and hj941.air_sensitivity(0, 1200) == "E1"
    assert hj941.air_sensitivity(20_000, 0) == "E2" and hj941.air_sensitivity(5_000, 100) == "E3"


def test_grade_matrix_and_code():
    g = hj941.grade([hj941.SubstanceLine("氨", 30), hj941.SubstanceLine("氯", 12)], 50, "E1", "E3")
    assert g["grade"] == "major" and g["code"] == "重大[重大-大气(Q2-M3-E1)+较大-水(Q2-M3-E3)]"
    low = hj941.grade([hj941.SubstanceLine("氨", 1)], 80, "E1", None)
    assert low["grade"] == "general" and "Q0" in low["code"]  # Q < 1 is graded 一般 directly
    # the grade never falls when M, Q or E get worse
    order = hj941.GRADES
    for e in ("E1", "E2", "E3"):
        for q in ("Q1", "Q2", "Q3"):
            row = [order.index(x) for x in hj941.MATRIX[(e, q)]]
            assert row == sorted(row)
    for q in ("Q1", "Q2", "Q3"):
        for m in range(4):
            col = [order.index(hj941.MATRIX[(e, q)][m]) for e in ("E3", "E2", "E1")]
            assert col == sorted(col)


def test_substance_not_in_the_table_is_a_clear_error():
    with pytest.raises(InputError, match="不存在的物质|not in the substance table"):
        hj941.q_ratio([hj941.SubstanceLine("不存在的物质", 3)])
    assert hj941.q_ratio([hj941.SubstanceLine("不存在的物质", 3, critical_t=1.5)]).q == 2.0
    with pytest.raises(InputError, match="quantity_t"):
        hj941.q_ratio([hj941.SubstanceLine("氨", -1)])
    with pytest.raises(InputError, match="m_score"):
        hj941.m_level(120)
    with pytest.raises(InputError, match="e_air"):
        hj941.grade([hj941.SubstanceLine("氨", 30)], 10, "E4", None)


def test_plan_state():
    today = date(2026, 12, 4)
    assert risk.plan_state(None, today) == "missing"
    assert risk.plan_state("2026-12-01", today) == "expired"
    assert risk.plan_state("2026-12-20", today) == "expiring"
    assert risk.plan_state("2027-12-20", today) == "valid"


CSV = f"""uscc,name,substance,cas,quantity_t,critical_t,m_score,e_air,e_water,lon,lat,plan_record_no,plan_filed_on,plan_valid_until,supplies,contact_name,contact_phone
{USCC_A},甲化工（演示）,氨,7664-41-7,30,,50,E1,E3,114.5,38.0,130100-2025-001-L,2025-01-10,{(datetime.now(UTC) + timedelta(days=400)).date()},吸附棉;围堰,张三,13800000000
{USCC_A},,氯,,12,,,,,,,,,,,,
{USCC_B},乙公司（演示）,未知物质,,3,,10,E2,,118.2,39.6,,,,,,
9999,不存在,氨,,1,,10,E3,,114,38,,,,,,
"""


@pytest.fixture
def ents(store):
    with store.engine.begin() as conn:
        for u, reg in ((USCC_A, "130100"), (USCC_B, "130200")):
            conn.execute(insert(enterprise).values(uscc=u, name=u, region_code=reg, created_at=datetime.now(UTC)))
    return store


def test_import_grades_and_keeps_the_good(ents, tmp_path):
    f = tmp_path / "risk.csv"
    f.write_text(CSV, encoding="utf-8")
    rep = risk.import_register(ents, f)
    assert rep["imported"] == 1
    reasons = {r.get("uscc"): r["reason"] for r in rep["rejected"]}
    assert "未知物质" in reasons[USCC_B] and "not registered" in reasons["9999"]
    with ents.engine.connect() as conn:
        row = conn.execute(select(risk_source)).one()
        subs = conn.execute(select(risk_substance.c.name, risk_substance.c.ratio)).all()
    assert row.grade == "major" and row.q_ratio == pytest.approx(18.0) and row.status == "approved"
    assert sorted(s.name for s in subs) == ["氨", "氯"]
    g = risk.grade_enterprise(ents, USCC_A)
    assert g["code"].startswith("重大") and g["plan_state"] == "valid"
    # scope: the Tangshan officer sees nothing, the enterprise itself sees its record
    assert risk.list_sources(ents, Scope("officer", region_code="130200")) == []
    assert len(risk.list_sources(ents, Scope("enterprise", enterprise_id=row.enterprise_id))) == 1
    with pytest.raises(PermissionError):
        risk.list_sources(ents, Scope("public"))
    fc = risk.features(ents, SYSTEM)
    assert fc["features"][0]["properties"]["grade"] == "major"


def test_workflow_is_declared_and_enforced(ents, tmp_path):
    f = tmp_path / "risk.csv"
    f.write_text(CSV, encoding="utf-8")
    risk.import_register(ents, f)
    with ents.engine.connect() as conn:
        rid, eid = conn.execute(select(risk_source.c.id, risk_source.c.enterprise_id)).one()
    ent = Scope("enterprise", enterprise_id=eid)
    officer = Scope("officer", region_code="130100")
    with pytest.raises(InputError, match="not allowed from approved"):
        risk.transition(ents, officer, rid, "rejected", "x")
    assert risk.transition(ents, ent, rid, "submitted")["status"] == "submitted"
    with pytest.raises(PermissionError):
        risk.transition(ents, ent, rid, "approved")
    with pytest.raises(InputError, match="reason"):
        risk.transition(ents, officer, rid, "rejected")
    assert risk.transition(ents, officer, rid, "rejected", "补充应急物资清单")["status"] == "rejected"
    assert risk.transition(ents, ent, rid, "submitted")["status"] == "submitted"
    assert risk.transition(ents, officer, rid, "approved")["status"] == "approved"


def test_risk_cli(tmp_path, monkeypatch, sqlite_template):
    from ecohub.cli.main import app

    db = tmp_path / "ecohub.db"
    db.write_bytes(sqlite_template.read_bytes())
    monkeypatch.setenv("ECOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ECOHUB_DATABASE_URL", raising=False)
    run = CliRunner().invoke
    assert run(app, ["enterprise", "add", USCC_A, "--name", "甲", "--region", "130100"]).exit_code == 0
    f = tmp_path / "risk.csv"
    f.write_text(CSV, encoding="utf-8")
    r = run(app, ["risk", "import", str(f), "--json"])
    assert r.exit_code == 0, r.output
    import json

    assert json.loads(r.output)["imported"] == 1
    r = run(app, ["risk", "grade", "--enterprise", USCC_A, "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["grade"] == "major"
    r = run(app, ["risk", "grade", "--enterprise", USCC_B])
    assert r.exit_code == 2 and USCC_B in r.output


def test_excel_import(ents, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["uscc", "name", "substance", "cas", "quantity_t", "m_score", "e_air", "lon", "lat", "plan_valid_until"])
    ws.append([USCC_A, "甲化工（演示）", "", "7782-50-5", 3, 30, "E2", 114.5, 38.0, "2020-01-01"])
    ws.append([USCC_B, "乙", "氨", None, "x", 10, "E3", 118.2, 39.6, None])
    f = tmp_path / "risk.xlsx"
    wb.save(f)
    rep = risk.import_register(ents, f)
    assert rep["imported"] == 1 and "quantity_t" in rep["rejected"][0]["reason"]
    g = risk.grade_enterprise(ents, USCC_A)
    assert g["q"] == pytest.approx(3.0) and g["code"] == "较大[较大-大气(Q1-M2-E2)]" and g["plan_state"] == "expired"
    bad = tmp_path / "risk.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(InputError, match="Excel"):
        risk.import_register(ents, bad)
