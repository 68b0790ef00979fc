"""Prometheus metrics of the worker (``ecohub worker --metrics-port``): pass times, passes and failed passes,
and the alert events of the passes (opened, updated, cleared, escalated), from each pass's summary."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["ALERT_EVENTS", "WorkerMetrics"]

ALERT_EVENTS = ("opened", "updated", "cleared", "escalated")


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = reg = CollectorRegistry()
        self.pass_seconds = Histogram("ecohub_worker_pass_seconds", "Time of one worker pass", registry=reg,
                                      buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300))
        self.passes = Counter("ecohub_worker_passes", "Worker passes completed", registry=reg)
        self.failures = Counter("ecohub_worker_pass_failures", "Worker passes that failed (logged, retried)",
                                registry=reg)
        self.alerts = Counter("ecohub_worker_alerts", "Alert events of the worker's passes", ["event"],
                              registry=reg)
        for e in ALERT_EVENTS:
            self.alerts.labels(e)  # present (0) before the first event

    def observe(self, summary: dict[str, Any]) -> None:
        """Count one completed pass from its summary (``alerts.worker.run_once``)."""
        self.passes.inc()
        if isinstance(summary.get("seconds"), int | float):
            self.pass_seconds.observe(float(summary["seconds"]))
        alerts = summary.get("alerts") or {}
        for e in ALERT_EVENTS:
            n = alerts.get(e)
            if isinstance(n, int) and n > 0:
                self.alerts.labels(e).inc(n)

    def failed(self, exc: BaseException | None = None) -> None:
        self.failures.inc()
