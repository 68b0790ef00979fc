"""``ecohub hj212 parse FILE [--json]``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from ecohub.cli.hj212_cmds import hj212_app, register

GOOD = b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80"


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:  # keeps "hj212" as a sub-command
        pass

    register(app)
    return app


def test_parse_json_lines(tmp_path: Path) -> None:
    f = tmp_path / "packets.txt"
    f.write_bytes(GOOD + b"\r\n" + GOOD[:-1] + b"1\n\n" + b"garbage\n" + GOOD)
    result = CliRunner().invoke(_app(), ["hj212", "parse", str(f), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["line"] for x in lines] == [1, 2, 4, 5]
    assert lines[0]["cn"] == "1062" and lines[0]["params"] == {"RtdInterval": "30"} and lines[0]["version"] == "2017"
    assert lines[1]["reason"] == "bad_crc" and "error" in lines[1]
    assert lines[2]["error"] and lines[2]["line"] == 4
    assert lines[3]["qn"] == "20160801085857223"


def test_parse_real_packets_file(tmp_path: Path, device_packets: list[dict]) -> None:
    f = tmp_path / "dev.txt"
    f.write_text("\n".join(d["packet"] for d in device_packets if d["framed"]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(hj212_app(), ["parse", str(f), "--json"])
    assert result.exit_code == 0
    objs = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(objs) == 95 and sum("error" in o for o in objs) == 2
    lb = [o for o in objs if o.get("mn") == "LB4200001"]
    assert len(lb) == 86 and "a21026" in lb[0]["factors"]


def test_parse_text_output_and_options(tmp_path: Path) -> None:
    f = tmp_path / "p.txt"
    f.write_bytes(GOOD + b"\n")
    result = CliRunner().invoke(hj212_app(), ["parse", str(f)])
    assert result.exit_code == 0 and "OK HJ 2017" in result.stdout
    result = CliRunner().invoke(hj212_app(), ["parse", str(f), "--json", "--crc", "unchecked"])
    assert result.exit_code == 0 and json.loads(result.stdout)["cn"] == "1062"
    result = CliRunner().invoke(hj212_app(), ["parse", str(f), "--crc", "bogus"])
    assert result.exit_code != 0


def test_unreadable_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["hj212", "parse", str(tmp_path / "missing.txt"), "--json"])
    assert result.exit_code != 0
    assert "cannot read" in result.output
    result = CliRunner().invoke(_app(), ["hj212", "parse", str(tmp_path)])
    assert result.exit_code != 0 and "cannot read" in result.output
