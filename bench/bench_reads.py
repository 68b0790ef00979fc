"""Every documented read endpoint, uncached, on the demo province: p50/p99 per endpoint and ``latest`` req/s,
beside a bare FastAPI endpoint measured in the same run (issue 12 item 3).

The demo province (53 air stations with real CNEMC data replayed, water sections, outlets; ``ecohub demo``'s
data set: ``demo.province.load_registers`` + ``demo.replay.Replayer.backfill``) is built with ``--days`` of
history on a fresh SQLite database (and PostgreSQL unless ``--no-postgres``), the worker's maintained
aggregates are built once (``aqi_daily``, ``aqi_hourly``, ``series_daily``), then the app is called in this
process through Starlette's ``TestClient`` (ASGI, no sockets) as an admin (a token: every endpoint answers with data) with the
response cache off (``public_cache_seconds=0``: every call computed) and no rate limits. Each GET operation of
the OpenAPI document is called with representative parameters (``URLS``; an operation missing there is called with its
path parameters set to 1 and reported), once to warm, then ``--runs`` times; p50 and p99 of those.

The baseline is a bare FastAPI endpoint (``GET /bare`` returning a 3-field dict) of another app called through
the same client kind in the same run: its p50 is the floor of this harness; ``latest`` req/s (one client,
sequential, ``--seconds``) is printed beside the bare endpoint's req/s.

``--http N``: ``latest`` (anonymous; response cache off, then on as by default) and the bare endpoint also served
by uvicorn (one process each, in turn) and loaded for N seconds by a second process (``bench_api``'s wrk or
Python client): req/s, p50, p99.

    .venv/bin/python bench/bench_reads.py [--days 31] [--runs 30] [--seconds 3] [--http 5] [--no-postgres]
                                          [--only PATH] [--no-freeze]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import pg_available, pg_store, sqlite_store  # noqa: E402

SITE, CITY = "1029A", "130100"


def urls(day: str, frm: str, to: str, year: str) -> dict[str, list[str]]:
    """Representative calls per OpenAPI path (the demo's data; the default period where one exists)."""
    d0 = (datetime.fromisoformat(day) - timedelta(days=29)).date().isoformat()
    return {
        "/api/v1/regions": ["/api/v1/regions?under=130000&limit=50"],
        "/api/v1/parameters": ["/api/v1/parameters"],
        "/api/v1/sites": ["/api/v1/sites", f"/api/v1/sites?region={CITY}"],
        "/api/v1/sites/{code}": [f"/api/v1/sites/{SITE}"],
        "/api/v1/series": ["/api/v1/series", f"/api/v1/series?site={SITE}"],
        "/api/v1/observations": [f"/api/v1/observations?site={SITE}&from={frm}&to={to}",
                                 f"/api/v1/observations?from={frm}&to={to}&limit=1000"],
        "/api/v1/latest": ["/api/v1/latest", f"/api/v1/latest?site={SITE}", f"/api/v1/latest?region={CITY}"],
        "/api/v1/aggregates": [f"/api/v1/aggregates?site={SITE}&window=day",
                               f"/api/v1/aggregates?from={frm}&to={to}&window=hour&limit=1000",
                               f"/api/v1/aggregates?from={d0}T00:00:00&to={day}T00:00:00&window=day&limit=1000"],
        "/api/v1/enterprises": ["/api/v1/enterprises"],
        "/api/v1/aqi/hourly": ["/api/v1/aqi/hourly", "/api/v1/aqi/hourly?by=city"],
        "/api/v1/aqi/daily": [f"/api/v1/aqi/daily?date={day}", f"/api/v1/aqi/daily?date={day}&by=city",
                              f"/api/v1/aqi/daily?from={d0}&to={day}&by=city"],
        "/api/v1/rankings/cities": ["/api/v1/rankings/cities", f"/api/v1/rankings/cities?from={day}&to={day}",
                                    f"/api/v1/rankings/cities?region={CITY}"],
        "/api/v1/water/quality": ["/api/v1/water/quality"],
        "/api/v1/alerts": ["/api/v1/alerts"],
        "/api/v1/datasets": ["/api/v1/datasets"],
        "/api/v1/audit": ["/api/v1/audit?limit=1000"],
        "/api/v1/exchange/log": ["/api/v1/exchange/log"],
        "/api/v1/permits": ["/api/v1/permits"],
        "/api/v1/public/permits": ["/api/v1/public/permits"],
        "/api/v1/emissions": [f"/api/v1/emissions?year={year}"],
        "/api/v1/forecasts": ["/api/v1/forecasts", f"/api/v1/forecasts?city={CITY}"],
        "/api/v1/forecasts/observed": [f"/api/v1/forecasts/observed?city={CITY}"],
        "/api/v1/forecasts/verification": ["/api/v1/forecasts/verification"],
        "/api/v1/trends": [f"/api/v1/trends?site={SITE}&parameter=pm25"],
        "/api/v1/trends/correlation": [f"/api/v1/trends/correlation?site={SITE}"],
        "/api/v1/surfaces": [f"/api/v1/surfaces?parameter=pm25&time={to}"],
        "/api/v1/public/credit": [f"/api/v1/public/credit?year={year}"],
        "/api/v1/assessments/soil/samples": ["/api/v1/assessments/soil/samples"],
        "/api/v1/incidents": ["/api/v1/incidents"],
        "/api/v1/redlines/check": ["/api/v1/redlines/check"],
        # the web's data endpoints (portal, one map, cockpit; ecohub.web.routes_data)
        "/api/v1/web/map/features": ["/api/v1/web/map/features"],
        "/api/v1/web/portal/aqi": ["/api/v1/web/portal/aqi"],
        "/api/v1/web/map/replay": ["/api/v1/web/map/replay", "/api/v1/web/map/replay?hours=72"],
        "/api/v1/web/stations/{code}/hours": [f"/api/v1/web/stations/{SITE}/hours?hours=72"],
        "/api/v1/web/cockpit": ["/api/v1/web/cockpit"],
        "/api/v1/web/sources": ["/api/v1/web/sources"],
        "/api/v1/web/layers/{name}": ["/api/v1/web/layers/redline", "/api/v1/web/layers/risk"],
        "/api/v1/web/boundaries/{name}.geojson": ["/api/v1/web/boundaries/cities.geojson",
                                                  "/api/v1/web/boundaries/provinces.geojson"],
        "/api/v1/complaints/nearby": ["/api/v1/complaints/nearby?lon=114.5&lat=38.0"],
    }


def _bare_app():
    from fastapi import FastAPI

    bare = FastAPI()

    @bare.get("/bare")
    def _b() -> dict:
        return {"site": SITE, "parameter": "pm25", "value": 42.0}

    return bare


def serve_bare(port: int) -> None:  # runs in the baseline server process
    import uvicorn

    uvicorn.run(_bare_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def ingest(url: str, commits_per_s: float, seconds: float) -> None:  # runs in the ingest process
    """Continuous ingest while ``latest`` is loaded: ``commits_per_s`` transactions a second, each writing the
    next value of 10 series (round robin over every series) through :class:`ObservationWriter` — as the
    gateway's writer does — so the data version moves with every commit. Prints the commits made."""
    from sqlalchemy import func, select

    from ecohub.store.db import Store
    from ecohub.store.schema import latest
    from ecohub.store.writer import ObservationWriter

    store = Store.open(url)
    with store.engine.connect() as c:
        newest = dict(c.execute(select(latest.c.series_id, func.max(latest.c.time)).group_by(latest.c.series_id)).all())
    sids = sorted(newest)
    nxt = {s: int(t.timestamp()) + 3600 for s, t in newest.items()}
    w = ObservationWriter(store, "bench-ingest")
    print("READY", flush=True)
    i = commits = 0
    period, stop = 1 / commits_per_s, time.perf_counter() + seconds
    due = time.perf_counter()
    while time.perf_counter() < stop:
        for _ in range(10):
            sid = sids[i % len(sids)]
            i += 1
            w.add(sid, nxt[sid], 10.0 + i % 50)
            nxt[sid] += 3600
        w.flush()
        commits += 1
        due += period
        time.sleep(max(0.0, due - time.perf_counter()))
    print(f"INGEST commits={commits} rows={commits * 10} seconds={seconds}", flush=True)
    store.close()


def http_latest(store, seconds: int, connections: int, ingest_rates: tuple[float, ...] = (1.0, 10.0, 50.0)) -> None:
    """``GET /api/v1/latest`` (anonymous; the response cache off, then on as by default — the client sends no
    ``If-None-Match``: every answer is a full 200) and the bare endpoint, each served by uvicorn (one process)
    and loaded by a second process (``bench_api``: wrk, or its Python client). With the cache on, also while a
    third process ingests at each of ``ingest_rates`` commits a second (:func:`ingest`): every commit makes the
    next answer of each cache key a computed one."""
    import shutil
    import subprocess

    import bench_api

    url = store.engine.url.render_as_string(hide_password=False)
    load = bench_api.load_wrk if shutil.which("wrk") else bench_api.load_python
    res = {}
    for label, cache_seconds in (("latest, computed each time (cache off)", 0),
                                 ("latest, response cache (default)", 60)):
        proc, base = bench_api.start_server(url, cache_seconds=cache_seconds)
        try:
            res[label] = load(base + "/api/v1/latest", seconds, connections)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    for rate_ in ingest_rates:
        label = f"latest, response cache, ingest {rate_:g} commits/s"
        proc, base = bench_api.start_server(url, cache_seconds=60)
        ing = subprocess.Popen([sys.executable, __file__, "--ingest", url, "--ingest-rate", str(rate_),
                                "--ingest-seconds", str(seconds + 1)], stdout=subprocess.PIPE, text=True)
        try:
            ing.stdout.readline()  # READY: imports done, writing from now on
            res[label] = load(base + "/api/v1/latest", seconds, connections)
            out, _ = ing.communicate(timeout=seconds + 60)
            res[label]["commits"] = int(out.split("commits=")[1].split()[0]) if "commits=" in out else 0
        finally:
            ing.kill()
            proc.terminate()
            proc.wait(timeout=30)
    port = bench_api.free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve-bare", str(port)])
    try:
        for _ in range(200):
            try:
                bench_api.urllib.request.urlopen(f"http://127.0.0.1:{port}/bare", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        res["bare FastAPI endpoint"] = load(f"http://127.0.0.1:{port}/bare", seconds, connections)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    tool = "wrk" if shutil.which("wrk") else "Python client (a second process)"
    print(f"  HTTP, uvicorn 1 process, {tool}, {connections} connections, {seconds} s each, anonymous:")
    bare = res["bare FastAPI endpoint"]
    for k, m in res.items():
        print(f"    {k:<40} {m['rps']:>9,.0f} req/s  p50 {m['p50']:>7.2f} ms  p99 {m['p99']:>7.2f} ms  "
              f"ratio {m['rps'] / bare['rps']:>6.3f}  ({m['n']} requests, {m['errors']} errors"
              + (f", {m['commits']} commits during the load)" if "commits" in m else ")"))
    print(f"    load average {os.getloadavg()[0]:.2f}")


def timed(client, url: str, headers: dict, runs: int) -> dict:
    r = client.get(url, headers=headers)  # warm
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        r = client.get(url, headers=headers)
        times.append(time.perf_counter() - t)
    times.sort()
    return {"status": r.status_code, "bytes": len(r.content), "p50": statistics.median(times) * 1000,
            "p99": times[min(len(times) - 1, int(len(times) * 0.99))] * 1000}


def rate(client, url: str, headers: dict, seconds: float) -> float:
    n, stop = 0, time.perf_counter() + seconds
    t0 = time.perf_counter()
    while time.perf_counter() < stop:
        client.get(url, headers=headers)
        n += 1
    return n / (time.perf_counter() - t0)


def build(store, days: int) -> datetime:
    from ecohub.analytics import aqi_daily, aqi_hourly
    from ecohub.demo.province import load_registers
    from ecohub.demo.replay import Replayer
    from ecohub.store import series_daily

    load_registers(store)
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    w = Replayer(store).backfill(days, now=now)
    print(f"  demo province: {w.imported} observations, {days} days ({time.perf_counter() - t0:.0f} s)")
    time.sleep(1.1)  # the worker's pass comes after the data (SQLite keeps whole seconds: same-second rows stay live)
    t0 = time.perf_counter()
    aqi_daily.maintain(store)
    aqi_hourly.maintain(store)
    # the daily rollup of every series: a pass whose overlap window (300 s by default, in which readers roll up
    # what arrived) lies after the backfill, as for a worker that has run for a few minutes since
    series_daily.maintain(store, overlap=0)
    print(f"  worker's maintained aggregates built ({time.perf_counter() - t0:.1f} s)")
    with store.engine.begin() as c:  # committed: on PostgreSQL a rolled-back ANALYZE leaves no statistics
        c.exec_driver_sql("ANALYZE")
    return now


def run(name: str, store_cm, a) -> dict[str, dict]:
    from fastapi.testclient import TestClient

    from ecohub.api.app import create_app
    from ecohub.api.identity import create_user
    from ecohub.api.security import ApiConfig
    from ecohub.domain.timeutil import BEIJING
    from ecohub.web import mount_web

    print(f"\n[{name}]")
    out: dict[str, dict] = {}
    with store_cm() as store:
        now = build(store, a.days)
        with store.engine.begin() as c:
            create_user(c, "bench-admin", "bench-password-1234", "admin")
        cfg = ApiConfig(rate_anon_per_min=10**9, rate_auth_per_min=10**9, rate_login_per_min=10**9,
                        public_cache_seconds=0)
        app = mount_web(create_app(store, config=cfg), store, data_dir=Path(tempfile.mkdtemp()))  # as served
        client = TestClient(app)
        r = client.post("/api/v1/auth/token", data={"username": "bench-admin", "password": "bench-password-1234"})
        hdr = {"Authorization": f"Bearer {r.json()['access_token']}"}
        if not a.no_freeze:  # as `ecohub serve` does before it answers (ecohub.api.serving)
            from ecohub.api.serving import freeze_heap
            freeze_heap()
        last_h = int(now.timestamp()) // 3600 * 3600
        to = datetime.fromtimestamp(last_h, UTC)
        frm = to - timedelta(days=1)
        yday = (now.astimezone(BEIJING) - timedelta(days=1)).date()
        iso = "%Y-%m-%dT%H:%M:%SZ"
        table = urls(yday.isoformat(), frm.strftime(iso), to.strftime(iso), str(yday.year))
        paths = sorted(p for p, ops in app.openapi()["paths"].items() if "get" in ops)
        bare = TestClient(_bare_app())
        base = timed(bare, "/bare", {}, max(a.runs, 200))
        print(f"  harness: TestClient in process, admin token, response cache off; {a.runs} runs per URL after one "
              f"warm-up; start-up heap {'not ' if a.no_freeze else ''}frozen; load average {os.getloadavg()[0]:.2f}")
        print(f"  {'bare FastAPI endpoint (baseline)':<72} {'':>4} {base['p50']:>8.2f} {base['p99']:>8.2f}")
        print(f"  {'URL':<72} {'code':>4} {'p50 ms':>8} {'p99 ms':>8} {'p99/bare':>9}")
        for p in paths:
            if a.only and a.only not in p:
                continue
            if p.endswith("/stream"):  # server-sent events: an open stream, not a read (tests/alerts/test_alerts_sse)
                print(f"  {p[:72]:<72} (event stream, not timed)")
                continue
            calls = table.get(p)
            if calls is None:
                calls = [p.replace("{", "").replace("}", "") if "{" not in p else
                         "/".join("1" if s.startswith("{") else s for s in p.split("/"))]
            for u in calls:
                m = timed(client, u, hdr, a.runs)
                out[u] = m
                print(f"  {u[:72]:<72} {m['status']:>4} {m['p50']:>8.2f} {m['p99']:>8.2f} "
                      f"{m['p99'] / base['p99']:>9.1f}")
        bare_rps = rate(bare, "/bare", {}, a.seconds)
        lat_rps = rate(client, "/api/v1/latest", hdr, a.seconds)
        n = len(client.get("/api/v1/latest", headers=hdr).json())
        print(f"  /api/v1/latest ({n} series): {lat_rps:,.0f} req/s; bare FastAPI endpoint {bare_rps:,.0f} req/s "
              f"(ratio {lat_rps / bare_rps:.3f}); one client, sequential, {a.seconds} s each; "
              f"load average {os.getloadavg()[0]:.2f}")
        if a.http:
            http_latest(store, a.http, a.connections)
        slow = sorted(out.items(), key=lambda kv: -kv[1]["p99"])[:5]
        print("  slowest p99: " + "; ".join(f"{u} {m['p99']:.0f} ms" for u, m in slow))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=31)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--only", help="only OpenAPI paths containing this text")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--http", type=int, default=5, help="seconds of HTTP load on latest and the bare endpoint "
                    "(uvicorn; 0: skip)")
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--no-freeze", action="store_true", help="do not freeze the start-up heap (gc.freeze) as "
                    "`ecohub serve` does: full garbage collections then walk it, the p99 before issue 12")
    ap.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--ingest", help=argparse.SUPPRESS)
    ap.add_argument("--ingest-rate", type=float, default=1.0, help=argparse.SUPPRESS)
    ap.add_argument("--ingest-seconds", type=float, default=5.0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve_bare:
        serve_bare(a.serve_bare)
        return
    if a.ingest:
        ingest(a.ingest, a.ingest_rate, a.ingest_seconds)
        return
    a.runs = max(5, min(a.runs, 1000))
    print("Every read endpoint, uncached, on the demo province, beside a bare FastAPI endpoint (same run)")
    run("SQLite", sqlite_store, a)
    if not a.no_postgres:
        if pg_available():
            run("PostgreSQL", pg_store, a)
        else:
            print("\n[PostgreSQL] not available: skipped (set ECOHUB_BENCH_POSTGRES_URL)")


if __name__ == "__main__":
    main()
