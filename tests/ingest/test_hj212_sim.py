"""The device simulator against the real gateway over TCP: faults, editions, commands answered like a data logger,
and the check that every acknowledged packet is in the store."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ecohub.ingest.hj212 import GatewayConfig, start_in_thread
from ecohub.ingest.hj212.commands import enqueue_command, wait_command
from ecohub.ingest.hj212.sim import (
    SimStats,
    make_devices,
    parse_faults,
    register_devices,
    run_simulation,
    simulate,
)
from ecohub.store.schema import device_command, observation, parameter, series, site

INTERVAL = {"2011": "rt", "2051": "minute", "2061": "hour", "2031": "day"}


def stored_values(store) -> dict[tuple[str, str, str, int], float]:
    """(site code, HJ 212-2017 code, interval, epoch) → value of every hj212 observation."""
    q = (select(site.c.code, parameter.c.hj212_2017, series.c.interval, observation.c.time, observation.c.value)
         .select_from(observation.join(series, series.c.id == observation.c.series_id)
                      .join(site, site.c.id == series.c.site_id)
                      .join(parameter, parameter.c.id == series.c.parameter_id))
         .where(parameter.c.hj212_2017.is_not(None)))  # not the derived <name>_zs/_min/_max/_cou
    with store.engine.connect() as c:
        return {(r[0], r[1], r[2], int(r[3].timestamp())): r[4] for r in c.execute(q)}


def missing_acknowledged(store, devices, stats: SimStats) -> list:
    """Acknowledged values that are not in the store (must be empty)."""
    site_of = {d.mn: d.site_code for d in devices}
    have = stored_values(store)
    out = []
    for mn, cn, t, values in stats.acked_packets:
        for code, v in values.items():
            got = have.get((site_of[mn], code, INTERVAL[cn], t))
            if got is None or got != pytest.approx(v):
                out.append((mn, cn, t, code, v, got))
    return out


@pytest.fixture
def gw(store):
    h = start_in_thread(store, port=0, config=GatewayConfig(command_poll=0.1))
    yield h
    h.stop()


def test_parse_faults():
    assert parse_faults("bad-crc=0.01, split=0.5,drift") == {"bad-crc": 0.01, "split": 0.5, "drift": 0.1}
    assert parse_faults(None) == {}
    with pytest.raises(ValueError, match="fault 'nope'"):
        parse_faults("nope=0.1")
    with pytest.raises(ValueError, match="between 0 and 1"):
        parse_faults("split=2")


def test_faulty_devices_everything_acknowledged_is_stored_once(store, gw):
    devs = make_devices(20, mix="mixed", prefix="SIMF")
    register_devices(store, devs)
    faults = parse_faults("bad-crc=0.03,split=0.05,merge=0.05,garbage=0.03,disconnect=0.01,drift=0.2")
    stats = simulate(devs, port=gw.port, rate=200, duration=3, faults=faults, ack_timeout=1.0, recount=5,
                     keep_acked=True, seed=7)
    assert stats.sent > 400 and stats.failed == 0 and stats.unanswered == 0
    assert stats.acked == stats.sent  # every packet was eventually answered …
    assert stats.retransmitted >= stats.faults.get("bad-crc", 0) > 0
    assert {"split", "merge", "garbage", "bad-crc"} <= set(stats.faults)
    assert {"2081", "2011", "2051"} <= set(stats.by_cn)
    assert missing_acknowledged(store, devs, stats) == []  # … and is in the store
    g = gw.stats()
    assert g["conflicts"] == 0 and g["rejected_frames"] >= stats.faults["bad-crc"]
    # drifting clocks (QN time off by 10-30 min) were set by the platform: 1012, answered 9011/9012
    with store.engine.connect() as c:
        synced = set(c.scalars(select(device_command.c.mn).where(device_command.c.kind == "set-time",
                                                                 device_command.c.status == "done")))
    assert len(synced) == stats.faults["drift"] > 0
    assert stats.commands.get("1012:done", 0) >= len(synced)  # (re-sent when a disconnect interrupted it)


def test_hj212_2005_devices_are_not_answered_and_their_old_codes_stored(sqlite_store):
    store = sqlite_store
    h = start_in_thread(store, port=0)
    try:
        devs = make_devices(3, protocol="2005", prefix="OLD")
        register_devices(store, devs)
        stats = simulate(devs, port=h.port, rate=30, duration=1.5, mix="realtime", ack_timeout=1.0)
        assert stats.sent > 20 and stats.no_ack_expected == stats.sent and stats.acked == 0
        assert stats.unanswered == 0 and stats.retransmitted == 0
        n = stats.sent - 3  # minus the boot packets
        h.stop()
    finally:
        h.stop()
    have = stored_values(store)
    codes = {k[1] for k in have}
    assert "a21026" in codes and "a21003" not in codes  # NO has no 2005 code: not sent
    assert len(have) == n * 9


def test_hj212_2025_with_sm4_encrypted_data(sqlite_store):
    store = sqlite_store
    key = "0123456789abcdeffedcba9876543210"
    devs = make_devices(3, protocol="2025", prefix="NEW", sm4_key=key)
    register_devices(store, devs)
    h = start_in_thread(store, port=0)
    try:
        stats = simulate(devs, port=h.port, rate=30, duration=1.5, mix="realtime", keep_acked=True,
                         ack_timeout=2.0)
    finally:
        h.stop()
    assert stats.acked == stats.sent > 20
    assert missing_acknowledged(store, devs, stats) == []


def test_backfill_answered_by_a_simulated_logger(store, gw):
    devs = make_devices(2, prefix="BKF")
    register_devices(store, devs)
    result: dict = {}

    def run():
        loop = asyncio.new_event_loop()
        result["stats"] = loop.run_until_complete(run_simulation(devs, port=gw.port, rate=4, duration=8,
                                                                 time_lapse=False, keep_acked=True,
                                                                 ack_timeout=2.0))
        loop.close()

    t = threading.Thread(target=run)
    t.start()
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    cid = enqueue_command(store, devs[0].mn, "backfill", begin=end - timedelta(hours=3), end=end)
    row = wait_command(store, cid, timeout=30)
    t.join(40)
    assert row["status"] == "done", row
    assert row["result"] == {"qn_rtn": 1, "exe_rtn": 1, "uploads": 4, "requests_sent": 1}
    stats = result["stats"]
    assert stats.commands["2061"] == 1 and stats.commands["2061:done"] == 1
    hours = {k[3] for k in stored_values(store) if k[0] == devs[0].site_code and k[2] == "hour"}
    want = {int((end - timedelta(hours=i)).timestamp()) for i in range(4)}
    assert want <= hours
    assert missing_acknowledged(store, devs, stats) == []


def test_cli_simulate_registers_devices_and_prints_the_counts(tmp_path, sqlite_template):
    from ecohub.cli.gateway_cmds import _standalone
    from ecohub.store.db import Store

    db = tmp_path / "cli.db"
    db.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{db}"
    store = Store.open(url)
    h = start_in_thread(store, port=0, config=GatewayConfig(command_poll=0.1))
    try:
        app = _standalone()
        res = CliRunner().invoke(app, ["hj212", "simulate", "--devices", "3", "--port", str(h.port), "--rate", "30",
                                       "--duration", "1", "--register", "--database-url", url, "--json",
                                       "--faults", "split=0.2"])
        assert res.exit_code == 0, res.output
        d = json.loads(res.output.strip().splitlines()[-1])
        assert d["sent"] > 20 and d["acked"] == d["sent"] and d["failed"] == 0
        # a command from the CLI, executed while a simulated device is connected
        devs = make_devices(3, prefix="SIM")
        done: dict = {}
        t = threading.Thread(target=lambda: done.setdefault("s", simulate(devs[:1], port=h.port, rate=2,
                                                                          duration=6, time_lapse=False)))
        t.start()
        res = CliRunner().invoke(app, ["device", "command", devs[0].mn, "set-interval", "--seconds", "60", "--wait",
                                       "--timeout", "20", "--database-url", url, "--json"])
        t.join(30)
        assert res.exit_code == 0, res.output
        row = json.loads(res.output.strip().splitlines()[-1])
        assert row["status"] == "done" and row["cn"] == "1062"
        res = CliRunner().invoke(app, ["device", "command", devs[0].mn, "backfill", "--from", "2026-01-02T00:00",
                                       "--to", "2026-01-01T00:00", "--database-url", url])
        assert res.exit_code == 2 and "after end" in res.output
        res = CliRunner().invoke(app, ["device", "command", devs[0].mn, "list", "--json", "--database-url", url])
        assert res.exit_code == 0 and json.loads(res.output.splitlines()[0])["kind"] == "set-interval"
        res = CliRunner().invoke(app, ["device", "commands", "--status", "done", "--database-url", url])
        assert res.exit_code == 0 and "set-interval" in res.output
    finally:
        h.stop()
        store.close()


def test_demo_devices_upload_to_a_gateway_in_the_same_process(sqlite_store):
    """What ``ecohub demo`` does: the gateway and the 12 demo outlets' loggers in one process."""
    import time

    from ecohub.demo.devices import simulate_demo_devices
    from ecohub.demo.province import load_registers

    store = sqlite_store
    assert load_registers(store)["devices"] == 12
    h = start_in_thread(store, port=0)
    thread, stop = simulate_demo_devices(store, port=h.port, rate_per_device=2.0)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len({k[0] for k in stored_values(store)}) < 12:
            time.sleep(0.1)
        sites = {k[0] for k in stored_values(store)}
        assert len(sites) == 12 and all(code.startswith("DEMO-E") for code in sites)
        assert h.stats()["auth_failures"] == 0 and h.stats()["devices_online"] == 12
    finally:
        stop.set()
        thread.join(20)
        h.stop()
    assert not thread.is_alive()


