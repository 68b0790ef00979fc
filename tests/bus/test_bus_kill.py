"""Proof (issue 18): no acknowledged datum lost through the bus. Devices → ``ecohub gateway --bus`` → JetStream
→ ``ecohub writer --bus`` → the store. In the middle of the run the writer is SIGKILLed (and restarted), then
the gateway (restarted on the same port; the devices reconnect and retransmit what was not answered), then the
NATS server itself (restarted on the same store directory). Afterwards every packet the devices saw answered
(9014) is in the store exactly once. On SQLite and on PostgreSQL; the direct-to-database path has the same
proof in ``tests/ingest/test_hj212_kill.py``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from ecohub.ingest.hj212.sim import make_devices, register_devices, simulate
from ecohub.store.schema import device_event, observation, observation_conflict, parameter, series, site

ROOT = Path(__file__).resolve().parents[2]
INTERVAL = {"2011": "rt", "2051": "minute", "2061": "hour", "2031": "day"}
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gateway(db: str, port: int, bus: str) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-m", "ecohub.cli.main", "gateway", "--port", str(port),
                          "--database-url", db, "--log-level", "error", "--device-rate", "1000", "--bus", bus],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=ENV)
    line = p.stdout.readline()
    assert line.startswith("listening"), line
    return p


def start_writer(db: str, bus: str, workers: int = 1) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-m", "ecohub.cli.main", "writer", "--bus", bus, "--database-url", db,
                          "--workers", str(workers), "--log-level", "error"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=ENV)
    line = p.stdout.readline()
    assert line.startswith("writing"), line
    return p


def n_obs(store) -> int:
    with store.engine.connect() as c:
        return int(c.scalar(select(func.count()).select_from(observation)))


def wait_obs(store, n: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while (have := n_obs(store)) < n and time.monotonic() < deadline:  # bounded poll
        time.sleep(0.05)
    return have


def stored(store) -> tuple[dict, int, int, int]:
    q = (select(site.c.code, parameter.c.hj212_2017, series.c.interval, observation.c.time, observation.c.value)
         .select_from(observation.join(series, series.c.id == observation.c.series_id)
                      .join(site, site.c.id == series.c.site_id)
                      .join(parameter, parameter.c.id == series.c.parameter_id))
         .where(parameter.c.hj212_2017.is_not(None)))
    with store.engine.connect() as c:
        rows = c.execute(q).all()
        conflicts = c.scalar(select(func.count()).select_from(observation_conflict))
        boots = c.scalar(select(func.count()).select_from(device_event).where(device_event.c.kind == "boot"))
    have = {(r[0], r[1], r[2], int(r[3].timestamp())): r[4] for r in rows}
    return have, len(rows), int(conflicts or 0), int(boots or 0)


def stop(p: subprocess.Popen | None) -> None:
    if p is not None and p.poll() is None:
        p.terminate()
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def test_sigkill_writer_gateway_and_nats_mid_stream_every_acked_packet_stored_once(store, nats_server):
    db = store.engine.url.render_as_string(hide_password=False)
    bus = nats_server.url
    devs = make_devices(100, prefix="BUSK")
    register_devices(store, devs)
    port = free_port()
    procs: list[subprocess.Popen] = []
    procs.append(writer := start_writer(db, bus))
    procs.append(gw := start_gateway(db, port, bus))
    result: dict = {}

    duration = 40.0  # long enough that the three kills fall inside the run even on a loaded machine

    def run():
        result["stats"] = simulate(devs, port=port, rate=500, duration=duration, keep_acked=True, ack_timeout=2.0,
                                   recount=15, seed=7, ramp=1.0)

    sim = threading.Thread(target=run)
    sim_start = time.monotonic()
    sim.start()
    try:
        assert wait_obs(store, 3_000, 30) >= 3_000  # data flow through the bus into the store
        writer.send_signal(signal.SIGKILL)  # 1. a writer, mid-stream
        assert writer.wait(10) == -signal.SIGKILL
        time.sleep(0.5)
        procs.append(writer := start_writer(db, bus, workers=2))
        at = n_obs(store)
        assert wait_obs(store, at + 2_000, 30) >= at + 2_000
        gw.send_signal(signal.SIGKILL)  # 2. the gateway, mid-stream
        assert gw.wait(10) == -signal.SIGKILL
        procs.append(gw := start_gateway(db, port, bus))
        at = n_obs(store)
        assert wait_obs(store, at + 2_000, 30) >= at + 2_000
        nats_server.kill()  # 3. NATS, mid-stream
        time.sleep(1.0)
        nats_server.start()
        # the scenario holds only if every kill came while the devices were still sending (a device that has
        # finished does not reconnect): say so plainly rather than fail on the counts below
        assert time.monotonic() - sim_start < duration, "the kill sequence outlasted the simulated run"
        sim.join(90)
        assert not sim.is_alive()
        stats = result["stats"]
        assert stats.failed == 0 and stats.unanswered == 0 and stats.acked == stats.sent, stats.failed_packets
        site_of = {d.mn: d.site_code for d in devs}
        expected = {}
        for mn, cn, t, values in stats.acked_packets:
            for code, v in values.items():
                expected[(site_of[mn], code, INTERVAL[cn], t)] = v
        # the writers catch up with the stream (bounded wait), then compare
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            have, n_rows, conflicts, boots = stored(store)
            if all(k in have for k in expected):
                break
            time.sleep(0.5)
    finally:
        for p in procs:
            stop(p)
    assert stats.connects >= 2 * len(devs) and stats.retransmitted > 0  # the gateway's death was felt
    missing = [k for k, v in expected.items() if k not in have or abs(have[k] - v) > 1e-9]
    assert missing == []  # every acknowledged value is in the store …
    assert n_rows == len(have) == len(expected)  # … once: one row per value sent
    assert conflicts == 0
    assert boots == len(devs)
