"""API under load: requests/s and p50/p99 of two hot endpoints, each beside the bare SQL query it wraps, measured
in the same run, on SQLite and PostgreSQL.

* ``GET /api/v1/aqi/hourly`` — the latest AQI of every air station (anonymous: open data; ETag and cache
  headers computed, no If-None-Match sent): the ``latest`` table → HJ 633 per station → JSON; once computed
  on every request (response cache off) and once with the default response cache (the answer kept while the
  data version is unchanged; the client sends no ``If-None-Match``, every answer is a full 200).
* ``GET /api/v1/latest`` — the newest value of every series (593 on the demo), the same two ways.
* ``GET /api/v1/observations?site=…&parameter=pm25&interval=hour&from=…&to=…&limit=1000`` — a 30-day hourly
  series (720 rows) as JSON.
* ``GET /api/v1/rankings/cities`` — the HJ 663 ranking of the last 30 days (public cache off), and the
  cockpit's figures computed cold (``web.services.cockpit`` with its in-process cache cleared, in this
  process): the year of city-day AQI, 30 days of levels, the ranking.

The demo province (53 stations, real CNEMC data replayed) is built with 31 days of history. The server
(uvicorn, one process) and the load generator (``wrk``, a second process; a Python client if wrk is
missing) run on 127.0.0.1; the load is bounded (``--seconds`` per endpoint, ``--connections``). The
baseline is the bare SQL of each endpoint run by psycopg / sqlite3 in this process (no ORM, no HTTP, no
JSON), timed ``--sql-runs`` times: its p50 and p99, and 1/p50 as "queries/s one connection".

    .venv/bin/python bench/bench_api.py [--seconds 8] [--connections 4] [--no-postgres]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import pg_available, pg_store, sqlite_store  # noqa: E402

SITE = "1029A"
SQL_LATEST = """
SELECT s.code, s.name, s.region_code, s.lon, s.lat, p.name, l.time, l.value
FROM latest l JOIN series r ON r.id = l.series_id JOIN site s ON s.id = r.site_id
JOIN parameter p ON p.id = r.parameter_id
WHERE s.kind = 'air_station' AND r.interval = 'hour' AND p.name IN ('so2','no2','co','o3','pm10','pm25')
ORDER BY s.code, p.name
"""
SQL_ALL_LATEST = """
SELECT s.code, s.name, s.kind, s.region_code, s.lon, s.lat, p.name, p.unit, r.interval, l.time, l.value, l.flag
FROM latest l JOIN series r ON r.id = l.series_id JOIN site s ON s.id = r.site_id
JOIN parameter p ON p.id = r.parameter_id ORDER BY s.code, p.name, r.interval
"""
SQL_SERIES = """
SELECT s.code, p.name, r.interval, o.time, o.value, o.flag, src.name
FROM observation o JOIN series r ON r.id = o.series_id JOIN site s ON s.id = r.site_id
JOIN parameter p ON p.id = r.parameter_id JOIN source src ON src.id = o.source_id
WHERE s.code = {ph} AND p.name = 'pm25' AND r.interval = 'hour' AND o.time >= {ph} AND o.time < {ph}
ORDER BY s.code, p.name, r.interval, o.time, o.source_id LIMIT 1001
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url: str, port: int) -> None:  # runs in the server process
    import uvicorn

    from ecohub.api.app import create_app
    from ecohub.api.serving import freeze_heap
    from ecohub.store.db import Store

    app = create_app(Store.open(url))
    freeze_heap()  # as `ecohub serve` does
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def start_server(url: str, cache_seconds: int = 0) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "ECOHUB_SECRET_KEY": secrets.token_urlsafe(48), "ECOHUB_RATE_LIMIT_ANON": "0",
           "ECOHUB_RATE_LIMIT_AUTH": "0", "ECOHUB_PUBLIC_CACHE_SECONDS": str(cache_seconds)}
    proc = subprocess.Popen([sys.executable, __file__, "--serve", url, "--port", str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).read()
            return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v


def load_wrk(url: str, seconds: int, connections: int) -> dict:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s", url],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    n = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50": p50, "p99": p99, "n": n, "errors": int(errors.group(1)) if errors else 0}


