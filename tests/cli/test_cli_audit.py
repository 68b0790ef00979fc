"""Every state-changing command leaves an audit row: actor ``cli:<OS user>`` or ``cli:<--as NAME>``, role
``system``, method ``CLI``, the command, the target and what changed (never a password or a key)."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ecohub.alerts.lifecycle import Condition, raise_condition
from ecohub.cli.main import app
from ecohub.store.db import Store
from ecohub.store.schema_identity import audit_log

USCC = "91350100M000100Y43"


@pytest.fixture
def cli(tmp_path, monkeypatch, sqlite_template):
    db = tmp_path / "ecohub.db"
    db.write_bytes(sqlite_template.read_bytes())
    monkeypatch.setenv("ECOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ECOHUB_DATABASE_URL", raising=False)
    monkeypatch.delenv("ECOHUB_AS", raising=False)
    runner = CliRunner()

    def run(*args, ok=True, input=None):  # noqa: A002
        r = runner.invoke(app, [str(a) for a in args], input=input)
        if ok:
            assert r.exit_code == 0, r.output
        return r

    run.store = lambda: Store.open(f"sqlite:///{db}")
    return run


def rows(store) -> list[dict]:
    with store.engine.connect() as c:
        return [dict(r) for r in c.execute(select(audit_log).where(audit_log.c.action != "chain_anchor")  # the chain's
                                           .order_by(audit_log.c.id)).mappings()]


def test_register_import_and_alert_commands_are_audited(cli, tmp_path):
    me = f"cli:{getpass.getuser()}"
    cli("enterprise", "add", USCC, "--name", "示例", "--region", "130100")
    cli("site", "add", "G1", "--kind", "gas_outlet", "--name", "1#排口", "--lon", "114.7", "--lat", "38.1",
        "--region", "130100", "--enterprise", USCC)
    cli("--as", "张三", "device", "add", "010000A8900016F000169DC0", "--password", "123456", "--site", "G1")
    data = tmp_path / "obs.csv"
    data.write_text("site,parameter,time,value\nG1,nox,2026-01-08T01:00,35\nXX,nox,2026-01-08T01:00,1\n",
                    encoding="utf-8")
    cli("import", data, "--json")
    permits = tmp_path / "permits.csv"
    permits.write_text("site,parameter,limit,unit,period\nG1,nox,100,mg/m3,hour\n", encoding="utf-8")
    cli("permit", "import", permits)
    store = cli.store()
    with store.engine.begin() as c:
        aid = raise_condition(c, Condition("permit", "permit:G1:nox", "major", "NOx 超标"),
                              int(datetime.now(UTC).timestamp()), notify=False).alert_id
    cli("--as", "李四", "alerts", "ack", aid, "--note", "已通知")
    cli("alerts", "close", aid, "--reason", "已整改")
    bad = cli("alerts", "close", aid, "--reason", "again", ok=False)  # refused: no row for what did not happen
    assert bad.exit_code == 2
    got = [(r["path"], r["action"], r["target"], r["actor"]) for r in rows(store)]
    assert got == [
        ("enterprise add", "write", f"enterprise:{USCC}", me),
        ("site add", "write", "site:G1", me),
        ("device add", "write", "device:010000A8900016F000169DC0", "cli:张三"),
        ("import", "write", "file:obs.csv", me),
        ("permit import", "write", "file:permits.csv", me),
        ("alerts ack", "alert_acknowledge", f"alert:{aid}", "cli:李四"),
        ("alerts close", "alert_close", f"alert:{aid}", me),
    ]
    r = rows(store)
    assert {x["method"] for x in r} == {"CLI"} and {x["actor_role"] for x in r} == {"system"}
    assert r[2]["detail"] == {"site": "G1", "protocol": "2017", "sm4": False}  # no password
    assert r[3]["detail"]["imported"] == 1 and r[3]["detail"]["rejected"] == 1
    assert r[5]["detail"] == {"by": "李四", "note": "已通知", "changed": True}  # --as is also who acknowledges
    assert r[6]["detail"]["reason"] == "已整改"


def test_user_and_key_commands_use_the_same_actor(cli, monkeypatch):
    monkeypatch.setenv("ECOHUB_AS", "运维")
    cli("user", "add", "officer1", "--role", "officer", "--region", "130100", "--password-stdin",
        input="Correct-Horse-9\n")
    cli("apikey", "create", "--user", "officer1")
    assert cli("section", "target", "NOSUCH", "--class", "III", ok=False).exit_code == 2  # refused: no row
    got = [(x["path"], x["action"], x["target"], x["actor"]) for x in rows(cli.store())]
    assert got[0] == ("user add", "permission", "user:officer1", "cli:运维")
    assert got[1][:2] == ("apikey create", "permission") and got[1][3] == "cli:运维"
    assert len(got) == 2
    assert "Correct-Horse-9" not in str(rows(cli.store()))


def test_device_add_sets_the_decoding_profile_and_sm4_variant(cli):
    """A device can be held to the standard (strict) and told its HJ 212-2025 SM4 variant; a variant that is
    not one is refused naming it."""
    from ecohub.ingest.hj212.auth import DeviceDirectory
    from ecohub.protocols.hj212 import SM4_PRESETS

    cli("enterprise", "add", USCC, "--name", "示例", "--region", "130100")
    cli("site", "add", "G1", "--kind", "gas_outlet", "--name", "1#排口", "--lon", "114.7", "--lat", "38.1",
        "--region", "130100", "--enterprise", USCC)
    mn = "010000A8900016F000169DC1"
    bad = cli("device", "add", mn, "--password", "123456", "--site", "G1", "--sm4-variant", "hex-rot13", ok=False)
    assert bad.exit_code != 0 and "hex-rot13" in bad.output
    bad = cli("device", "add", mn, "--password", "123456", "--site", "G1", "--dialect", "sloppy", ok=False)
    assert bad.exit_code != 0 and "sloppy" in bad.output
    cli("device", "add", mn, "--password", "123456", "--site", "G1", "--protocol", "2025", "--sm4-key", "0" * 32,
        "--dialect", "strict", "--sm4-variant", "hex-pkcs7")
    store = cli.store()
    info = DeviceDirectory(store).lookup(mn)
    store.close()
    assert info is not None and info.dialect.lenient is False and info.dialect.sm4_variant == SM4_PRESETS["hex-pkcs7"]
    assert "strict" in cli("device", "list").output
