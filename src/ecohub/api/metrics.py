"""``/metrics`` (Prometheus: requests by method, route and status, request latency histogram) and ``/readyz``
(ready when the database answers and, when ``ECOHUB_BUS_URL`` is set, the NATS JetStream ingest stream is
reachable; 503 with the reason otherwise)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

__all__ = ["install_metrics"]


def install_metrics(app: FastAPI, store: Any) -> None:
    reg = CollectorRegistry()
    requests = Counter("ecohub_api_requests", "API requests", ["method", "route", "status"], registry=reg)
    latency = Histogram("ecohub_api_request_seconds", "API request time", ["route"], registry=reg,
                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
    reg.register(_ForwardingCollector(store))
    app.state.metrics_registry = reg

    def observe(method: str, route: Any, status: int, seconds: float) -> None:
        name = getattr(route, "path", None) or "unmatched"  # the template, never the raw path (bounded labels)
        requests.labels(method, name, str(status)).inc()
        latency.labels(name).observe(seconds)

    app.state.observe_request = observe  # for answers given before routing (the response cache's hits)

    @app.middleware("http")
    async def _measure(request: Request, call_next):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        response = await call_next(request)
        observe(request.method, request.scope.get("route"), response.status_code, time.perf_counter() - t0)
        return response

    @app.get("/metrics", tags=["status"], response_class=Response,
             responses={200: {"description": "Prometheus text format",
                              "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}})
    def metrics() -> Response:
        """Prometheus exposition of the API's metrics."""
        return Response(generate_latest(reg), media_type=CONTENT_TYPE_LATEST)

    @app.get("/readyz", tags=["status"])
    def readyz() -> JSONResponse:
        """Ready: the database answers, and the bus (``ECOHUB_BUS_URL``) when one is configured."""
        from ecohub.bus.metrics import readiness

        ok, checks = readiness(store, app.state.settings.bus_url)
        return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks},
                            status_code=200 if ok else 503)


class _ForwardingCollector:
    """HJ 212 forwarding per destination, read from the database at each scrape (the forwarder may run in
    another process): backlog, lag, failures, sent/acknowledged totals, time of the last ack."""

    def __init__(self, store: Any):
        self.store = store

    def describe(self) -> list:
        return []  # collected at scrape time only

    def collect(self):  # type: ignore[no-untyped-def]
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        from ecohub.exchange.forward import forwarding_summary

        rows = forwarding_summary(self.store)
        backlog = GaugeMetricFamily("ecohub_forward_backlog", "Packets queued for the destination", labels=["destination"])
        lag = GaugeMetricFamily("ecohub_forward_lag_seconds", "Age of the oldest queued packet", labels=["destination"])
        last = GaugeMetricFamily("ecohub_forward_last_ack_timestamp_seconds", "Time of the last 9014 answer",
                                 labels=["destination"])
        failed = GaugeMetricFamily("ecohub_forward_failed_packets", "Packets given up (no answer after the attempts)",
                                   labels=["destination"])
        failures = CounterMetricFamily("ecohub_forward_failures", "Link failures (connection, unanswered window)",
                                       labels=["destination"])
        sent = CounterMetricFamily("ecohub_forward_sent", "Packets sent", labels=["destination"])
        acked = CounterMetricFamily("ecohub_forward_acked", "Packets answered with 9014", labels=["destination"])
        from datetime import datetime

        for r in rows:
            name = [r["name"]]
            backlog.add_metric(name, r["backlog"])
            lag.add_metric(name, r["lag_seconds"] or 0.0)
            if r["last_ack_at"]:
                last.add_metric(name, datetime.fromisoformat(r["last_ack_at"]).timestamp())
            failed.add_metric(name, r["failed"])
            failures.add_metric(name, r["failures"])
            sent.add_metric(name, r["sent"])
            acked.add_metric(name, r["acked"])
        yield from (backlog, lag, last, failed, failures, sent, acked)
