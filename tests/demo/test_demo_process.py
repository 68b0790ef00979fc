"""`ecohub demo` as a user runs it: one process with the web, the replay, the HJ 212 gateway, the simulated
outlets' data loggers and the worker — the outlets' data arrive over HJ 212 and the worker raises alerts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def test_demo_runs_gateway_devices_and_worker(tmp_path):
    port, gw = _free_port(), _free_port()
    env = {**os.environ, "ECOHUB_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    env.pop("ECOHUB_DATABASE_URL", None)
    log = tmp_path / "demo.log"
    cmd = [sys.executable, "-m", "ecohub.cli.main", "demo", "--port", str(port), "--gateway-port", str(gw),
           "--days", "1", "--worker-interval", "5"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        outlet_rows, alerts = [], []
        while time.monotonic() < deadline and not (outlet_rows and alerts):
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                # DEMO-E05-G01 is a key unit (disclosed): its HJ 212 real-time data are public
                outlet_rows = [r for r in _get(f"{base}/api/v1/latest?site=DEMO-E05-G01")
                               if r["interval"] == "rt"]
                alerts = _get(f"{base}/api/v1/alerts?status=open")["results"]
            except OSError:
                pass
            time.sleep(1)
        text = log.read_text(errors="replace")
        assert outlet_rows, "no HJ 212 data from the simulated outlet arrived:\n" + text[-3000:]
        assert {r["parameter"] for r in outlet_rows} >= {"so2_gas", "nox", "o2"}
        assert alerts, "the worker raised no alert:\n" + text[-3000:]
        assert f"HJ 212 gateway on 127.0.0.1:{gw}" in text
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