def load_python(url: str, seconds: int, connections: int) -> dict:
    """Fallback load generator (a second process): ``connections`` threads, keep-alive, for ``seconds``."""
    code = f"""
import http.client, threading, time, json, urllib.parse
u = urllib.parse.urlsplit({url!r}); lat = []; err = [0]; stop = time.perf_counter() + {seconds}
def run():
    c = http.client.HTTPConnection(u.hostname, u.port)
    while time.perf_counter() < stop:
        t = time.perf_counter(); c.request("GET", u.path + "?" + u.query); r = c.getresponse(); r.read()
        lat.append(time.perf_counter() - t); err[0] += r.status >= 400
ts = [threading.Thread(target=run) for _ in range({connections})]
t0 = time.perf_counter(); [t.start() for t in ts]; [t.join() for t in ts]
print(json.dumps({{"n": len(lat), "s": time.perf_counter() - t0, "lat": sorted(lat), "err": err[0]}}))
"""
    import json

    res = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    timeout=seconds + 60).stdout)
    lat = res["lat"]
    return {"rps": res["n"] / res["s"], "p50": lat[len(lat) // 2] * 1000, "p99": lat[int(len(lat) * 0.99)] * 1000,
            "n": res["n"], "errors": res["err"]}


def bare_sql(store, sql: str, params: tuple, runs: int) -> dict:
    raw = store.engine.raw_connection()
    try:
        cur = raw.driver_connection.cursor()
        ph = "%s" if store.is_postgres else "?"
        q = sql.format(ph=ph)
        times, n = [], 0
        for _ in range(runs):
            t = time.perf_counter()
            cur.execute(q, params)
            n = len(cur.fetchall())
            times.append(time.perf_counter() - t)
    finally:
        raw.close()
    times.sort()
    return {"p50": statistics.median(times) * 1000, "p99": times[int(len(times) * 0.99) - 1] * 1000, "rows": n}


def cockpit_cold(store, runs: int, *, maintained: bool = True) -> dict:
    """The cockpit's figures for an admin with the in-process cache cleared before each call (ms).
    ``maintained=False``: as if the daily AQI table had never been built (every day computed from the hourly
    observations — what every cold cockpit did before the table existed)."""
    from datetime import date

    from ecohub.analytics import aqi_daily
    from ecohub.store.queries import Scope
    from ecohub.web import services as S

    real = aqi_daily.live_from
    if not maintained:
        aqi_daily.live_from = lambda store: date.min
    try:
        times = []
        for _ in range(runs):
            S._cache.clear()
            t = time.perf_counter()
            S.cockpit(store, Scope("admin", name="bench"))
            times.append(time.perf_counter() - t)
    finally:
        aqi_daily.live_from = real
    times.sort()
    return {"p50": statistics.median(times) * 1000, "max": times[-1] * 1000}


def run(name: str, store_cm, seconds: int, connections: int, sql_runs: int, days: int = 31,
        cockpit_runs: int = 5) -> None:
    from ecohub.demo.province import load_registers
    from ecohub.demo.replay import Replayer

    with store_cm() as store:
        load_registers(store)
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        w = Replayer(store).backfill(days, now=now)
        print(f"\n[{name}] demo province: {w.imported} observations ({time.perf_counter() - t0:.0f} s)")
        from ecohub.analytics import aqi_daily

        t0 = time.perf_counter()
        built = aqi_daily.maintain(store)  # the worker's first pass builds the maintained daily AQI
        print(f"[{name}] maintained daily AQI built: {built['days']} days, {built['rows']} rows "
              f"({time.perf_counter() - t0:.1f} s, once; then each worker pass recomputes only the days that got data)")
        with store.engine.begin() as c:  # committed: a rolled-back ANALYZE leaves no statistics on PostgreSQL
            c.exec_driver_sql("ANALYZE")
        last_h = int(now.timestamp()) // 3600 * 3600
        end = datetime.fromtimestamp(last_h, UTC)
        start = end - timedelta(days=30)
        url = store.engine.url.render_as_string(hide_password=False)
        proc, base = start_server(url)
        try:
            load = load_wrk if shutil.which("wrk") else load_python
            q = (f"/api/v1/observations?site={SITE}&parameter=pm25&interval=hour&limit=1000"
                 f"&from={start.strftime('%Y-%m-%dT%H:%M:%SZ')}&to={end.strftime('%Y-%m-%dT%H:%M:%SZ')}")
            import json

            n_series = len(json.loads(urllib.request.urlopen(base + q).read())["results"])
            n_aqi = len(json.loads(urllib.request.urlopen(base + "/api/v1/aqi/hourly").read()))
            http_aqi = load(base + "/api/v1/aqi/hourly", seconds, connections)
            n_latest = len(json.loads(urllib.request.urlopen(base + "/api/v1/latest").read()))
            http_latest = load(base + "/api/v1/latest", seconds, connections)
            http_series = load(base + q, seconds, connections)
            http_rank = load(base + "/api/v1/rankings/cities", seconds, connections)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        proc, base = start_server(url, cache_seconds=60)  # the default: kept while the data version is unchanged
        try:
            http_aqi_cached = load(base + "/api/v1/aqi/hourly", seconds, connections)
            http_latest_cached = load(base + "/api/v1/latest", seconds, connections)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        if store.is_postgres:
            params = (SITE, start, end)
        else:
            params = (SITE, int(start.timestamp()), int(end.timestamp()))
        sql_aqi = bare_sql(store, SQL_LATEST, (), sql_runs)
        sql_all_latest = bare_sql(store, SQL_ALL_LATEST, (), sql_runs)
        sql_series = bare_sql(store, SQL_SERIES, params, sql_runs)
        cold = cockpit_cold(store, cockpit_runs)
        cold_computed = cockpit_cold(store, cockpit_runs, maintained=False)
    tool = "wrk" if shutil.which("wrk") else "python client"
    print(f"[{name}] load: {tool}, 1 thread, {connections} connections, {seconds} s per endpoint; "
          f"bare SQL: {sql_runs} runs, one connection")
    print(f"    {'':42} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'p50 ratio':>10}")
    for label, hs, s, rows in (
            ("latest AQI, all stations", [("GET API, computed each time", http_aqi),
                                          ("GET API, response cache (default)", http_aqi_cached)],
             sql_aqi, f"{n_aqi} stations"),
            ("latest value of every series", [("GET API, computed each time", http_latest),
                                              ("GET API, response cache (default)", http_latest_cached)],
             sql_all_latest, f"{n_latest} series"),
            ("30-day hourly series", [("GET API", http_series)], sql_series, f"{n_series} rows"),
            ("city ranking, 30 days", [("GET API, computed each time", http_rank)], sql_aqi, "vs latest SQL")):
        print(f"  {label}")
        print(f"    {'bare SQL':<42} {1000 / s['p50']:>9,.0f} {s['p50']:>9.2f} {s['p99']:>9.2f} {1:>10.1f}"
              f"   ({s['rows']} rows)")
        for hl, h in hs:
            print(f"    {hl:<42} {h['rps']:>9,.0f} {h['p50']:>9.2f} {h['p99']:>9.2f} "
                  f"{h['p50'] / s['p50']:>10.1f}   ({rows}; {h['n']} requests, {h['errors']} errors)")
    print(f"  cockpit figures, cold (in-process, {cockpit_runs} runs; p99 column = max)")
    for label, c in (("computed from hourly observations (before)", cold_computed),
                     ("read from the maintained daily AQI", cold)):
        print(f"    {label:<42} {'':>9} {c['p50']:>9.1f} {c['max']:>9.1f} "
              f"{c['p50'] / sql_aqi['p50']:>10.1f}   (ratio to the latest SQL)")
    print(f"    maintained / computed: {cold['p50'] / cold_computed['p50']:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--sql-runs", type=int, default=200)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--days", type=int, default=31, help="days of demo history (default 31)")
    ap.add_argument("--cockpit-runs", type=int, default=5)
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve:
        serve(a.serve, a.port)
        return
    a.seconds = max(1, min(a.seconds, 60))
    a.connections = max(1, min(a.connections, 64))
    print("API under load (server: uvicorn, 1 process; client: a second process) vs the bare SQL it wraps")
    run("SQLite", sqlite_store, a.seconds, a.connections, a.sql_runs, a.days, a.cockpit_runs)
    if not a.no_postgres:
        if pg_available():
            run("PostgreSQL", pg_store, a.seconds, a.connections, a.sql_runs, a.days, a.cockpit_runs)
        else:
            print("\n[PostgreSQL] not available: skipped (set ECOHUB_BENCH_POSTGRES_URL)")


if __name__ == "__main__":
    main()
