"""HJ 212 forwarding beside the gateway's own intake, measured in the same run (SQLite).

1. baseline: simulated devices → ``ecohub gateway`` (its own process, writer in a child process), no
   forwarding destination, offered about what it can take: packets/s stored while the devices send (observations
   stored in the sending time ÷ observations per packet), with the ack latencies;
2. the same with one enabled destination (original mode, nobody listening yet): every upload also goes to the
   outbox — intake packets/s with forwarding on (the outbox must not slow intake);
   then the destination disabled again (A-B-A: the drift of a shared machine shows as A ≠ A');
3. an upstream ``ecohub gateway`` (its own process and SQLite store) comes up and ``ecohub forwarder``'s engine
   (in this process) drains the backlog of step 2 in order, waiting for the 9014 answers: forwarded packets/s
   (backlog ÷ time to empty it), and the check that the upstream holds every record once.

4. the writing step alone, in this process: ``write_payload`` for a batch of 2,000 packets without and with
   the outbox rows (median of alternating repetitions) — the cost forwarding adds to intake, free of the
   end-to-end noise of a shared machine.

    .venv/bin/python bench/bench_forward.py [--devices 200] [--rate 6000] [--duration 10] [--window 100]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import report  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from ecohub.exchange.forward import add_destination, destination_status, set_enabled  # noqa: E402
from ecohub.exchange.forwarder import ForwarderConfig, ForwarderHandle  # noqa: E402
from ecohub.ingest.hj212.sim import make_devices, register_devices, simulate  # noqa: E402
from ecohub.store.db import Store  # noqa: E402
from ecohub.store.schema import observation, observation_conflict, series, site  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gateway(url: str, port: int) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-m", "ecohub.cli.main", "gateway", "--port", str(port), "--database-url",
                          url, "--log-level", "warning", "--device-rate", "1000"], stdout=subprocess.PIPE,
                         stderr=sys.stderr, text=True, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = p.stdout.readline()
    if not line.startswith("listening"):
        p.kill()
        raise RuntimeError(f"gateway did not start: {line!r}")
    return p


def stop(p: subprocess.Popen) -> None:
    p.terminate()
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()


def count(store: Store, table=observation) -> int:
    with store.engine.connect() as c:
        return int(c.scalar(select(func.count()).select_from(table)))


def intake(store: Store, devs, port: int, rate: float, duration: float, seed: int) -> tuple[float, object]:
    """Packets/s stored while the devices send (observations stored in the sending time ÷ observations per
    packet), and the simulator's statistics (acks, latencies)."""
    n0 = count(store)
    out: dict = {}
    th = threading.Thread(target=lambda: out.update(stats=simulate(devs, port=port, rate=rate, duration=duration,
                                                                    mix="realtime", seed=seed)))
    t0 = time.perf_counter()
    th.start()
    time.sleep(duration)
    n1 = count(store)
    t1 = time.perf_counter()
    th.join()
    stats = out["stats"]
    per_packet = (count(store) - n0) / max(stats.acked, 1)
    return (n1 - n0) / per_packet / (t1 - t0), stats


