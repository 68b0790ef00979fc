"""The worker runs the supervision jobs on schedule, through its entry point ``ecohub worker --once``: the hourly
emissions rollup every pass; when due the tonnage check (permit_tonnage at 80 %), overdue execution reports,
missing manual monitoring results, and the hazardous-waste storage and manifest deadlines; the checks are not
repeated before ECOHUB_SUPERVISION_CHECK_EVERY seconds."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from permit_support import ENT, NUMBER, TONNAGE_HEAD, good_tables, make_enterprise, uscc, write_dir
from sqlalchemy import func, select
from typer.testing import CliRunner

from ecohub.domain.errors import NotFound
from ecohub.domain.timeutil import BEIJING
from ecohub.store import registry as R
from ecohub.store.audit import Origin
from ecohub.store.queries import Scope
from ecohub.store.schema_alerts import alert
from ecohub.store.schema_permits import emission_hourly
from ecohub.store.writer import ObservationWriter
from ecohub.supervision.permits import reports
from ecohub.supervision.permits import schedule as S
from ecohub.supervision.permits.register import import_register
from ecohub.supervision.waste import ledger as L
from ecohub.supervision.waste import manifest as M
from ecohub.supervision.waste.codes import add_licence

ORIG = Origin("test", "system")
REC = uscc("91130200MA000W002")


def _alerts(store) -> dict[str, str]:
    with store.engine.connect() as c:
        return {r.cause_key: r.rule for r in c.execute(select(alert.c.cause_key, alert.c.rule).where(
            alert.c.status != "closed", alert.c.active.is_(True)))}


def _worker(store, monkeypatch, every: int = 3600) -> dict:
    from ecohub.cli.main import app

    monkeypatch.setenv("ECOHUB_SUPERVISION_CHECK_EVERY", str(every))
    monkeypatch.setenv("ECOHUB_FORECAST_ENABLED", "0")
    url = store.engine.url.render_as_string(hide_password=False)
    r = CliRunner().invoke(app, ["worker", "--once", "--no-deliver", "--no-reports", "--database-url", url])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def _setup(store, tmp_path, now: datetime) -> None:
    make_enterprise(store)
    t = good_tables()
    t["tonnage"] = [TONNAGE_HEAD, [NUMBER, "so2", "0.4", "t"], [NUMBER, "nox", "200", "t"]]
    t["plans"] = [["permit", "outlet", "parameter", "method", "frequency"], [NUMBER, "DA001", "smoke", "手工", "month"]]
    assert import_register(store, write_dir(tmp_path / "reg", t)).errors == []
    # 48 hours of SO2 at GAS1 this year: 25 mg/m³ × 80 m³/s × 3600 s = 7.2 kg/h → 0.3456 t = 86 % of 0.4 t
    h0 = (int(now.timestamp()) // 3600 - 50) * 3600
    with store.engine.begin() as c:
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        so2, q = (res.get(c, idx["GAS1"][0], par[p], "hour") for p in ("so2_gas", "flow_gas"))
    with ObservationWriter(store, "import") as w:
        for k in range(48):
            w.add(so2, h0 + 3600 * k, 25.0 + (-1) ** k * (1 + k % 3) / 10, "N")  # not a flat line (QC)
            w.add(q, h0 + 3600 * k, 80.0 + (k % 5) / 10, "N")
    # waste: a batch stored for more than a year; a manifest dispatched 20 days ago, never received
    with store.engine.begin() as c:
        R.add_enterprise(c, REC, "处置单位", "130200")
    add_licence(store, ORIG, uscc=REC, licence_no="冀危许001", codes=["HW08"], valid_from=date(2020, 1, 1),
                valid_to=date(2035, 12, 31))
    L.record_generated(store, Scope("system"), ORIG, uscc=ENT, code="900-249-08", tonnes=2.0,
                       at=now - timedelta(days=400))
    n = M.create(store, Scope("system"), ORIG, generator=ENT, receiver=REC, code="900-249-08", tonnes=1.0,
                 now=now - timedelta(days=20))["number"]
    M.transition(store, Scope("system"), ORIG, n, "dispatch", transporter="危运公司", vehicle="冀A12345",
                 now=now - timedelta(days=20))


def test_worker_runs_the_supervision_jobs(store, tmp_path, monkeypatch):
    now = datetime.now(UTC)
    _setup(store, tmp_path, now)
    from ecohub.supervision import complaint_loop, complaints

    code = complaints.submit(store, complaints.ComplaintInput("air", "工厂烟囱冒黑烟，持续两个小时以上", 114.4548, 38.0513),
                             tmp_path, now=now - timedelta(days=30))["tracking_code"]
    complaint_loop.advance(store, Scope("system"), ORIG, code, "accepted", supervisor="chief",
                           now=now - timedelta(days=30))
    out = _worker(store, monkeypatch)
    assert out["permits"]["emission_rollup"]["rows"] >= 48, out
    assert out["permits"]["tonnage"] == 1 and out["waste"]["storage"] and out["waste"]["overdue"]
    assert out["deadlines"] == {"cases": 0, "complaints": 1}  # accepted 30 days ago, not transferred in 3 days
    got = _alerts(store)
    year = now.astimezone(BEIJING).year
    assert got[f"permit_tonnage:{ENT}:so2_gas:{year}"] == "permit_tonnage"
    assert not any(k.startswith(f"permit_tonnage:{ENT}:nox") for k in got)
    overdue = sorted(k for k, r in got.items() if r == "permit_report_overdue")
    assert f"permit_report_overdue:{NUMBER}:year:{year - 1}" in overdue  # a key permit: annual and quarterly
    assert any(":quarter:" in k for k in overdue) and not any(":month:" in k for k in overdue)
    missing = [k for k, r in got.items() if r == "monitoring_report_missing"]
    assert missing and all(k.startswith(f"monitoring_report_missing:{NUMBER}:GAS1:smoke:") for k in missing)
    assert {r for r in got.values() if r.startswith("waste_")} == {"waste_storage", "waste_overdue"}
    with store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(emission_hourly)) >= 48
    # a second pass within the hour: the rollup is kept, the checks wait
    again = _worker(store, monkeypatch)
    assert "tonnage" not in again["permits"] and again["waste"] == {} and again["deadlines"] == {}
    # the same periods are what the enterprise's page lists to submit (its own scope; another's is not found)
    due = S.due_reports(store, Scope("system"), NUMBER)
    assert {(d["kind"], d["period"]) for d in due} == {tuple(k.split(":")[2:]) for k in overdue}
    assert all(d["overdue"] for d in due)
    with pytest.raises(NotFound):
        S.due_reports(store, Scope("officer", region_code="370000"), NUMBER)
    # the enterprise files last year's report; the next check clears its alert
    reports.submit(store, Scope("system"), ORIG, NUMBER, "year", str(year - 1))
    assert ("year", str(year - 1)) not in {(d["kind"], d["period"]) for d in S.due_reports(store, Scope("system"),
                                                                                            NUMBER)}
    _worker(store, monkeypatch, every=0)
    assert f"permit_report_overdue:{NUMBER}:year:{year - 1}" not in _alerts(store)


def test_report_periods_and_deadlines():
    assert S._periods("quarter", date(2025, 11, 3), date(2026, 4, 1)) == [
        ("2025-Q4", date(2025, 10, 1), date(2026, 1, 1)), ("2026-Q1", date(2026, 1, 1), date(2026, 4, 1))]
    assert S._periods("year", date(2025, 3, 1), date(2026, 12, 4)) == [("2025", date(2025, 1, 1), date(2026, 1, 1))]
    assert S._periods("month", date(2026, 1, 20), date(2026, 3, 31))[-1] == ("2026-02", date(2026, 2, 1),
                                                                               date(2026, 3, 1))
    assert S.report_deadline(date(2026, 1, 1)) == date(2026, 1, 15)
