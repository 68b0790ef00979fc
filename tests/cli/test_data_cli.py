"""The command-line contract of the foundation: db, site, enterprise, import, export, quarantine."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ecohub.cli.main import app


@pytest.fixture
def cli(tmp_path, monkeypatch, sqlite_template):
    db = tmp_path / "ecohub.db"
    db.write_bytes(sqlite_template.read_bytes())
    monkeypatch.setenv("ECOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ECOHUB_DATABASE_URL", raising=False)
    runner = CliRunner()

    def run(*args, ok=True):
        r = runner.invoke(app, [str(a) for a in args])
        if ok:
            assert r.exit_code == 0, r.output
        return r

    return run


def test_site_enterprise_and_import_contract(cli, tmp_path):
    cli("enterprise", "add", "91350100M000100Y43", "--name", "示例", "--region", "130100")
    bad = cli("enterprise", "add", "91350100M000100Y44", "--name", "x", "--region", "130100", ok=False)
    assert bad.exit_code == 2 and "check character" in bad.output and "91350100M000100Y44" in bad.output
    sites = tmp_path / "sites.csv"
    sites.write_text("code,kind,name,lon,lat,region,enterprise\n"
                     "1029A,air_station,职工医院,114.4548,38.0513,130100,\n"
                     "G1,gas_outlet,1#排口,114.7,38.1,130100,91350100M000100Y43\n"
                     "BAD,air_station,坏,200,38,130100,\n"
                     "BAD2,air_station,坏,114,38,999999,\n", encoding="utf-8")
    r = cli("site", "import", sites, "--json")
    assert json.loads(r.stdout.strip().splitlines()[-1]) == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 2}
    data = tmp_path / "obs.csv"
    data.write_text("site,parameter,time,value,flag\n1029A,pm25,2019-01-08T01:00,35,N\n1029A,pm10,2019-01-08T01:00,60,N\n"
                    "XXXX,pm25,2019-01-08T01:00,1,N\n", encoding="utf-8")
    r = cli("import", data, "--json")
    assert json.loads(r.stdout.strip().splitlines()[-1]) == {"imported": 2, "duplicates": 0, "conflicts": 0, "rejected": 1}
    r = cli("import", data, "--json")
    assert json.loads(r.stdout.strip().splitlines()[-1]) == {"imported": 0, "duplicates": 2, "conflicts": 0, "rejected": 1}
    q = cli("quarantine", "list", "--json")
    reasons = [json.loads(line)["reason"] for line in q.stdout.splitlines()]
    assert any("XXXX" in x and "unknown site" in x for x in reasons)
    assert any("longitude" in x for x in reasons)


def test_import_unreadable_file_exits_nonzero(cli, tmp_path):
    r = cli("import", tmp_path / "missing.csv", ok=False)
    assert r.exit_code == 2 and "no such file" in r.output
    r = cli("import", tmp_path / "x.csv", "--format", "tall", ok=False)
    assert r.exit_code == 2 and "tall" in r.output


def test_export_formats(cli, tmp_path):
    cli("site", "add", "S1", "--kind", "air_station", "--name", "站", "--lon", 114, "--lat", 38, "--region", "130100")
    data = tmp_path / "wide.csv"
    data.write_text("site,time,pm25,so2\nS1,2019-01-08 00:00,10,5\nS1,2019-01-08 01:00,11,6\nS1,2019-01-09 00:00,12,7\n")
    cli("import", data)
    out = tmp_path / "out.csv"
    cli("export", "--site", "S1", "--parameter", "pm25", "--from", "2019-01-08", "--to", "2019-01-09", "-o", out)
    lines = out.read_text().splitlines()
    assert lines[0] == "site,parameter,interval,time,value,flag,source"
    assert lines[1:] == ["S1,pm25,hour,2019-01-08T00:00:00+08:00,10.0,,import",
                         "S1,pm25,hour,2019-01-08T01:00:00+08:00,11.0,,import"]
    r = cli("export", "--site", "S1", "--format", "json")
    objs = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(objs) == 6 and {o["parameter"] for o in objs} == {"pm25", "so2"}
    pq_file = tmp_path / "out.parquet"
    cli("export", "--format", "parquet", "-o", pq_file)
    t = pq.read_table(pq_file)
    assert t.num_rows == 6 and t.schema.field("time").type.tz == "UTC"
    r = cli("export", "--from", "yesterday", ok=False)
    assert r.exit_code == 2 and "--from" in r.output


def test_device_add_and_list_hide_password(cli):
    cli("site", "add", "S1", "--kind", "air_station", "--name", "站", "--lon", 114, "--lat", 38, "--region", "130100")
    cli("device", "add", "010000A8900016F000169DC0", "--password", "s3cret!", "--site", "S1")
    r = cli("device", "list", "--json")
    row = json.loads(r.stdout.splitlines()[0])
    assert row["mn"] == "010000A8900016F000169DC0" and "s3cret" not in r.stdout
    bad = cli("device", "add", "M2", "--password", "x", "--site", "NOPE", ok=False)
    assert bad.exit_code == 2 and "NOPE" in bad.output


def test_console_script_help():
    r = subprocess.run([sys.executable, "-m", "ecohub.cli.main", "import", "--help"], capture_output=True, text=True,
                       timeout=60, env={**os.environ, "COLUMNS": "200", "TERM": "dumb"})
    assert r.returncode == 0 and "Beijing time" in r.stdout
