"""``ecohub loadtest`` end to end on a tiny bounded load: direct and through the bus, everything acknowledged
lands in the store (no timings asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_loadtest_direct_and_bus(store, nats_server):
    db = store.engine.url.render_as_string(hide_password=False)
    out = []
    for writers in ("0", "2"):
        p = subprocess.run([sys.executable, "-m", "ecohub.cli.main", "loadtest", "--outlets", "20", "--gateways", "2",
                            "--writers", writers, "--seconds", "2", "--bus", nats_server.url,
                            "--database-url", db, "--json"], capture_output=True, text=True, cwd=ROOT, timeout=180)
        assert p.returncode == 0, p.stderr[-2000:]
        out.append(json.loads(p.stdout))
    direct, bus = out
    assert direct["mode"] == "direct" and bus["mode"] == "bus" and bus["writers"] == 2
    for r in out:
        assert r["sent"] > 0 and r["acked"] == r["sent"]
        assert r["observations"] > r["acked"]  # ~10 pollutants per packet, all written
        assert r["acked_per_s"] > 0 and r["ack_p99_ms"] is not None
