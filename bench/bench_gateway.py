"""HJ 212 gateway end to end: 1,000 simulated devices over real TCP sending ten-pollutant real-time packets
(CN 2011, Flag=5) to ``ecohub gateway`` (a separate process), on SQLite and on PostgreSQL.

Printed per backend, beside the offered rate (the baseline, measured in the same run): packets/s
acknowledged (9014 after commit) and packets/s stored (observation rows / 10 ÷ sending time), p50/p99 ack
latency (send → 9014, measured by the simulator), the gateway's peak RSS (VmHWM), and the loss check: every
acknowledged packet's ten values are in the store, nothing failed or stayed unanswered, no conflicts.
The gateway runs as ``ecohub gateway`` with its defaults (writer in a child process; two on PostgreSQL).
Devices connect over the first 2 s (ramp), so the rate sent is a few % below the rate offered.

    .venv/bin/python bench/bench_gateway.py [--devices 1000] [--rate 5000[,6500]] [--duration 20] [--processes 1]
                                            [--no-sqlite] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import pg_available, pg_store, report, sqlite_store  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from ecohub.ingest.hj212.sim import SimStats, make_devices, register_devices, simulate  # noqa: E402
from ecohub.store.schema import observation, parameter, series, site  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gateway_argv() -> list[str]:
    """``python -m ecohub.cli.main gateway`` once the lead has wired it; the module's own entry until then."""
    try:
        from ecohub.cli import main as cli_main

        names = {c.name or (c.callback.__name__ if c.callback else "") for c in cli_main.app.registered_commands}
    except Exception:  # noqa: BLE001 - the main app may be mid-change in a shared tree
        names = set()
    if "gateway" in names:
        return [sys.executable, "-m", "ecohub.cli.main", "gateway"]
    return [sys.executable, "-m", "ecohub.cli.gateway_cmds", "gateway"]


