"""``ecohub forward add|list|status|disable|enable|remove`` and ``ecohub forwarder --help``."""

from __future__ import annotations

import json

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


def test_forward_destinations_contract(cli):
    cli("forward", "add", "province", "--host", "127.0.0.1", "--port", 6011, "--devices", "MN0001,MN0002")
    cli("forward", "add", "nation", "--host", "10.0.0.9", "--port", 6012, "--mode", "reencode", "--edition", "2025",
        "--map", "010000A8900016F000169DC0=UP0000000000000000000001:654321", "--parameter", "a21026",
        "--device", "010000A8900016F000169DC0")
    bad = cli("forward", "add", "x", "--host", "127.0.0.1", "--port", 6013, "--parameter", "a21026", ok=False)
    assert bad.exit_code == 2 and "reencode" in bad.output
    bad = cli("forward", "add", "y", "--host", "127.0.0.1", "--port", 6013, "--map", "nonsense", ok=False)
    assert bad.exit_code == 2 and "LOCAL_MN=REMOTE_MN" in bad.output
    rows = [json.loads(line) for line in cli("forward", "list", "--json").output.splitlines()]
    assert [r["name"] for r in rows] == ["province", "nation"] and rows[0]["devices"] == ["MN0001", "MN0002"]
    assert rows[1]["mn_map"] == {"010000A8900016F000169DC0": {"mn": "UP0000000000000000000001", "pw": "654321"}}
    cli("forward", "disable", "province")
    status = [json.loads(line) for line in cli("forward", "status", "--json").output.splitlines()]
    assert {s["name"]: (s["enabled"], s["backlog"], s["lag_seconds"]) for s in status} == {
        "province": (False, 0, None), "nation": (True, 0, None)}
    cli("forward", "enable", "province")
    assert "removed" in cli("forward", "remove", "nation").output
    missing = cli("forward", "remove", "nation", ok=False)
    assert missing.exit_code == 2 and "nation" in missing.output
    assert "in order per device" in cli("forwarder", "--help").output


def test_partner_and_exchange_contract(cli, tmp_path):
    from ecohub.catalog.service import create_dataset
    from ecohub.store.db import Store
    from ecohub.store.tx import write_tx

    store = Store.open(f"sqlite:///{tmp_path / 'ecohub.db'}")
    with write_tx(store) as c:
        create_dataset(c, code="air", title="t", description="d", owner_department="监测处", fields=None,
                       update_frequency="hourly", sharing_level="unconditional", open_level="closed",
                       source={"type": "observations", "kinds": ["air_station"]})
    store.close()
    out = json.loads(cli("partner", "add", "water", "--endpoint", "http://127.0.0.1:9/in", "--json").output)
    assert out["alg"] == "hmac-sha256" and len(out["secret"]) == 64 and out["key_id"].startswith("water-")
    sm2 = json.loads(cli("partner", "add", "nation", "--alg", "sm2", "--incoming", "air", "--json").output)
    assert sm2["secret"] is None and sm2["public_key"].startswith("04")
    bad = cli("partner", "add", "x", "--endpoint", "ftp://example.org", ok=False)
    assert bad.exit_code == 2 and "endpoint" in bad.output
    bad = cli("partner", "add", "y", "--incoming", "nope", ok=False)
    assert bad.exit_code == 2 and "nope" in bad.output
    listed = [json.loads(line) for line in cli("partner", "list", "--json").output.splitlines()]
    assert [p["name"] for p in listed] == ["water", "nation"] and all("secret" not in p for p in listed)
    cli("partner", "subscribe", "water", "air")
    assert cli("partner", "subscribe", "nation", "air", ok=False).exit_code == 2  # no endpoint to push to
    # no observations yet: a round sends nothing and makes no empty batch
    rows = [json.loads(line) for line in cli("exchange", "push", "--partner", "water", "--json").output.splitlines()]
    assert [(r["dataset"], r["status"], r["delivered"], r["rows"]) for r in rows] == [("air", "ok", 0, 0)]
    assert cli("exchange", "log", "--json").output == ""
    missing = cli("exchange", "push", "--partner", "water", "--dataset", "other", ok=False)
    assert missing.exit_code == 2 and "other" in missing.output
