"""Scheduled reports (the worker): what is due when, each issue generated once, previous issues kept."""

from __future__ import annotations

from datetime import UTC, datetime

from typer.testing import CliRunner

from ecohub.reports import schedule, service


def test_due_dates():
    bj = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731 (UTC 16:00 = next day 00:00 Beijing)
    assert schedule.due(bj(2026, 12, 2, 15)) == []  # Beijing 2026-12-02 23:00
    assert schedule.due(bj(2026, 12, 2, 16)) == [("monthly", "2026-11")]  # Beijing 2026-12-03 00:00
    assert schedule.due(bj(2027, 1, 5, 3)) == [("monthly", "2026-12"), ("annual", "2026")]


def test_run_due_generates_each_issue_once(store, monkeypatch):
    now = datetime(2026, 12, 10, 2, tzinfo=UTC)
    made = schedule.run_due(store, now, regions=["130100", "999999"], formats=("docx",))
    assert [(m["kind"], m["region_code"], m["period"], m["format"]) for m in made] == [
        ("monthly", "130100", "2026-11", "docx")]  # the unknown region is logged and skipped
    assert schedule.run_due(store, now, regions=["130100"], formats=("docx",)) == []
    rows = service.list_reports(store)
    assert len(rows) == 1 and rows[0]["created_by"] == "worker"
    monkeypatch.setenv("ECOHUB_REPORT_REGIONS", "130200, x, 130300")
    assert schedule.configured_regions() == ["130200", "130300"]


def test_worker_once_runs_the_schedule(store, monkeypatch):
    from ecohub.cli.main import app

    monkeypatch.setenv("ECOHUB_REPORT_REGIONS", "130100")
    url = store.engine.url.render_as_string(hide_password=False)
    res = CliRunner().invoke(app, ["worker", "--once", "--no-deliver", "--database-url", url])
    assert res.exit_code == 0, res.output
    assert '"reports"' in res.stdout
