"""Push exchange beside pull, in the same run (SQLite): the same observation dataset of ``--rows`` observations

1. pulled as one JSON export (``catalog.service.export_dataset``: query, masking, watermark, export record) —
   the baseline, rows/s;
2. pushed to a partner over HTTP on 127.0.0.1 (``exchange.push.push``: delta pages, watermark, batch kept with
   its hash in the exchange log, HMAC-SHA256 signature, POST, the partner checks the signature and the rows
   hash) in batches of ``--batch`` rows — rows/s;
3. the same with SM2 signatures and SM3 hashes.

    .venv/bin/python bench/bench_exchange.py [--rows 200000] [--batch 5000]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import make_series, report, sqlite_store  # noqa: E402

from ecohub.catalog.service import Requester, create_dataset, export_dataset, get_dataset  # noqa: E402
from ecohub.crypto import sm2  # noqa: E402
from ecohub.exchange.partners import add_partner, subscribe  # noqa: E402
from ecohub.exchange.push import push  # noqa: E402
from ecohub.exchange.signing import verify_request  # noqa: E402
from ecohub.store.tx import write_tx  # noqa: E402
from ecohub.store.writer import ObservationWriter  # noqa: E402


class Partner(BaseHTTPRequestHandler):
    keys: dict[str, dict] = {}
    rows = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        k = self.keys[self.headers["X-Ecohub-Key-Id"]]
        verify_request(dict(self.headers), "POST", self.path, body, alg=k["alg"], secret=k.get("secret"),
                       public=k.get("public"))
        doc = json.loads(body)
        Partner.rows += len(doc["rows"])
        out = json.dumps({"received": len(doc["rows"])}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=5000)
    a = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Partner)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/in"
    with sqlite_store() as store:
        params = ("pm25", "pm10", "so2", "no2", "co", "o3")
        sids = make_series(store, 20, params)
        t0 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
        hours = a.rows // len(sids) + 1
        with ObservationWriter(store, "import", "bench") as w:
            for h in range(hours):
                for sid in sids:
                    w.add(sid, t0 + 3600 * h, float(h % 97))
        with write_tx(store) as c:
            ds_id = create_dataset(c, code="air", title="t", description="d", owner_department="监测处", fields=None,
                                   update_frequency="hourly", sharing_level="unconditional", open_level="closed",
                                   source={"type": "observations", "kinds": ["air_station"]})
        with store.engine.connect() as c:
            ds = get_dataset(c, ds_id)
        time.sleep(1.1)  # a delta stops before the current second
        who = Requester("partner", None, "bench")
        start = datetime.fromtimestamp(t0, UTC)
        tp = time.perf_counter()
        ex = export_dataset(store, ds, who, "json", start=start, end=start + timedelta(days=hours // 24 + 2),
                            max_rows=10**9)
        pull_s = time.perf_counter() - tp
        results = {}
        for alg in ("hmac-sha256", "sm2"):
            p = add_partner(store, f"bench-{alg}", alg=alg, endpoint=url,
                            partner_public=sm2.generate_keypair()[1] if alg == "sm2" else None)
            Partner.keys[p["key_id"]] = {"alg": alg, "secret": p.get("secret"), "public": p.get("sign_public")}
            subscribe(store, p["name"], "air")
            Partner.rows = 0
            tp = time.perf_counter()
            [r] = push(store, p["name"], max_rows=a.batch, max_batches=10**6)
            results[alg] = (r, time.perf_counter() - tp, Partner.rows)
    server.shutdown()
    print(f"{ex.rows:,} observations, batches of {a.batch:,} rows")
    (rh, th, nh), (rs, ts, ns) = results["hmac-sha256"], results["sm2"]
    report("push exchange vs pull export of the same dataset (SQLite, same run)", [
        ("pull: JSON export (baseline), rows/s", ex.rows / pull_s, "rows/s"),
        ("push: HMAC-SHA256 + SHA-256 batches to a partner on 127.0.0.1, rows/s", rh["rows"] / th, "rows/s"),
        ("push: SM2 + SM3 batches, rows/s", rs["rows"] / ts, "rows/s"),
    ])
    print(f"  push hmac: {rh['delivered']} batches, {nh:,} rows received; sm2: {rs['delivered']} batches, "
          f"{ns:,} rows received (pull {ex.rows:,}); statuses {rh['status']}/{rs['status']}")


if __name__ == "__main__":
    main()
