"""Ingest through the bus vs direct to the database, in one run (issue 18.3): M simulated outlets through one
gateway; direct (the gateway's own writers, the baseline) and through NATS JetStream with W = 1, 2, 4 writer
workers. Starts its own nats-server (-js, temp store, free port) and a scratch PostgreSQL database (or uses
``--database-url``). Bounded load on 127.0.0.1.

    .venv/bin/python bench/bench_bus.py --outlets 300 --seconds 8 [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ecohub.bus.loadtest import _free_port, run_loadtest
from ecohub.store.db import Store


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--outlets", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--rate", type=float, default=None)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    a = ap.parse_args()
    nats_bin = shutil.which("nats-server") or "/usr/sbin/nats-server"
    tmp = tempfile.mkdtemp(prefix="bench-bus-")
    port = _free_port()
    nats = subprocess.Popen([nats_bin, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", tmp],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    admin = create_engine(make_url(a.pg).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    results = []
    try:
        for writers in (0, 1, 2, 4):
            name = f"ecohub_bench_bus_{uuid.uuid4().hex[:8]}"
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(a.pg).set(drivername="postgresql+psycopg", database=name).render_as_string(
                hide_password=False)
            s = Store.open(url)
            s.init()
            s.close()
            try:
                r = run_loadtest(url, outlets=a.outlets, gateways=1, writers=writers, seconds=a.seconds,
                                 bus=f"nats://127.0.0.1:{port}", rate=a.rate, prefix=f"B{writers}")
            finally:
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            results.append(r)
            print(json.dumps(r), flush=True)
    finally:
        nats.terminate()
        nats.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
        admin.dispose()
    base = results[0]
    print(f"\n{'mode':<8}{'W':>3}{'acked/s':>10}{'ratio':>7}{'p50 ms':>8}{'p99 ms':>8}{'obs/s e2e':>11}{'ratio':>7}")
    for r in results:
        print(f"{r['mode']:<8}{r['writers']:>3}{r['acked_per_s']:>10}{r['acked_per_s'] / base['acked_per_s']:>7.2f}"
              f"{r['ack_p50_ms']!s:>8}{r['ack_p99_ms']!s:>8}{r['observations_per_s']:>11}"
              f"{r['observations_per_s'] / base['observations_per_s']:>7.2f}")


if __name__ == "__main__":
    main()
