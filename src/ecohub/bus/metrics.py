"""Prometheus metrics of the ingest processes (``prometheus-client``): the gateway's and the writers' counters,
read from their counter dicts at scrape time (nothing added to the per-packet path), rejects by reason, queue
depths, and the writers' write-latency histogram. :func:`serve` exposes a registry on a metrics port
(``ecohub gateway --metrics-port``, ``ecohub writer --metrics-port``, ``ecohub worker --metrics-port``) with
``/readyz`` beside it (:func:`readiness`: the database and the bus)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Histogram, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["GATEWAY_REJECTS", "CountersCollector", "gateway_registry", "readiness", "serve", "writer_registry"]

#: gateway counters that count refused input, exported as ``ecohub_gateway_rejects_total{reason=…}``
GATEWAY_REJECTS = ("auth_failures", "rejected_frames", "strict_rejected", "throttled", "connections_refused",
                   "address_refused", "first_packet_closed", "quarantined", "packets_failed", "side_dropped")
GAUGES = ("queue_peak",)


class CountersCollector(Collector):
    """``<prefix>_<name>_total`` per counter of ``counters()``; ``rejects`` as one family with a reason label;
    ``gauges()`` as gauges (queue depths …)."""

    def __init__(self, prefix: str, counters: Callable[[], Mapping[str, float]],
                 gauges: Callable[[], Mapping[str, float]] | None = None, rejects: Iterable[str] = ()):
        self.prefix = prefix
        self.counters = counters
        self.gauges = gauges
        self.rejects = tuple(rejects)

    def collect(self) -> Iterable[Metric]:
        c = dict(self.counters())
        if self.rejects:
            fam = CounterMetricFamily(f"{self.prefix}_rejects", "Refused input by reason", labels=["reason"])
            for r in self.rejects:
                fam.add_metric([r], float(c.get(r, 0)))
            yield fam
        for k, v in sorted(c.items()):
            if k in GAUGES:
                yield GaugeMetricFamily(f"{self.prefix}_{k}", k.replace("_", " "), value=float(v))
            else:
                yield CounterMetricFamily(f"{self.prefix}_{k}", k.replace("_", " "), value=float(v))
        if self.gauges is not None:
            for k, v in sorted(self.gauges().items()):
                yield GaugeMetricFamily(f"{self.prefix}_{k}", k.replace("_", " "), value=float(v))


def gateway_registry(gw: Any) -> CollectorRegistry:
    """Metrics of a running :class:`~ecohub.ingest.hj212.server.Gateway` (counters, rejects by reason, queue
    depth, connections, ack-latency quantiles of the last answered packets)."""
    reg = CollectorRegistry()

    def gauges() -> dict[str, float]:
        out: dict[str, float] = {"queue_depth": float(gw.commit.qsize()), "connections": float(len(gw.conns))}
        for q in (0.5, 0.99):
            v = gw.latency.quantile(q)
            out[f"ack_latency_p{int(q * 100)}_seconds"] = float(v) if v is not None else 0.0
        return out

    reg.register(CountersCollector("ecohub_gateway", lambda: gw.counters, gauges, GATEWAY_REJECTS))
    return reg


def writer_registry(counters: Callable[[], Mapping[str, float]], gauges: Callable[[], Mapping[str, float]]
                    ) -> tuple[CollectorRegistry, Histogram]:
    """A bus writer's registry and its write-latency histogram (seconds per database transaction)."""
    reg = CollectorRegistry()
    reg.register(CountersCollector("ecohub_writer", counters, gauges, ("dead",)))
    hist = Histogram("ecohub_writer_write_seconds", "Database write (commit) time per fetched batch",
                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=reg)
    return reg, hist


Readiness = Callable[[], tuple[bool, dict[str, Any]]]


def readiness(store: Any, bus_url: str | None) -> tuple[bool, dict[str, Any]]:
    """Ready when the database answers and, with a bus, NATS is reachable and the ingest stream exists:
    ``(ok, {"database": …, "bus": …})`` with the reason of what is not."""
    checks: dict[str, Any] = {}
    ok = True
    try:
        checks["database"] = store.ping()
    except Exception as e:  # noqa: BLE001 - not ready, with the reason
        checks["database"] = f"{type(e).__name__}: {e}"
        ok = False
    if bus_url:
        import asyncio

        from ecohub.bus.streams import bus_ready

        bus_ok, detail = asyncio.run(bus_ready(bus_url))
        checks["bus"] = detail
        ok = ok and bus_ok
    return ok, checks


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


def serve(port: int, registry: CollectorRegistry, host: str = "127.0.0.1", ready: Readiness | None = None) -> Any:
    """Expose ``registry`` on ``<host>:<port>/metrics`` and, with ``ready``, ``/readyz`` (200 ready / 503 not,
    a JSON body with the checks), in a daemon thread; returns the server (``shutdown()``)."""
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/readyz" and ready is not None:
            ok, checks = ready()
            body = json.dumps({"status": "ready" if ok else "not ready", "checks": checks}).encode()
            start_response("200 OK" if ok else "503 Service Unavailable",
                           [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return metrics(environ, start_response)  # type: ignore[no-any-return]

    server = make_server(host, port, app, _Server, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name=f"metrics-{port}", daemon=True).start()
    return server