def start_gateway(url: str, port: int, *extra: str) -> subprocess.Popen:
    p = subprocess.Popen([*gateway_argv(), "--port", str(port), "--database-url", url, "--log-level", "warning",
                          "--device-rate", "1000", "--stats-json", *extra], stdout=subprocess.PIPE, stderr=sys.stderr, text=True,
                         cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = p.stdout.readline()
    if not line.startswith("listening"):
        p.kill()
        raise RuntimeError(f"gateway did not start: {line!r}")
    return p


def _hwm(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (``/proc/PID/stat``), without its children."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """Peak RSS (VmHWM) of the gateway process and the sum over its writer processes."""
    return _hwm(pid), sum(_hwm(c) for c in children(pid))


def _sim_worker(args) -> SimStats:
    devs, port, rate, duration, seed = args
    return simulate(devs, "127.0.0.1", port, rate=rate, duration=duration, mix="realtime", keep_acked=True,
                    seed=seed, ack_timeout=10.0, ramp=2.0)


def run_backend(name: str, store, url: str, args) -> None:
    devs = make_devices(args.devices, prefix="BENCH")
    register_devices(store, devs)
    port = free_port()
    gw = start_gateway(url, port)
    try:
        k = max(1, args.processes)
        parts = [devs[i::k] for i in range(k)]
        jobs = [(p, port, args.rate * len(p) / len(devs), args.duration, i + 1) for i, p in enumerate(parts)]
        load = os.getloadavg()
        cpu0 = cpu_seconds(gw.pid)
        t0 = time.perf_counter()
        if k == 1:
            results = [_sim_worker(jobs[0])]
        else:
            with mp.get_context("spawn").Pool(k) as pool:
                results = pool.map(_sim_worker, jobs)
        wall = time.perf_counter() - t0
        stats = SimStats()
        for r in results:
            stats.merge(r)
        rss = peak_rss_mb(gw.pid)
        cpu = cpu_seconds(gw.pid) - cpu0
    finally:
        gw.terminate()
        try:
            out, _ = gw.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            gw.kill()
            out = ""
    gstats = {}
    for line in (out or "").splitlines():
        if line.startswith("{"):
            gstats = json.loads(line)
    with store.engine.connect() as c:
        rows = c.execute(select(site.c.code, parameter.c.hj212_2017, observation.c.time, observation.c.value)
                         .select_from(observation.join(series, series.c.id == observation.c.series_id)
                                      .join(site, site.c.id == series.c.site_id)
                                      .join(parameter, parameter.c.id == series.c.parameter_id))).all()
        conflicts = c.scalar(text("SELECT count(*) FROM observation_conflict"))
    have = {(r[0], r[1], int(r[2].timestamp())): r[3] for r in rows}
    site_of = {d.mn: d.site_code for d in devs}
    acked_values = 0
    missing = 0
    for mn, _cn, t, values in stats.acked_packets:
        for code, v in values.items():
            acked_values += 1
            got = have.get((site_of[mn], code, t))
            if got is None or abs(got - v) > 1e-9:
                missing += 1
    stored = len(rows)
    d = stats.as_dict()
    send_s = stats.duration
    print(f"\n[{name}] {args.devices} devices, offered {args.rate:,.0f} packets/s for {args.duration:.0f} s "
          f"(wall {wall:.1f} s incl. ramp and drain): sent {stats.sent:,}, acknowledged {stats.acked:,}, "
          f"retransmitted {stats.retransmitted}, given up by devices {stats.failed}, unanswered {stats.unanswered}")
    report(f"gateway end to end, {name} (ten-pollutant 2011 packets)", [
        ("offered rate (baseline)", args.rate, "packets/s"),
        ("sent by the simulator", stats.sent / send_s, "packets/s"),
        ("acknowledged (9014 after commit)", stats.acked / send_s, "packets/s"),
        ("stored (observation rows / 10)", stored / 10 / send_s, "packets/s"),
    ])
    print(f"  gateway side (packet read -> 9014 written): p50 {gstats.get('ack_latency_p50_ms')} ms, "
          f"p99 {gstats.get('ack_latency_p99_ms')} ms; {gstats.get('batches')} write batches, queue peak "
          f"{gstats.get('queue_peak')} packets")
    print(f"  ack latency at the devices p50 {d['ack_latency_p50_ms']} ms, p99 {d['ack_latency_p99_ms']} ms; "
          f"gateway peak RSS {rss[0]:.0f} MB (+ writer processes {rss[1]:.0f} MB); load average during the run "
          f"{load[0]:.1f} -> {os.getloadavg()[0]:.1f} (2 cores, shared)")
    # CPU of the gateway's event-loop process per packet: the figure that a shared, loaded machine moves least
    print(f"  gateway process CPU (event loop, without the writer processes): {cpu:.1f} s for {stats.sent + stats.retransmitted:,} "
          f"packets received = {cpu / max(stats.sent + stats.retransmitted, 1) * 1e6:.0f} µs per packet")
    ok = missing == 0 and conflicts == 0
    print(f"  loss check: {acked_values:,} acknowledged values, {missing} of them missing from the store, "
          f"{stored:,} rows stored, {conflicts} conflicts -> {'ZERO LOSS' if ok else 'LOSS!'}"
          + (f"; {stats.failed} packets not answered within OverTime x (ReCount+1) = 40 s (overload: the "
             "device keeps them)" if stats.failed else ""))
    if not ok:
        raise SystemExit(f"{name}: acknowledged data missing from the store")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--rate", default="5000", help="offered packets/s; several, comma-separated, run one after "
                                                    "the other (each on a fresh database)")
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--processes", type=int, default=1, help="simulator processes")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    rates = [float(r) for r in str(args.rate).split(",") if r.strip()]
    for rate in rates:
        args.rate = rate
        if not args.no_sqlite:
            with sqlite_store() as s:
                run_backend("SQLite", s, s.engine.url.render_as_string(hide_password=False), args)
        if not args.no_postgres:
            if not pg_available():
                print("PostgreSQL not available: skipped")
                continue
            with pg_store() as s:
                run_backend("PostgreSQL", s, s.engine.url.render_as_string(hide_password=False), args)


if __name__ == "__main__":
    main()
