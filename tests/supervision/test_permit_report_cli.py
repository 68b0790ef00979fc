"""``ecohub permit report submit|review|list|monitoring``: the execution-report workflow from the command line —
submit, return with reasons, resubmit, accept; illegal steps refused with the state; each step audited."""

from __future__ import annotations

import json

from permit_support import NUMBER, good_tables, make_enterprise, write_dir
from sqlalchemy import select
from typer.testing import CliRunner

from ecohub.cli.main import app
from ecohub.store.schema_identity import audit_log
from ecohub.supervision.permits.register import import_register


def _run(store, *args, ok: bool = True):
    url = store.engine.url.render_as_string(hide_password=False)
    r = CliRunner().invoke(app, [*map(str, args), "--database-url", url])
    if ok:
        assert r.exit_code == 0, r.output
    return r


def test_report_workflow_from_the_cli(store, tmp_path):
    make_enterprise(store)
    t = good_tables()
    t["plans"] = [["permit", "outlet", "parameter", "method", "frequency"], [NUMBER, "DA001", "smoke", "手工", "month"]]
    assert import_register(store, write_dir(tmp_path / "reg", t)).errors == []
    (tmp_path / "c.json").write_text(json.dumps({"declared_so2_t": 1.5}), encoding="utf-8")
    r = json.loads(_run(store, "permit", "report", "submit", NUMBER, "--kind", "quarter", "--period", "2026-q1",
                        "--content", f"@{tmp_path / 'c.json'}").stdout)
    assert r["state"] == "submitted" and r["period"] == "2026-Q1" and r["content"] == {"declared_so2_t": 1.5}
    assert "emissions_t" in r["prefilled"]
    bad = _run(store, "permit", "report", "review", r["id"], "--return", ok=False)
    assert bad.exit_code == 2 and "reasons are required" in bad.output
    both = _run(store, "permit", "report", "review", r["id"], "--return", "--accept", ok=False)
    assert both.exit_code == 2 and "exactly one" in both.output
    back = json.loads(_run(store, "permit", "report", "review", r["id"], "--return", "--note", "缺少手工监测").stdout)
    assert back["state"] == "returned" and back["review_note"] == "缺少手工监测"
    again = _run(store, "permit", "report", "review", r["id"], "--accept", ok=False)
    assert again.exit_code == 2 and "returned" in again.output  # a returned report cannot be accepted
    _run(store, "permit", "report", "submit", NUMBER, "--kind", "quarter", "--period", "2026-Q1")
    assert json.loads(_run(store, "permit", "report", "review", r["id"], "--accept").stdout)["state"] == "accepted"
    lines = [json.loads(x) for x in _run(store, "permit", "report", "list", "--permit", NUMBER, "--json")
             .stdout.splitlines()]
    assert [(x["kind"], x["period"], x["state"]) for x in lines] == [("quarter", "2026-Q1", "accepted")]
    assert _run(store, "permit", "report", "list", "--state", "nope", ok=False).exit_code == 2
    bad_period = _run(store, "permit", "report", "submit", NUMBER, "--kind", "quarter", "--period", "2026-13",
                      ok=False)
    assert bad_period.exit_code == 2 and "period" in bad_period.output
    m = json.loads(_run(store, "permit", "report", "monitoring", NUMBER, "--site", "GAS1", "--parameter", "smoke",
                        "--sampled-on", "2026-03-05", "--value", "4.2", "--lab", "第三方").stdout)
    assert m["sampled_on"] == "2026-03-05"
    with store.engine.connect() as c:
        paths = [p for (p,) in c.execute(select(audit_log.c.path).order_by(audit_log.c.id)) if p and "permit report" in p]
    assert paths == ["permit report submit", "permit report review", "permit report submit", "permit report review",
                     "permit report monitoring"]


def test_report_help():
    for sub in ("submit", "review", "list", "monitoring"):
        r = CliRunner().invoke(app, ["permit", "report", sub, "--help"])
        assert r.exit_code == 0 and "--database-url" in r.output
