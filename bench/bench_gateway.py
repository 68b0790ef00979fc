"""HJ 212 gateway end to end: 1,000 simulated devices over real TCP sending ten-pollutant real-time packets
(CN 2011, Flag=5) to ``ecohub gateway`` (a separate process), on SQLite and on PostgreSQL, at offered rates
below and above what the machine can store (issue 12 item 1).

Per backend and offered rate, side by side and measured in the same run:

- ``echo``: a bare socket answerer (frames cut, 9014 written at once, nothing decoded or stored) — the ceiling
  of the load generator and the sockets on this machine, the baseline of every ratio;
- ``gateway``: ``ecohub gateway`` of this tree with its defaults (writers in child processes, two on
  PostgreSQL; back-pressure on);
- ``--ref REF`` (optional): ``ecohub gateway`` of an earlier commit (``git archive REF src``), the previous
  code path, with the same load.

Printed: packets/s acknowledged (9014 after commit) over the time from the first packet to the last answer,
packets/s stored, p50/p99 ack latency at the devices, retransmissions, packets given up, the gateway's CPU per
packet, the load average, and the loss check (every acknowledged packet's values are in the store, no
conflicts). ``--sndbuf`` (default 4096) models loggers with a small TCP send buffer whose write blocks while the
socket is full (their ack clock starts when the socket took the packet); ``--sndbuf 0`` is the OS's buffer,
which on loopback grows to MBs and holds an overloaded gateway's backlog. Devices connect over the first 2 s.

    .venv/bin/python bench/bench_gateway.py [--devices 1000] [--rate 2500,5000,7500] [--duration 20]
        [--processes 1] [--sndbuf 4096] [--ref REF] [--no-echo] [--no-sqlite] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import pg_available, pg_store, sqlite_store  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from ecohub.ingest.hj212.sim import SimStats, make_devices, register_devices, simulate  # noqa: E402
from ecohub.store.schema import observation, parameter, series, site  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gateway(url: str, port: int, src: Path | None = None) -> subprocess.Popen:
    """``ecohub gateway`` in its own process; ``src``: run the ``ecohub`` package found there (an earlier
    commit's ``src``, ahead of this tree's on the path) instead of this tree's."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    p = subprocess.Popen([sys.executable, "-m", "ecohub.cli.main", "gateway", "--port", str(port), "--database-url",
                          url, "--log-level", "warning", "--device-rate", "1000", "--stats-json",
                          # all simulated devices come from 127.0.0.1 and connect within 2 s
                          "--max-pending-per-address", "100000"],
                         stdout=subprocess.PIPE, stderr=sys.stderr, text=True,
                         cwd=ROOT if src is None else src.parent, env=env)
    line = p.stdout.readline()
    if not line.startswith("listening"):
        p.kill()
        raise RuntimeError(f"gateway did not start: {line!r}")
    return p


ECHO = r"""
import asyncio, re, sys
from ecohub.protocols.hj212 import StreamFramer, frame_segment
try:
    import uvloop
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
except ImportError:
    pass
HDR = re.compile(rb"QN=(\d+);.*?PW=([^;]*);MN=([^;]*);")
async def handle(reader, writer):
    framer = StreamFramer()
    while True:
        data = await reader.read(16384)
        if not data:
            break
        out = []
        for ev in framer.feed(data):
            if ev.kind == "frame":
                m = HDR.search(ev.data)
                if m:
                    qn, pw, mn = (x.decode() for x in m.groups())
                    out.append(frame_segment(f"QN={qn};ST=91;CN=9014;PW={pw};MN={mn};Flag=4;CP=&&&&"))
        if out:
            writer.write(b"".join(out))
    writer.close()
async def serve():
    srv = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=1024)
    print("listening", flush=True)
    await srv.serve_forever()
asyncio.run(serve())
"""


def start_echo(port: int) -> subprocess.Popen:
    """The baseline: a bare socket answerer (9014 at once; nothing decoded, checked or stored)."""
    p = subprocess.Popen([sys.executable, "-c", ECHO, str(port)], stdout=subprocess.PIPE, stderr=sys.stderr,
                         text=True, cwd=ROOT)
    if not p.stdout.readline().startswith("listening"):
        p.kill()
        raise RuntimeError("echo server did not start")
    return p


def init_with(src: Path):
    """Create a store's schema with the code in ``src`` (the previous commit's migrations)."""
    def init(store) -> None:
        url = store.engine.url.render_as_string(hide_password=False)
        subprocess.run([sys.executable, "-c", "import sys; from ecohub.store.db import Store; "
                        "s = Store.open(sys.argv[1]); s.init(); s.close()", url], check=True, cwd=src.parent,
                       env={**os.environ, "PYTHONPATH": str(src)})
    return init


