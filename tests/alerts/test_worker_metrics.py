"""``ecohub worker --metrics-port`` (issue 18.4): the worker's pass times, passes, failed passes and alert events
scraped over HTTP and seen moving across real passes (a permit exceedance opens an alert); ``/readyz`` beside
them answers 200 while the database does. Both backends."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
from alerts_support import make_outlet

from ecohub.alerts.metrics import WorkerMetrics
from ecohub.alerts.permits import import_permits
from ecohub.alerts.worker import WorkerSettings, run_forever
from ecohub.bus.metrics import readiness, serve
from ecohub.store import registry as R
from ecohub.store.writer import ObservationWriter


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample(text: str, name: str, labels: str = "") -> float:
    m = re.search(rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+-]+)$", text, re.M)
    assert m, f"{name}{labels} not in the scrape"
    return float(m.group(1))


def passes(store, metrics: WorkerMetrics, n: int, fail_with: Exception | None = None) -> None:
    done = []

    def before() -> None:
        if fail_with is not None:
            done.append(1)
            raise fail_with

    run_forever(store, 0, WorkerSettings(deliver=False), stop=lambda: len(done) >= n,
                on_pass=lambda res: (metrics.observe(res), done.append(1)), before_pass=before,
                on_error=metrics.failed)


def test_worker_metrics_move_with_passes_and_alerts(store, tmp_path):
    make_outlet(store)
    (tmp_path / "permits.csv").write_text("site,parameter,limit,unit,period,converted_o2\n"
                                          "GAS1,nox,100,mg/m3,hour,\n", encoding="utf-8")
    assert import_permits(store, tmp_path / "permits.csv").imported == 1
    metrics = WorkerMetrics()
    port = free_port()
    server = serve(port, metrics.registry, ready=lambda: readiness(store, None))
    try:
        url = f"http://127.0.0.1:{port}"
        before = httpx.get(url + "/metrics", timeout=5).text
        assert sample(before, "ecohub_worker_passes_total") == 0
        assert sample(before, "ecohub_worker_alerts_total", '{event="opened"}') == 0
        passes(store, metrics, 1)  # nothing to find
        mid = httpx.get(url + "/metrics", timeout=5).text
        assert sample(mid, "ecohub_worker_passes_total") == 1
        assert sample(mid, "ecohub_worker_pass_seconds_count") == 1
        assert sample(mid, "ecohub_worker_alerts_total", '{event="opened"}') == 0
        # hourly NOx over its permit limit: the next pass opens an alert
        with store.engine.begin() as c:
            sid = R.SeriesResolver().get(c, R.site_index(c)["GAS1"][0], R.parameter_index(c)["nox"], "hour")
        start = int((datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=6)).timestamp())
        with ObservationWriter(store, "hj212") as w:
            for i, v in enumerate(np.full(6, 180.0)):
                w.add(sid, start + 3600 * i, float(v), "N")
        passes(store, metrics, 1)
        passes(store, metrics, 1, fail_with=RuntimeError("a pass that fails"))
        after = httpx.get(url + "/metrics", timeout=5).text
        ready = httpx.get(url + "/readyz", timeout=5)
    finally:
        server.shutdown()
    assert sample(after, "ecohub_worker_passes_total") == 2
    assert sample(after, "ecohub_worker_pass_seconds_count") == 2
    assert sample(after, "ecohub_worker_pass_failures_total") == 1
    assert sample(after, "ecohub_worker_alerts_total", '{event="opened"}') == 1
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "checks": {"database": True}}
