"""Cost of the national-cryptography integrity features (issue 19), each beside its baseline in the same run:

1. the raw-data batch chain: ObservationWriter with the chain (count + SM3 over each batch's rows + the
   ``obs_batch`` link) beside the same writer with ``chain=False``, into two fresh databases of the same kind,
   the batches interleaved A-B-B-A so that both see the same machine load and neither always goes first
   (median flush time per batch; SQLite, and PostgreSQL if reachable);
   plus ``ecohub data verify`` over what was written;
2. the audit chain: SM3 row hashes (canonical JSON, chained) per second beside SHA-256 (hashlib) over the same
   canonical bytes;
3. SM2 sign and verify per second (gmssl, pure Python) beside HMAC-SHA256 of the same message.

    .venv/bin/python bench/bench_crypto.py [--rows 500000] [--audit-rows 200000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Timer, make_series, pg_available, pg_store, report, sqlite_store  # noqa: E402

from ecohub.crypto import sm2  # noqa: E402
from ecohub.store import audit_chain, batch_chain  # noqa: E402
from ecohub.store.writer import ObservationWriter  # noqa: E402

T0 = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
PARAMS = ("pm25", "pm10", "so2", "no2", "co", "o3", "temp", "humidity", "wind_speed", "pressure")
BATCH = 50_000


def writer_chain(backend: str, store_cm, rows: int) -> None:
    with store_cm() as plain, store_cm() as chained:
        ids_p = make_series(plain, 20, PARAMS)
        ids_c = make_series(chained, 20, PARAMS)
        wp = ObservationWriter(plain, "import", "bench", batch_size=10**9, chain=False)
        wc = ObservationWriter(chained, "import", "bench", batch_size=10**9, chain=True)
        tp, tc = [], []
        n_ser = len(ids_p)
        h = 0
        for rnd in range(max(1, rows // BATCH)):
            hours = BATCH // n_ser
            data = [(j, T0 + 3600 * (h + k), float((h + k) * 31 + j * 7) % 500 / 3)
                    for k in range(hours) for j in range(n_ser)]
            h += hours
            pair = [(wp, ids_p, tp), (wc, ids_c, tc)]
            for w, ids, times in (pair if rnd % 2 == 0 else pair[::-1]):  # alternate who goes first
                for j, t, v in data:
                    w.add(ids[j], t, v, "N")
                with Timer() as tm:
                    w.flush()
                times.append(tm.s)
        n = wp.totals.imported
        assert wc.totals.imported == n
        with Timer() as tv:
            rep = batch_chain.verify_store(chained)
        assert rep.ok and rep.rows == n, rep.as_dict()
        per = n / len(tp)
        report(f"{backend}: writer flush of {len(tp)} batches of {per:,.0f} new observations (median per batch)", [
            ("baseline: ObservationWriter(chain=False)", per / statistics.median(tp), "obs/s"),
            ("ObservationWriter with the SM3 batch chain", per / statistics.median(tc), "obs/s"),
            ("ecohub data verify (recompute all batches)", n / tv.s, "obs/s"),
        ])


def audit_hashing(n: int) -> None:
    rows = [{"at": T0 + i, "actor": f"user{i % 50}", "actor_role": "staff", "action": "write",
             "target": f"site:{i % 997}", "method": "POST", "path": "/api/v1/sites", "status": 200,
             "ip": "10.0.0.1", "detail": {"change": "update", "fields": {"name": "站点", "n": i}}} for i in range(n)]
    with Timer() as ts:
        prev = audit_chain.ZERO
        for i, r in enumerate(rows):
            prev = audit_chain.row_hash(prev, i + 1, r)
    with Timer() as tb:
        p = bytes(32)
        for i, r in enumerate(rows):
            p = hashlib.sha256(p + audit_chain.canonical(i + 1, r)).digest()
    report(f"audit chain: {n:,} rows (canonical JSON + chained hash, Python loop)", [
        ("baseline: same canonical rows chained with SHA-256", n / tb.s, "rows/s"),
        ("SM3 chain (audit_chain.row_hash)", n / ts.s, "rows/s"),
    ])


def signatures(n: int) -> None:
    priv, pub = sm2.generate_keypair()
    key = bytes(32)
    msg = b"x" * 1024
    with Timer() as th:
        for _ in range(n * 20):
            hmac.new(key, msg, hashlib.sha256).digest()
    with Timer() as tsg:
        sigs = [sm2.sign(priv, msg) for _ in range(n)]
    with Timer() as tvf:
        assert all(sm2.verify(pub, msg, s) for s in sigs)
    report("signatures of a 1 KiB message", [
        ("baseline: HMAC-SHA256", n * 20 / th.s, "ops/s"),
        ("SM2 sign (gmssl, pure Python)", n / tsg.s, "ops/s"),
        ("SM2 verify", n / tvf.s, "ops/s"),
    ])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=500_000)
    ap.add_argument("--audit-rows", type=int, default=200_000)
    ap.add_argument("--signatures", type=int, default=50)
    ap.add_argument("--no-postgres", action="store_true")
    a = ap.parse_args()
    writer_chain("sqlite", sqlite_store, a.rows)
    if not a.no_postgres:
        if pg_available():
            writer_chain("postgresql", pg_store, a.rows)
        else:
            print("\npostgresql: not reachable (set ECOHUB_BENCH_POSTGRES_URL); skipped")
    audit_hashing(a.audit_rows)
    signatures(a.signatures)


if __name__ == "__main__":
    main()
