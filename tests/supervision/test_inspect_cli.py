"""``ecohub inspect record|show|list`` and ``inspect draw list``: a targeted inspection with an attachment recorded
from the command line; a disguised attachment refused with nothing saved; --help names the contract."""

from __future__ import annotations

import json

from permit_support import ENT, make_enterprise
from typer.testing import CliRunner

from ecohub.cli.main import app

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_record_show_list_from_the_command_line(sqlite_store, tmp_path):
    make_enterprise(sqlite_store, code=ENT, region="130102", outlets=(("I-GAS1", "gas_outlet"),))
    url = str(sqlite_store.engine.url)
    run = lambda *a: CliRunner().invoke(app, ["inspect", *a, "--database-url", url])  # noqa: E731
    good, bad = tmp_path / "report.pdf", tmp_path / "photo.jpg"
    good.write_bytes(PDF)
    bad.write_bytes(b"MZ\\x90\\x00 an executable named photo.jpg")
    base = ["record", "--enterprise", ENT, "--at", "2026-03-01T10:00+08:00", "--inspectors", "甲,乙",
            "--trigger", "complaint", "--ref", "ABCDEFGHJKMN", "--findings", "除尘设施未运行"]
    r = run(*base, "--attach", str(bad))
    assert r.exit_code == 2 and "attachments" in r.output
    assert json.loads(run("list", "--json").output) == []  # nothing half-saved
    r = run(*base, "--attach", str(good), "--json")
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    assert rec["kind"] == "targeted" and rec["attachments"][0]["content_type"] == "application/pdf"
    r = run("show", str(rec["id"]))
    assert r.exit_code == 0 and "report.pdf" in r.output and rec["attachments"][0]["sha256"] in r.output
    rows = json.loads(run("list", "--enterprise", ENT, "--json").output)
    assert [x["id"] for x in rows] == [rec["id"]] and rows[0]["trigger_ref"] == "ABCDEFGHJKMN"
    r = run(*base[:-2], "--inspectors", "甲")
    assert r.exit_code == 2 and "two inspectors" in r.output
    r = run("draw", "list", "--json")
    assert r.exit_code == 0 and json.loads(r.output) == []
    r = CliRunner().invoke(app, ["inspect", "record", "--help"])
    assert "complaint" in r.output and "disguised" in r.output
