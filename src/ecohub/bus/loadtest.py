"""``ecohub loadtest``: M simulated outlets (HJ 212, ~10 pollutants each, minute data time-compressed) through
G gateway processes → (with a bus) JetStream → W writer workers → the database, or (``writers=0``) the gateways
writing directly. Measures acknowledged packets/s at the devices, ack latency, and end-to-end observations/s
(until the database holds everything that was acknowledged). Bounded load on 127.0.0.1 only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from sqlalchemy import func, select

from ecohub.ingest.hj212.sim import make_devices, register_devices, simulate
from ecohub.store.db import Store
from ecohub.store.schema import observation

__all__ = ["run_loadtest"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spawn(args: list[str], expect: str) -> subprocess.Popen[str]:
    p = subprocess.Popen([sys.executable, "-m", "ecohub.cli.main", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert p.stdout is not None
    line = p.stdout.readline()
    if not line.startswith(expect):
        p.kill()
        raise RuntimeError(f"{args[0]} did not start: {line!r}")
    return p


def _stop(p: subprocess.Popen[str]) -> None:
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()


def _count(store: Store) -> int:
    with store.engine.connect() as c:
        return int(c.scalar(select(func.count()).select_from(observation)) or 0)


def run_loadtest(database_url: str, *, outlets: int, gateways: int, writers: int, seconds: float,
                 bus: str | None, rate: float | None = None, prefix: str = "LT") -> dict[str, Any]:
    """One run; ``writers=0`` (or no ``bus``): the gateways write directly. ``rate``: packets/s over all outlets
    (default: one per outlet per second, i.e. minute data compressed 60×)."""
    store = Store.open(database_url)
    devs = make_devices(outlets, prefix=prefix)
    register_devices(store, devs)
    use_bus = bool(bus) and writers > 0
    procs: list[subprocess.Popen[str]] = []
    try:
        if use_bus:
            assert bus is not None
            procs.append(_spawn(["writer", "--bus", bus, "--database-url", database_url, "--workers", str(writers),
                                 "--log-level", "error"], "writing"))
        ports = []
        for _ in range(gateways):
            port = _free_port()
            args = ["gateway", "--port", str(port), "--database-url", database_url, "--log-level", "error",
                    "--device-rate", "1000"]
            if use_bus:
                args += ["--bus", str(bus)]
            procs.append(_spawn(args, "listening"))
            ports.append(port)
        before = _count(store)
        total_rate = float(rate if rate is not None else outlets)
        groups = [devs[i::gateways] for i in range(gateways)]
        results: list[Any] = [None] * gateways

        def run(i: int) -> None:
            results[i] = simulate(groups[i], port=ports[i], rate=total_rate / gateways, duration=seconds,
                                  ack_timeout=10.0, seed=i, ramp=1.0)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=run, args=(i,)) for i in range(gateways)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        t_sim = time.perf_counter() - t0
        # end to end: until the database stops growing (bounded)
        last, still_since = _count(store), time.perf_counter()
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline:
            time.sleep(0.25)
            n = _count(store)
            if n != last:
                last, still_since = n, time.perf_counter()
            elif time.perf_counter() - still_since > 1.5:
                break
        t_e2e = still_since - t0
    finally:
        for p in reversed(procs):
            _stop(p)
        store.close()
    acked = sum(r.acked for r in results if r is not None)
    sent = sum(r.sent for r in results if r is not None)
    lat = sorted(x for r in results if r is not None for x in r.latencies)

    def q(f: float) -> float | None:
        return round(lat[min(len(lat) - 1, int(f * len(lat)))] * 1000, 1) if lat else None
    rows = last - before
    return {"mode": "bus" if use_bus else "direct", "outlets": outlets, "gateways": gateways,
            "writers": writers if use_bus else 0, "seconds": round(t_sim, 2), "sent": sent, "acked": acked,
            "acked_per_s": round(acked / t_sim, 1) if t_sim else 0.0, "ack_p50_ms": q(0.5), "ack_p99_ms": q(0.99),
            "observations": rows, "end_to_end_s": round(t_e2e, 2),
            "observations_per_s": round(rows / t_e2e, 1) if t_e2e > 0 else 0.0}