def export_ref(ref: str, into: Path) -> Path:
    """``src`` of commit ``ref`` (``git archive``), to run the previous code path beside this one."""
    into.mkdir(parents=True, exist_ok=True)
    arch = subprocess.run(["git", "archive", ref, "src"], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=arch, check=True)
    return into / "src"


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


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL server process so far (other users of the server count too)."""
    total = 0.0
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            if (p / "comm").read_text().strip() != "postgres":
                continue
        except OSError:
            continue
        total += cpu_seconds(int(p.name))
    return total


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """Peak RSS (VmHWM) of the gateway process and the sum over its writer processes."""
    return _hwm(pid), sum(_hwm(c) for c in children(pid))


def _sim_worker(args) -> SimStats:
    devs, port, rate, duration, seed, sndbuf = args
    return simulate(devs, "127.0.0.1", port, rate=rate, duration=duration, mix="realtime", keep_acked=True,
                    seed=seed, ack_timeout=10.0, ramp=2.0, sndbuf=sndbuf or None)


LABEL = {"echo": "echo (bare socket answerer, baseline)", "gateway": "gateway (this tree)", "ref": "gateway at"}


def loss_check(store, devs, stats: SimStats) -> tuple[int, int, int, int, int]:
    """(acknowledged values, of them missing from the store, rows stored, packets stored, conflicts)."""
    with store.engine.connect() as c:
        rows = c.execute(select(site.c.code, parameter.c.hj212_2017, observation.c.time, observation.c.value)
                         .select_from(observation.join(series, series.c.id == observation.c.series_id)
                                      .join(site, site.c.id == series.c.site_id)
                                      .join(parameter, parameter.c.id == series.c.parameter_id))).all()
        conflicts = int(c.scalar(text("SELECT count(*) FROM observation_conflict")) or 0)
    have = {(r[0], r[1], int(r[2].timestamp())): r[3] for r in rows}
    site_of = {dv.mn: dv.site_code for dv in devs}
    acked_values = missing = 0
    for mn, _cn, t, values in stats.acked_packets:
        for code, v in values.items():
            acked_values += 1
            got = have.get((site_of[mn], code, t))
            if got is None or abs(got - v) > 1e-9:
                missing += 1
    return acked_values, missing, len(rows), len({(r[0], int(r[2].timestamp())) for r in rows}), conflicts


def run_one(name: str, mode: str, store, url: str, args, src: Path | None = None) -> dict:
    """One run: ``mode`` is ``echo`` (baseline), ``gateway`` (this tree) or ``ref`` (``src``'s gateway)."""
    devs = make_devices(args.devices, prefix="BENCH")
    if store is not None:
        register_devices(store, devs)
    port = free_port()
    proc = start_echo(port) if mode == "echo" else start_gateway(url, port, src=src)
    try:
        k = max(1, args.processes)
        parts = [devs[i::k] for i in range(k)]
        jobs = [(p, port, args.rate * len(p) / len(devs), args.duration, i + 1, args.sndbuf)
                for i, p in enumerate(parts)]
        load = os.getloadavg()
        time.sleep(0.5)  # the writer processes are up
        kids = children(proc.pid)
        cpu0, kids0, pg0 = cpu_seconds(proc.pid), sum(cpu_seconds(k) for k in kids), postgres_cpu_seconds()
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
        rss = peak_rss_mb(proc.pid)
        cpu = cpu_seconds(proc.pid) - cpu0
        cpu_kids = sum(cpu_seconds(k) for k in kids) - kids0
        cpu_pg = postgres_cpu_seconds() - pg0
        load_end = os.getloadavg()
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out = ""
    gstats = {}
    for line in (out or "").splitlines():
        if line.startswith("{"):
            gstats = json.loads(line)
    d = stats.as_dict()
    span = max(stats.last_ack - stats.started, 1e-9)
    row = {"backend": name, "mode": mode, "rate": args.rate, "sent_s": stats.sent / stats.duration,
           "acked_s": stats.acked / span, "p50": d["ack_latency_p50_ms"], "p99": d["ack_latency_p99_ms"],
           "retransmitted": stats.retransmitted, "failed": stats.failed, "unanswered": stats.unanswered,
           "load": (load[0], load_end[0]), "cpu_us": cpu / max(stats.sent + stats.retransmitted, 1) * 1e6,
           "cpu_writers_us": cpu_kids / max(stats.acked, 1) * 1e6, "cpu_pg_us": cpu_pg / max(stats.acked, 1) * 1e6,
           "stored_s": None}
    label = LABEL[mode] + (f" {args.ref}" if mode == "ref" else "")
    print(f"\n[{name}, {label}] {args.devices} devices, offered {args.rate:,.0f} packets/s for "
          f"{args.duration:.0f} s (wall {wall:.1f} s incl. ramp and drain): sent {stats.sent:,}, acknowledged "
          f"{stats.acked:,} in {span:.1f} s, retransmitted {stats.retransmitted}, given up by devices "
          f"{stats.failed}, unanswered {stats.unanswered}")
    lags = sorted(stats.loop_lags) or [0.0]
    row["sim_lag_p99"] = lags[int(0.99 * (len(lags) - 1))] * 1000
    print(f"  the simulator's own event loop ran late by p50 {lags[len(lags) // 2] * 1000:.0f} ms, p99 "
          f"{row['sim_lag_p99']:.0f} ms, max {lags[-1] * 1000:.0f} ms (part of the latency it measures)")
    print(f"  ack latency at the devices p50 {d['ack_latency_p50_ms']} ms, p99 {d['ack_latency_p99_ms']} ms; "
          f"load average {load[0]:.1f} -> {load_end[0]:.1f} (2 cores, shared); process CPU "
          f"{row['cpu_us']:.0f} µs per packet received; peak RSS {rss[0]:.0f} MB (+ writers {rss[1]:.0f} MB)")
    if store is None:
        return row
    print(f"  CPU per packet acknowledged: writer processes {row['cpu_writers_us']:.0f} µs, PostgreSQL "
          f"{row['cpu_pg_us']:.0f} µs (every server process: other users of the server count too)")
    print(f"  gateway side (packet read -> 9014 written): p50 {gstats.get('ack_latency_p50_ms')} ms, "
          f"p99 {gstats.get('ack_latency_p99_ms')} ms; {gstats.get('batches')} write batches, queue peak "
          f"{gstats.get('queue_peak')}, in flight peak {gstats.get('inflight_peak', '-')} (limit at the end "
          f"{gstats.get('inflight_limit', '-')}), reading paused {gstats.get('reading_pauses', '-')} times")
    acked_values, missing, n_rows, n_packets, conflicts = loss_check(store, devs, stats)
    row["stored_s"] = n_packets / span
    ok = missing == 0 and conflicts == 0
    print(f"  loss check: {acked_values:,} acknowledged values, {missing} of them missing from the store, "
          f"{n_rows:,} rows ({n_packets:,} packets) stored, {conflicts} conflicts -> "
          f"{'ZERO LOSS' if ok else 'LOSS!'}")
    if not ok:
        raise SystemExit(f"{name}: acknowledged data missing from the store")
    return row


def summary(rows: list[dict]) -> None:
    print("\nsummary (acked/s: first packet to last answer; ratio: to the echo baseline at the same offered rate, "
          "measured in this run)")
    print(f"  {'backend':<10} {'offered/s':>9} {'mode':<8} {'sent/s':>8} {'acked/s':>8} {'ratio':>6} "
          f"{'stored/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'retx':>6} {'gave up':>7} {'CPU µs/packet: gw+wr+pg':>24}"
          "  load avg")
    base = {r["rate"]: r["acked_s"] for r in rows if r["mode"] == "echo"}
    for r in rows:
        b = base.get(r["rate"])
        ratio = f"{r['acked_s'] / b:6.2f}" if b else "     -"
        stored = f"{r['stored_s']:8,.0f}" if r["stored_s"] is not None else "       -"
        if r["mode"] == "echo":
            r["cpu_pg_us"] = 0.0  # (other users' backends ending make it negative: not ours)
        print(f"  {r['backend']:<10} {r['rate']:>9,.0f} {r['mode']:<8} {r['sent_s']:>8,.0f} {r['acked_s']:>8,.0f} "
              f"{ratio} {stored} {r['p50'] or 0:>8,.0f} {r['p99'] or 0:>8,.0f} {r['retransmitted']:>6} "
              f"{r['failed']:>7} {r['cpu_us']:>8.0f} +{r.get('cpu_writers_us', 0):>4.0f} +{r.get('cpu_pg_us', 0):>4.0f}"
              f"  {r['load'][0]:.1f}->{r['load'][1]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--rate", default="2500,5000,7500", help="offered packets/s; several, comma-separated, run "
                                                          "one after the other (each on a fresh database)")
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--processes", type=int, default=1, help="simulator processes")
    ap.add_argument("--sndbuf", type=int, default=4096, help="device TCP send buffer (bytes); 0: the OS's")
    ap.add_argument("--ref", default=None, help="also run the gateway of this git commit (previous code path)")
    ap.add_argument("--no-echo", action="store_true", help="skip the echo baseline")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    rates = [float(r) for r in str(args.rate).split(",") if r.strip()]
    backends = [b for b, off in (("SQLite", args.no_sqlite), ("PostgreSQL", args.no_postgres)) if not off]
    if "PostgreSQL" in backends and not pg_available():
        print("PostgreSQL not available: skipped")
        backends.remove("PostgreSQL")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        ref_src = export_ref(args.ref, Path(tmp) / "ref") if args.ref else None
        for rate in rates:
            args.rate = rate
            if not args.no_echo:
                rows.append(run_one("-", "echo", None, "", args))
            for backend in backends:
                for mode in ["gateway"] + (["ref"] if ref_src is not None else []):
                    init = init_with(ref_src) if mode == "ref" and ref_src is not None else None
                    with (sqlite_store(init) if backend == "SQLite" else pg_store(init)) as st:
                        url = st.engine.url.render_as_string(hide_password=False)
                        rows.append(run_one(backend, mode, st, url, args, ref_src if mode == "ref" else None))
    summary(rows)


if __name__ == "__main__":
    main()