def writer_step(store: Store, devs, reps: int = 8, packets: int = 2000) -> tuple[float, float]:
    """The gateway's writing step alone (``write_payload`` in this process) for batches of ``packets`` packets of
    ten values: median ms per batch without and with the outbox rows of one destination (alternating, fresh
    times each time)."""
    import statistics
    from datetime import datetime, timedelta

    from ecohub.ingest.hj212.writer import LocalWriter, Payload
    from ecohub.protocols.hj212 import DataArea, Packet, encode
    from ecohub.store.forwarding import load
    from ecohub.store.registry import SeriesResolver, parameter_index, site_index

    with store.engine.connect() as c:
        sites, params = site_index(c), parameter_index(c)
        dests = load(c)
    w = LocalWriter(store, SeriesResolver())
    names = ["so2_gas", "nox", "pm_gas", "o2", "flow", "temp_flue", "pressure_flue", "flue_humidity", "co_gas",
             "no_gas"]
    names = [n for n in names if n in params][:10]
    codes = ["a21026", "a21002", "a34013", "a19001", "a00000", "a01012", "a01013", "a01014", "a21005", "a21003"]
    t0 = 1_700_000_000
    times: dict[str, list[float]] = {"without": [], "with": []}
    for rep in range(reps):
        for mode in ("without", "with") if rep % 2 == 0 else ("with", "without"):
            t0 += 3600
            p = Payload()
            for i in range(packets):
                dv = devs[i % len(devs)]
                sid = sites[dv.site_code][0]
                t = t0 + (i // len(devs)) * 30
                for n in names:
                    p.rows.append(((sid, params[n], "rt"), t, float(i % 97), "N"))
                if mode == "with":
                    at = datetime(2026, 1, 1) + timedelta(milliseconds=(rep * packets + i) * 7)
                    qn = at.strftime("%Y%m%d%H%M%S") + f"{at.microsecond // 1000:03d}"
                    cp = DataArea.build({"DataTime": "20261204101500"},
                                        {c: {"Rtd": 1.5, "Flag": "N"} for c in codes})
                    frame = encode(Packet("31", "2011", "123456", dv.mn, qn, 5, cp=cp)).decode()
                    p.forward.append((dv.mn, "2011", qn, frame))
            if mode == "with":
                p.destinations = dests
            start = time.perf_counter()
            w.write(p)
            times[mode].append((time.perf_counter() - start) * 1000)
    return statistics.median(times["without"]), statistics.median(times["with"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=200)
    ap.add_argument("--rate", type=float, default=6000.0)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--window", type=int, default=100)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        url, up_url = f"sqlite:///{Path(d) / 'local.db'}", f"sqlite:///{Path(d) / 'upstream.db'}"
        local, upstream = Store.open(url), Store.open(up_url)
        local.init()
        upstream.init()
        plain, fwd = make_devices(a.devices, prefix="BNA"), make_devices(a.devices, prefix="BNB")
        warm, again = make_devices(a.devices, prefix="BNW"), make_devices(a.devices, prefix="BNC")
        register_devices(local, plain + fwd + warm + again)
        register_devices(upstream, fwd)
        port = free_port()
        gw = start_gateway(url, port)
        try:
            intake(local, warm, port, a.rate, 3.0, 3)  # warm-up: first connections, caches, the writer process
            base_rate, base = intake(local, plain, port, a.rate, a.duration, 1)
            up_port = free_port()
            add_destination(local, "bench-up", "127.0.0.1", up_port)
            time.sleep(5.5)  # the gateway's writer re-reads the destinations every 5 s
            fwd_rate, with_fwd = intake(local, fwd, port, a.rate, a.duration, 2)
            set_enabled(local, "bench-up", False)
            time.sleep(5.5)
            again_rate, _ = intake(local, again, port, a.rate, a.duration, 4)  # A-B-A: drift shows here
            set_enabled(local, "bench-up", True)
        finally:
            stop(gw)
        backlog = destination_status(local)[0]["backlog"]
        up = start_gateway(up_url, up_port)
        try:
            t0 = time.perf_counter()
            fw = ForwarderHandle(local, ForwarderConfig(window=a.window, poll=0.01, reload=0.5))
            deadline = time.monotonic() + 600
            while destination_status(local)[0]["backlog"] and time.monotonic() < deadline:
                time.sleep(0.05)
            drained = time.perf_counter() - t0
            fw.stop()
        finally:
            stop(up)
        st = destination_status(local)[0]
        n_up, conflicts = count(upstream), count(upstream, observation_conflict)
        with local.engine.connect() as c:  # what our gateway stored of the forwarded devices
            mine = int(c.scalar(select(func.count()).select_from(
                observation.join(series, series.c.id == observation.c.series_id)
                .join(site, site.c.id == series.c.site_id)).where(site.c.code.in_([x.site_code for x in fwd]))))
        step_without, step_with = writer_step(local, warm)
    print(f"devices {a.devices}, offered {a.rate:g} packets/s for {a.duration:g} s, ten values per packet; "
          f"forwarder window {a.window}")
    report("HJ 212 forwarding vs the gateway's own intake (SQLite, same run)", [
        ("gateway intake, no forwarding (baseline), stored packets/s", base_rate, "pkt/s"),
        ("gateway intake with a forwarding destination, stored packets/s", fwd_rate, "pkt/s"),
        ("gateway intake, destination disabled again (A-B-A), stored packets/s", again_rate, "pkt/s"),
        ("forwarder drain to an upstream ecohub gateway, acked packets/s", st["acked"] / drained, "pkt/s"),
    ])
    report("the gateway's writing step, batch of 2,000 packets (20,000 values), median of 8, same run", [
        ("write_payload without forwarding (baseline), ms per batch", step_without, "ms"),
        ("write_payload with the outbox rows of one destination, ms", step_with, "ms"),
    ])
    for name, st_ in (("no forwarding", base), ("forwarding on", with_fwd)):
        print(f"  {name}: sent {st_.sent}, acked {st_.acked}, ack latency p50 {1000 * (st_.quantile(0.5) or 0):.1f} ms, "
              f"p99 {1000 * (st_.quantile(0.99) or 0):.1f} ms")
    print(f"  backlog {backlog} packets drained in {drained:.1f} s; upstream holds {n_up} observations "
          f"(ours of those devices: {mine}), {conflicts} conflicts; failed {st['failed']}; "
          f"intake failures: {base.failed + with_fwd.failed}")


if __name__ == "__main__":
    main()
