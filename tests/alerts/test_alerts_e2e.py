"""End to end through the command line, on SQLite and PostgreSQL: an outlet exceeding its permit limit →
one alert, one signed webhook and one e-mail delivered (real local receivers), acknowledgement recorded, and
no duplicate alert or notification while the exceedance lasts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from ecohub.alerts.notify import verify_signature
from ecohub.cli.main import app
from ecohub.domain.timeutil import BEIJING


@pytest.fixture
def cli(store, monkeypatch, smtp_server):
    url = store.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("ECOHUB_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ECOHUB_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("ECOHUB_SMTP_FROM", "alerts@ecohub.local")
    runner = CliRunner()

    def run(*args, ok=True):
        r = runner.invoke(app, [str(a) for a in args] + ["--database-url", url])
        if ok:
            assert r.exit_code == 0, r.output
        return r

    return run


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def hourly_csv(path, start: datetime, nox: list[float], o2: list[float]) -> None:
    lines = ["site,parameter,time,value,flag"]
    for i, (n, o) in enumerate(zip(nox, o2, strict=True)):
        t = (start + timedelta(hours=i)).astimezone(BEIJING).isoformat()
        lines += [f"GAS1,nox,{t},{n},N", f"GAS1,o2,{t},{o},N"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_exceedance_to_alert_webhook_email_ack_no_duplicates(cli, tmp_path, webhook, smtp_server):
    cli("enterprise", "add", "91350100M000100Y43", "--name", "示例钢铁（演示）", "--region", "130100")
    cli("site", "add", "GAS1", "--kind", "gas_outlet", "--name", "1#排口", "--lon", "114.7", "--lat", "38.1",
        "--region", "130100", "--enterprise", "91350100M000100Y43")
    permits = tmp_path / "permits.csv"
    permits.write_text("site,parameter,limit,unit,period,converted_o2\n"
                       "GAS1,nox,100,mg/m3,hour,9\n"
                       "GAS1,nox,-5,mg/m3,hour,9\n"
                       "NOPE,nox,100,mg/m3,hour,\n"
                       "GAS1,so2_gas,50,mg/m3,week,\n", encoding="utf-8")
    out = jsonl(cli("permit", "import", permits, "--json").output)
    assert out[-1] == {"imported": 1, "updated": 0, "rejected": 3}
    assert [(e["rejected"]["line"], e["rejected"]["field"]) for e in out[:-1]] == [
        (3, "limit"), (4, "site"), (5, "period")]
    assert "NOPE" in cli("quarantine", "list").output

    hook = json.loads(cli("alerts", "subscribe", "--webhook", webhook.url, "--secret", "k3y").output)
    assert hook["secret"] == "k3y" and hook["confirmed"]
    cli("alerts", "subscribe", "--email", "duty@example.org", "--min-severity", "major")

    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=8)
    data = tmp_path / "data.csv"
    # NOx measured 60 → 95 mg/m³ at O2 12 % → converted (× 12/9) 80 → 127: the last two hours exceed 100
    hourly_csv(data, start, [60.2, 61.5, 59.8, 62.3, 95.1, 96.4], [12.0, 12.1, 11.9, 12.0, 12.1, 12.0])
    cli("import", data)
    first = jsonl(cli("worker", "--once").output)[-1]
    assert first["alerts"]["opened"] == 1
    assert first["notifications"] == {"sent": 2, "failed": 0, "dead": 0}

    (a,) = jsonl(cli("alerts", "list", "--json").output)
    assert set(a) == {"id", "rule", "site", "parameter", "severity", "status", "opened_at", "last_seen_at", "message"}
    assert (a["rule"], a["site"], a["parameter"], a["status"]) == ("permit", "GAS1", "nox", "open")
    headers, body = webhook.requests[0]
    assert verify_signature("k3y", body, headers["x-ecohub-signature"])
    assert json.loads(body)["alert"]["id"] == a["id"]
    assert [m.rcpt_tos for m in smtp_server.messages] == [["duty@example.org"]]

    r = cli("alerts", "ack", a["id"], "--by", "值班员王五")
    assert "acknowledged by 值班员王五" in r.output
    assert [x["id"] for x in jsonl(cli("alerts", "list", "--status", "acknowledged", "--json").output)] == [a["id"]]

    # the exceedance goes on for two more hours: same alert, updated; nothing sent again
    more = tmp_path / "more.csv"
    hourly_csv(more, start + timedelta(hours=6), [97.0, 98.2], [12.0, 12.2])
    cli("import", more)
    second = jsonl(cli("worker", "--once").output)[-1]
    assert second["alerts"]["opened"] == 0 and second["alerts"]["updated"] == 1
    assert second["notifications"]["sent"] == 0
    alerts = jsonl(cli("alerts", "list", "--json").output)
    assert len(alerts) == 1 and alerts[0]["status"] == "acknowledged"
    assert alerts[0]["last_seen_at"] >= a["last_seen_at"]
    assert len(webhook.requests) == 1 and len(smtp_server.messages) == 1
    shown = json.loads(cli("alerts", "show", a["id"]).output)
    ack = [e for e in shown["events"] if e["kind"] == "acknowledged"]
    assert ack[0]["actor"] == "值班员王五" and shown["acknowledged_by"] == "值班员王五"

    # completeness and flags per day
    rep = jsonl(cli("quality", "report", "--site", "GAS1", "--from", (start - timedelta(hours=1)).isoformat(),
                    "--to", (start + timedelta(hours=9)).isoformat(), "--json").output)
    nox = [x for x in rep if x.get("parameter") == "nox"]
    assert sum(x["received"] for x in nox) == 8 and all(x["effective_rate"] == 1.0 for x in nox if x["received"])
    assert any(x.get("summary") for x in rep)

    bad = cli("alerts", "close", a["id"], "--reason", "", ok=False)
    assert bad.exit_code == 2 and "reason" in bad.output
    cli("alerts", "close", a["id"], "--reason", "脱硝系统检修完成，现场核查", "--by", "李四")
    assert jsonl(cli("alerts", "list", "--status", "open", "--json").output) == []


def test_section_target_and_cli_errors(cli):
    cli("site", "add", "W1", "--kind", "water_section", "--name", "断面", "--lon", "114.7", "--lat", "38.1",
        "--region", "130100")
    assert "target class III" in cli("section", "target", "W1", "--class", "III").output
    bad = cli("section", "target", "W1", "--class", "VII", ok=False)
    assert bad.exit_code == 2 and "VII" in bad.output
    assert cli("alerts", "list", "--status", "nope", ok=False).exit_code == 2
    assert cli("alerts", "ack", "999", ok=False).exit_code == 2
    assert cli("permit", "import", "/nonexistent.csv", ok=False).exit_code == 2