def test_a_second_simulate_run_continues_after_the_stored_data(tmp_path, sqlite_template):
    """Issue 12 item 5: the simulated clock restarted on every run, so a second run against the same database
    sent only duplicates. It now continues after the newest stored time (or at ``--start``)."""
    from ecohub.cli.gateway_cmds import _standalone
    from ecohub.store.db import Store

    db = tmp_path / "cli.db"
    db.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{db}"
    store = Store.open(url)
    h = start_in_thread(store, port=0, config=GatewayConfig(command_poll=0.1))
    app = _standalone()
    args = ["hj212", "simulate", "--devices", "3", "--port", str(h.port), "--rate", "30", "--duration", "1",
            "--register", "--database-url", url, "--json", "--mix", "realtime"]
    try:
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0, res.output
        first = h.stats()
        assert first["stored"] > 0 and first["duplicates"] == 0
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0, res.output
        second = h.stats()
        assert second["duplicates"] == 0  # new data, not the first run's again
        assert second["stored"] >= 2 * first["stored"] * 0.8
        # --start: the clock starts where asked; one that would run more than a day ahead is refused, naming it
        res = CliRunner().invoke(app, [*args, "--start", "2099-01-01T00:00"])
        assert res.exit_code != 0 and "2099-01-01" in res.output and "quarantines" in res.output
        res = CliRunner().invoke(app, [*args, "--start", "yesterday"])
        assert res.exit_code != 0 and "yesterday" in res.output
        res = CliRunner().invoke(app, [*args, "--start", "2026-01-01T08:00"])
        assert res.exit_code == 0, res.output
        assert h.stats()["duplicates"] == 0
    finally:
        h.stop()
    with store.engine.connect() as c:
        oldest = c.scalar(select(observation.c.time).order_by(observation.c.time).limit(1))
    assert oldest.year == 2026 and oldest.month == 1 and oldest.day == 1
    store.close()


def test_qn_of_a_fast_device_stays_a_valid_time():
    """More than one packet per millisecond: the QN runs ahead a millisecond per packet and rolls over into the
    next minute (not into an impossible second 60, which the gateway refuses)."""
    from ecohub.ingest.hj212.sim.device import _Device
    from ecohub.ingest.hj212.sim.stats import Simulation
    from ecohub.protocols.hj212 import parse_time

    devs = make_devices(1, prefix="SIMQ")
    sim = Simulation("127.0.0.1", 1, devs, rate=1, duration=1, faults={}, ack_timeout=1, recount=0,
                     rtd_interval=30, time_lapse=None, mix_realtime=False, keep_acked=False, seed=1, drain=0)
    d = _Device(devs[0], sim, 0)
    d.last_qn_ms = int(datetime(2099, 1, 1, 0, 0, 59, 998000, tzinfo=UTC).timestamp() * 1000)  # ahead of now
    qns = [d.new_qn() for _ in range(3)]
    assert [q[-5:] for q in qns] == ["59999", "00000", "00001"]
    assert [parse_time(q, "QN") for q in qns] == sorted(parse_time(q, "QN") for q in qns)
