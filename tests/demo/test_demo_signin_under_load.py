"""The proof asked by issue 10, item 1: 40 sign-ins while the simulator sends 100 packets/s into the demo's
HJ 212 gateway — none answered 5xx, and wrong passwords count towards the lock-out.

``ecohub demo`` runs as a user runs it (web, replay, gateway, its own simulated outlets; embedded SQLite) on
127.0.0.1 only; this test registers 20 more simulated flue-gas outlets and drives them at 100 packets/s in total
for the duration of the sign-ins (bounded: the run stops when the sign-ins are done)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

pytestmark = pytest.mark.slow

PASSWORD = "Load-Test-Pass-2026"
RATE = 100.0  # packets per second into the gateway


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post_form(url: str, data: dict) -> tuple[int, dict]:
    body = urllib.parse.urlencode(data).encode()
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_forty_sign_ins_under_gateway_load_none_5xx(tmp_path):
    from ecohub.api.identity import create_user
    from ecohub.ingest.hj212.sim import make_devices, register_devices, run_simulation
    from ecohub.store.db import Store

    port, gw = _free_port(), _free_port()
    env = {**os.environ, "ECOHUB_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1",
           "ECOHUB_RATE_LIMIT_LOGIN": "100000", "ECOHUB_RATE_LIMIT_ANON": "100000"}
    env.pop("ECOHUB_DATABASE_URL", None)
    log = tmp_path / "demo.log"
    cmd = [sys.executable, "-m", "ecohub.cli.main", "demo", "--host", "127.0.0.1", "--port", str(port),
           "--gateway-port", str(gw), "--days", "1", "--no-worker"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    stop = None
    sim_thread = None
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "demo did not start:\n" + log.read_text(errors="replace")[-3000:]
                time.sleep(0.3)
        store = Store.open(f"sqlite:///{(tmp_path / 'ecohub.db').as_posix()}")
        try:
            from ecohub.store.tx import write_tx

            with write_tx(store) as c:
                for name in ("load_a", "load_b"):
                    create_user(c, name, PASSWORD, "analyst")
            devices = make_devices(20, mix="gas", prefix="LOAD")
            register_devices(store, devices)
        finally:
            store.close()

        import asyncio

        result: dict = {}
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()

        def drive():
            async def main():
                return await run_simulation(devices, "127.0.0.1", gw, rate=RATE, duration=600, stop_event=stop,
                                            ramp=1.0, drain=2.0)
            result["stats"] = loop.run_until_complete(main())

        sim_thread = threading.Thread(target=drive, daemon=True)
        sim_thread.start()
        time.sleep(3)  # the load is up before the first sign-in

        statuses: list[int] = []
        t0 = time.monotonic()
        for i in range(40):
            if i % 8 == 7:  # a wrong password, for load_b: five of them, each counted, none lost to a 5xx
                code, _ = _post_form(base + "/api/v1/auth/token", {"username": "load_b", "password": "Wrong-Pass-1"})
            else:
                code, body = _post_form(base + "/api/v1/auth/token", {"username": "load_a", "password": PASSWORD})
                if code == 200:
                    assert body["access_token"]
            statuses.append(code)
        elapsed = time.monotonic() - t0
        loop.call_soon_threadsafe(stop.set)
        sim_thread.join(30)
        stats = result.get("stats")
        bad = [s for s in statuses if s >= 500]
        assert bad == [], f"{len(bad)} of 40 sign-ins answered 5xx: {statuses}\n" + log.read_text(errors="replace")[-2000:]
        assert statuses.count(200) == 35 and statuses.count(401) == 5
        # the gateway really was under load while the sign-ins ran
        assert stats is not None and stats.acked > 0
        print(f"40 sign-ins in {elapsed:.1f} s while the simulator sent {stats.sent} packets "
              f"({stats.sent / max(stats.duration, 1e-9):.0f}/s, {stats.acked} acknowledged)")
        assert stats.sent >= 0.5 * RATE * min(elapsed, stats.duration), "the simulator did not keep up its rate"
        # the five wrong passwords were all counted: load_b is locked, the right password is refused too
        code, _ = _post_form(base + "/api/v1/auth/token", {"username": "load_b", "password": "Wrong-Pass-1"})
        assert code == 401
        code, _ = _post_form(base + "/api/v1/auth/token", {"username": "load_b", "password": PASSWORD})
        assert code == 401, "five wrong passwords must lock the account"
    finally:
        if stop is not None and sim_thread is not None and sim_thread.is_alive():
            loop.call_soon_threadsafe(stop.set)
            sim_thread.join(10)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
