"""Metrics scraped over HTTP and seen moving (issue 18.4): the bus writer's metrics port, the gateway's metrics
port, the API's ``/metrics``; readiness of the API checks the database and the bus (503 when NATS is down)."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import nats
import pytest
from fastapi.testclient import TestClient

from ecohub.bus.codec import BusMessage, encode
from ecohub.bus.consume import BusWriter, run_worker
from ecohub.bus.metrics import gateway_registry, serve
from ecohub.bus.streams import BusConfig, ensure_streams

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample(text: str, name: str, labels: str = "") -> float:
    m = re.search(rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+-]+)$", text, re.M)
    assert m, f"{name}{labels} not in the scrape"
    return float(m.group(1))


def scrape(port: int) -> str:
    return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text


def test_writer_metrics_move(store, nats_server):
    from sqlalchemy import select

    from ecohub.ingest.hj212.sim import make_devices, register_devices
    from ecohub.store.schema import parameter, site

    devs = make_devices(1, prefix="MET")
    register_devices(store, devs)
    with store.engine.connect() as c:
        sid = int(c.scalar(select(site.c.id).where(site.c.code == devs[0].site_code)))
        pid = int(c.scalar(select(parameter.c.id).where(parameter.c.hj212_2017 == "a34004")))
    cfg = BusConfig(url=nats_server.url)
    w = BusWriter(store, cfg)
    port = free_port()
    server = serve(port, w.registry)
    try:
        before = scrape(port)
        assert sample(before, "ecohub_writer_acked_total") == 0
        assert sample(before, "ecohub_writer_write_seconds_count") == 0

        async def main() -> None:
            nc = await nats.connect(nats_server.url)
            js = nc.jetstream()
            await ensure_streams(js, cfg)
            for i in range(3):
                await js.publish("ecohub.ingest.air.320100",
                                 encode(BusMessage(rows=[((sid, pid, "minute"), 1_767_000_000 + 60 * i, 1.0, "N")])))
            await js.publish("ecohub.ingest.air.320100", b"junk")
            stop = asyncio.Event()
            task = asyncio.create_task(w.run(stop))
            for _ in range(200):
                if w.counters["acked"] >= 4:
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await task
            await nc.close()

        asyncio.run(main())
        after = scrape(port)
    finally:
        server.shutdown()
    assert sample(after, "ecohub_writer_acked_total") == 4
    assert sample(after, "ecohub_writer_stored_total") == 3
    assert sample(after, "ecohub_writer_rejects_total", '{reason="dead"}') == 1
    assert sample(after, "ecohub_writer_write_seconds_count") >= 1


def test_gateway_metrics_move(store):
    from ecohub.ingest.hj212 import start_in_thread
    from ecohub.ingest.hj212.sim import make_devices, register_devices, simulate

    devs = make_devices(5, prefix="GWM")
    register_devices(store, devs)
    handle = start_in_thread(store, port=0)
    port = free_port()
    server = serve(port, gateway_registry(handle.gateway))
    try:
        before = scrape(port)
        stats = simulate(devs, port=handle.port, rate=50, duration=2, ack_timeout=5.0, seed=3)
        after = scrape(port)
    finally:
        server.shutdown()
        handle.stop()
    assert stats.acked > 0
    assert sample(before, "ecohub_gateway_packets_total") == 0
    assert sample(after, "ecohub_gateway_packets_total") >= stats.acked
    assert sample(after, "ecohub_gateway_acks_sent_total") >= stats.acked
    assert sample(after, "ecohub_gateway_rejects_total", '{reason="auth_failures"}') == 0
    assert sample(after, "ecohub_gateway_queue_depth") >= 0
    assert sample(after, "ecohub_gateway_ack_latency_p99_seconds") > 0


def test_api_metrics_and_readiness(store, nats_server, monkeypatch):
    from ecohub.api.app import create_app

    client = TestClient(create_app(store))
    assert client.get("/api/v1/status").status_code == 200
    text = client.get("/metrics").text
    n1 = sample(text, "ecohub_api_requests_total", '{method="GET",route="/api/v1/status",status="200"}')
    client.get("/api/v1/status")
    text = client.get("/metrics").text
    assert sample(text, "ecohub_api_requests_total", '{method="GET",route="/api/v1/status",status="200"}') == n1 + 1
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"] == {"database": True}
    settings = client.app.state.settings  # as if started with ECOHUB_BUS_URL set
    client.app.state.settings = settings.model_copy(update={"bus_url": nats_server.url})

    async def make_stream() -> None:
        nc = await nats.connect(nats_server.url)
        await ensure_streams(nc.jetstream(), BusConfig(url=nats_server.url))
        await nc.close()

    asyncio.run(make_stream())
    r = client.get("/readyz")
    assert r.status_code == 200, r.json()
    assert "ECOHUB_INGEST" in r.json()["checks"]["bus"]
    nats_server.kill()
    r = client.get("/readyz")
    assert r.status_code == 503 and "cannot connect" in r.json()["checks"]["bus"]


def test_writer_and_gateway_readiness_check_database_and_bus(store, nats_server):
    """``/readyz`` on the metrics ports of ``ecohub writer`` and ``ecohub gateway --bus``: 200 with the database
    and the ingest stream, 503 naming the bus once NATS is gone."""
    db = store.engine.url.render_as_string(hide_password=False)
    stop_writer = threading.Event()
    wport, gport, mport = free_port(), free_port(), free_port()
    writer = threading.Thread(target=run_worker, args=(db, BusConfig(url=nats_server.url), stop_writer, wport),
                              daemon=True)
    writer.start()
    gw = subprocess.Popen([sys.executable, "-m", "ecohub.cli.main", "gateway", "--port", str(gport),
                           "--database-url", db, "--log-level", "error", "--bus", nats_server.url,
                           "--metrics-port", str(mport)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert gw.stdout.readline().startswith("listening")

        def ready(port: int) -> httpx.Response | None:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
            except httpx.TransportError:
                return None  # not serving yet

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any((r := ready(p)) is None or r.status_code != 200
                                                  for p in (wport, mport)):
            time.sleep(0.1)  # bounded wait for both to start
        for port in (wport, mport):
            r = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
            assert r.status_code == 200, r.text
            assert r.json()["checks"]["database"] is True and "ECOHUB_INGEST" in r.json()["checks"]["bus"]
            assert "ecohub_" in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        nats_server.kill()
        for port in (wport, mport):
            r = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
            assert r.status_code == 503 and r.json()["status"] == "not ready"
            assert "cannot connect" in r.json()["checks"]["bus"] and r.json()["checks"]["database"] is True
    finally:
        stop_writer.set()
        gw.terminate()
        gw.wait(20)
        writer.join(30)


@pytest.fixture(autouse=True)
def _no_threads_left():
    n = threading.active_count()
    yield
    deadline = time.monotonic() + 5
    while threading.active_count() > n + 2 and time.monotonic() < deadline:  # servers shut down
        time.sleep(0.05)
