"""Proof of HJ 212 forwarding against a second, real ecohub gateway as the upstream platform.

Simulated devices send to our gateway (in this process, its own SQLite store); the forwarder sends the outbox to an
upstream ``ecohub gateway`` process with its own SQLite store. The upstream is SIGKILLed mid-stream and restarted
on the same port. Then every record our gateway stored is in the upstream store exactly once (same values, no
conflicting second version), and snapshots of the upstream taken all along show no holes: per series, what the
upstream held at any moment was a prefix, in time order, of what our gateway received — sent in order per device.
"""

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

from ecohub.exchange.forward import add_destination, destination_status
from ecohub.exchange.forwarder import ForwarderConfig, ForwarderHandle
from ecohub.ingest.hj212 import GatewayConfig
from ecohub.ingest.hj212.run import start_in_thread
from ecohub.ingest.hj212.sim import make_devices, register_devices, simulate
from ecohub.store.db import Store
from ecohub.store.schema import observation, observation_conflict, parameter, series, site
from ecohub.store.schema_exchange import forward_outbox

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_upstream(url: str, port: int) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-m", "ecohub.cli.main", "gateway", "--port", str(port), "--database-url",
                          url, "--log-level", "warning", "--device-rate", "1000", "--writer-thread"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = p.stdout.readline()
    assert line.startswith("listening"), line
    return p


_Q = (select(site.c.code, parameter.c.name, series.c.interval, observation.c.time, observation.c.value)
      .select_from(observation.join(series, series.c.id == observation.c.series_id)
                   .join(site, site.c.id == series.c.site_id).join(parameter, parameter.c.id == series.c.parameter_id)))


def records(store: Store) -> dict[tuple, float]:
    with store.engine.connect() as c:
        return {(r[0], r[1], r[2], r[3]): r[4] for r in c.execute(_Q)}


def snapshot(store: Store) -> dict[tuple, tuple[int, object]]:
    """Per series: (rows, newest time)."""
    q = (select(site.c.code, parameter.c.name, series.c.interval, func.count(), func.max(observation.c.time))
         .select_from(observation.join(series, series.c.id == observation.c.series_id)
                      .join(site, site.c.id == series.c.site_id)
                      .join(parameter, parameter.c.id == series.c.parameter_id))
         .group_by(site.c.code, parameter.c.name, series.c.interval))
    with store.engine.connect() as c:
        return {(r[0], r[1], r[2]): (int(r[3]), r[4]) for r in c.execute(q)}


def test_upstream_killed_mid_stream_gets_every_record_once_in_order(store, tmp_path):
    """Our store on SQLite and on PostgreSQL (two writers: the forwarder lets rows settle 2 s); the upstream's on
    SQLite."""
    local = store
    up_url = f"sqlite:///{tmp_path / 'upstream.db'}"
    upstream = Store.open(up_url)
    upstream.init()
    devs = make_devices(20, prefix="FWD")
    register_devices(local, devs)
    register_devices(upstream, devs)  # the same MN/PW upstream: original packets are accepted as they are
    up_port = free_port()
    add_destination(local, "province", "127.0.0.1", up_port, mode="original")
    up = start_upstream(up_url, up_port)
    gw = start_in_thread(local, port=0, config=GatewayConfig(device_rate=1000, device_burst=10000))
    fw = ForwarderHandle(local, ForwarderConfig(ack_timeout=1.0, recount=2, retry_min=0.1, retry_max=0.5,
                                                reload=0.5, poll=0.05))
    result: dict = {}
    sim = threading.Thread(target=lambda: result.setdefault(
        "stats", simulate(devs, port=gw.port, rate=150, duration=8, keep_acked=True, seed=5)))
    snaps: list[dict] = []
    up2 = None
    outage_backlog = 0
    try:
        sim.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(n for n, _ in snapshot(upstream).values()) < 300:
            time.sleep(0.05)
        snaps.append(snapshot(upstream))
        up.send_signal(signal.SIGKILL)
        assert up.wait(10) == -signal.SIGKILL
        time.sleep(2.0)  # the upstream is away: the backlog grows, intake goes on
        outage_backlog = next(s for s in destination_status(local) if s["name"] == "province")["backlog"]
        up2 = start_upstream(up_url, up_port)
        while sim.is_alive():
            snaps.append(snapshot(upstream))
            time.sleep(0.2)
        sim.join()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            st = next(s for s in destination_status(local) if s["name"] == "province")
            if st["backlog"] == 0:
                break
            snaps.append(snapshot(upstream))
            time.sleep(0.2)
    finally:
        fw.stop()
        gw.stop()
        for p in (up, up2):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
    stats = result["stats"]
    assert stats.acked == stats.sent and stats.failed == 0  # intake went on during the outage
    assert outage_backlog > 0
    st = next(s for s in destination_status(local) if s["name"] == "province")
    assert st["backlog"] == 0 and st["failed"] == 0 and st["failures"] >= 1 and st["last_ack_at"] is not None
    mine, theirs = records(local), records(upstream)
    assert len(mine) > 1000
    assert theirs == mine  # every record, same value, exactly once (the key is unique)
    with upstream.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(observation_conflict)) == 0
    with local.engine.connect() as c:
        done = c.execute(select(forward_outbox.c.status, func.count()).group_by(forward_outbox.c.status)).all()
    assert set(dict(done)) == {"done"} and dict(done)["done"] >= stats.acked * 0.9  # every upload was queued
    # in order per device: at every snapshot each series held a prefix of what our gateway received
    times: dict[tuple, list] = {}
    for (code, name, interval, t) in sorted(mine):
        times.setdefault((code, name, interval), []).append(t)
    holes = []
    for snap in snaps:
        for key, (n, newest) in snap.items():
            expect = sum(1 for t in times[key] if t <= newest)
            if n != expect:
                holes.append((key, n, expect))
    assert len(snaps) > 5 and holes == []
