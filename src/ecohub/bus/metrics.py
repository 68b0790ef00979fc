"""Prometheus metrics of the ingest processes (``prometheus-client``): the gateway's and the writers' counters,
read from their counter dicts at scrape time (nothing added to the per-packet path), rejects by reason, queue
depths, and the writers' write-latency histogram. :func:`serve` exposes a registry on a metrics port
(``ecohub gateway --metrics-port``, ``ecohub writer --metrics-port``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["GATEWAY_REJECTS", "CountersCollector", "gateway_registry", "serve", "writer_registry"]

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


def serve(port: int, registry: CollectorRegistry, host: str = "127.0.0.1") -> Any:
    """Expose ``registry`` on http://host:port/metrics (a daemon thread); returns the server."""
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server
