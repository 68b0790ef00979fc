"""The portal's map in a real browser (Playwright + Debian's chromium): time from navigation to a drawn map
(boundaries and every station marker on the canvas) with the 53 demo stations and with 5,000 synthetic
stations, beside the same page with the markers layer off (``/?markers=off``: boundaries only) in the same
run; and the page weight (bytes over the wire, gzip, cold cache).

The API computes the AQI of every station for each load (``/api/v1/aqi/hourly``), so the 5,000-site figure
includes that work, the transfer and the drawing. Aim (issue #7): 5,000 sites in under 3× the empty map.

    .venv/bin/python bench/bench_web_map.py [--sites 5000] [--runs 7]

Chromium from ECOHUB_TEST_CHROMIUM or /usr/bin/chromium; servers on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import uvicorn  # noqa: E402
from _common import report  # noqa: E402
from sqlalchemy import select  # noqa: E402

from ecohub.api.app import create_app  # noqa: E402
from ecohub.api.identity import AuthConfig  # noqa: E402
from ecohub.api.security import ApiConfig  # noqa: E402
from ecohub.demo.province import load_registers  # noqa: E402
from ecohub.demo.replay import Replayer  # noqa: E402
from ecohub.store import registry as R  # noqa: E402
from ecohub.store.db import Store  # noqa: E402
from ecohub.store.schema import region  # noqa: E402
from ecohub.store.writer import ObservationWriter  # noqa: E402
from ecohub.web import mount_web  # noqa: E402
from ecohub.web import services as S  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
POLLUTANTS = {"pm25": (10, 250), "pm10": (20, 400), "so2": (2, 60), "no2": (5, 120), "co": (0.2, 4.0), "o3": (2, 200)}


def build(folder: Path, synthetic: int) -> Store:
    store = Store.open(f"sqlite:///{folder / 'ecohub.db'}")
    store.init()
    load_registers(store)
    Replayer(store).backfill(1)
    if synthetic:
        rnd = random.Random(7)
        with store.engine.begin() as c:
            counties = [r.code for r in c.execute(select(region.c.code).where(region.c.level == 3,
                                                                               region.c.code.startswith("13")))]
            for i in range(synthetic):
                R.upsert_site(c, R.SiteInput(f"SYN{i:05d}", "air_station", f"合成站{i}", rnd.uniform(114.0, 119.5),
                                             rnd.uniform(36.2, 42.4), rnd.choice(counties), attrs={"synthetic": True}))
            idx, par = R.site_index(c), R.parameter_index(c)
            res = R.SeriesResolver()
            ids = [(res.get(c, idx[f"SYN{i:05d}"][0], par[p], "hour"), p) for i in range(synthetic) for p in POLLUTANTS]
        hour = int(time.time()) // 3600 * 3600 - 3600
        w = ObservationWriter(store, "import", "bench", batch_size=100_000)
        for sid, p in ids:
            lo, hi = POLLUTANTS[p]
            w.add(sid, hour, round(rnd.uniform(lo, hi), 1 if p == "co" else 0))
        w.flush()
    return store


class Server:
    def __init__(self, store: Store, data_dir: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        cfg = ApiConfig(rate_anon_per_min=1_000_000, rate_auth_per_min=1_000_000)
        app = mount_web(create_app(store, auth=AuthConfig(secret="bench-" + "x" * 40), config=cfg,
                                   data_dir=data_dir), store, data_dir=data_dir)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


def measure(browser, url: str, runs: int, *, server_cache: bool) -> tuple[list[float], int, dict]:
    """Milliseconds from navigation start to the drawn map, one fresh browser context (cold browser cache) per
    run; ``server_cache=False`` empties the server's cache of derived figures before each load (the AQI of every
    station is then computed for the request). Also the markers drawn and the bytes of the first counted load."""
    times, weight, markers = [], {}, 0
    for i in range(runs + 1):  # the first run warms the server (imports, connections) and is not counted
        if not server_cache:
            S._cache.clear()
        ctx = browser.new_context(viewport={"width": 1400, "height": 950})
        page = ctx.new_page()
        page.goto(url, wait_until="commit", timeout=60_000)
        page.wait_for_function("() => window.__ehMapDrawn", timeout=120_000)
        drawn = page.evaluate("() => window.__ehMapDrawn")
        if i == 1:
            weight = page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
                const r = performance.getEntriesByType('resource');
                return {transfer: n.transferSize + r.reduce((a, x) => a + x.transferSize, 0),
                        decoded: n.decodedBodySize + r.reduce((a, x) => a + x.decodedBodySize, 0),
                        requests: 1 + r.length}; }""")
        if i > 0:
            times.append(drawn["t"])
        markers = drawn["markers"]
        ctx.close()
    return times, markers, weight


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    exe = os.environ.get("ECOHUB_TEST_CHROMIUM") or "/usr/bin/chromium"
    if not Path(exe).exists():
        print(f"chromium not found at {exe}: set ECOHUB_TEST_CHROMIUM", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    results = {}
    with tempfile.TemporaryDirectory() as d, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        demo_dir, big_dir = Path(d) / "demo", Path(d) / "big"
        demo_dir.mkdir()
        big_dir.mkdir()
        t0 = time.perf_counter()
        demo, big = build(demo_dir, 0), build(big_dir, a.sites)
        print(f"built the databases in {time.perf_counter() - t0:.1f} s (demo; demo + {a.sites:,} synthetic stations)")
        with Server(demo, demo_dir) as url:
            results["demo"] = measure(browser, url + "/", a.runs, server_cache=False)
        with Server(big, big_dir) as url:
            results["empty"] = measure(browser, url + "/?markers=off", a.runs, server_cache=False)
            results["big"] = measure(browser, url + "/", a.runs, server_cache=False)
            results["cached"] = measure(browser, url + "/", a.runs, server_cache=True)
        browser.close()
        demo.close()
        big.close()
    med = {k: statistics.median(v[0]) for k, v in results.items()}
    n = results["big"][1]
    report(f"portal map, navigation → drawn map, median of {a.runs} loads, cold browser cache (ms)", [
        ("markers layer off (boundaries only) — baseline", med["empty"], "ms"),
        (f"{results['demo'][1]} demo stations (AQI computed per request)", med["demo"], "ms"),
        (f"{n:,} stations (AQI computed per request)", med["big"], "ms"),
        (f"{n:,} stations (server cache: AQI reused until new data)", med["cached"], "ms"),
    ])
    for k, label in (("empty", "markers off"), ("demo", "demo"), ("big", f"{n:,}"), ("cached", f"{n:,} cached")):
        v = results[k][0]
        print(f"  {label:<14} min {min(v):7.0f}  median {statistics.median(v):7.0f}  max {max(v):7.0f} ms")
    print("\npage weight of the portal, cold cache (bytes over the wire; gzip for scripts, styles, JSON)")
    for k, label in (("empty", "markers off"), ("demo", f"{results['demo'][1]} demo stations"), ("big", f"{n:,} stations")):
        w = results[k][2]
        print(f"  {label:<22} {w['transfer'] / 1024:8.0f} KB transferred  {w['decoded'] / 1024:8.0f} KB decoded  "
              f"{w['requests']} requests")
    for k, label in (("big", "computed per request"), ("cached", "server cache")):
        ratio = med[k] / med["empty"]
        print(f"aim: {a.sites:,} sites in under 3× the empty map — {label}: {ratio:.2f}× "
              f"({'met' if ratio < 3 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
