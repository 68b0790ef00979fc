"""The scheduled worker: QC, valid period means and alert rules over what arrived since the last run, then
escalation, the maintained daily and hourly AQI (``ecohub.analytics.aqi_daily``, ``aqi_hourly``) and daily rollup
of every series (``ecohub.store.series_daily``), the further jobs of
:attr:`WorkerSettings.jobs` (the CLI adds the permit and hazardous-waste jobs) and notification delivery. ``ecohub worker --once`` runs one pass; ``ecohub worker`` repeats.

Incremental: the watermark (table ``worker_state``, name ``pass``) is the highest ``received_at`` processed.
A pass takes the observations received in (watermark − overlap, now]; the overlap (default 300 s) catches
rows of a transaction that began before the previous pass but committed after it. Re-processing is harmless:
QC rewrites the same flags and alerts are de-duplicated per cause, so no notification is sent twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from ecohub.alerts import rules as R
from ecohub.alerts.lifecycle import clear_condition, escalate_due, raise_condition
from ecohub.alerts.notify import DeliveryPolicy, SmtpSettings, deliver_due
from ecohub.alerts.pollution_warning import apply_warnings
from ecohub.analytics import aqi_daily, aqi_hourly
from ecohub.quality import store_io as io
from ecohub.quality.qc import run_qc
from ecohub.store import series_daily
from ecohub.store.db import Store
from ecohub.store.schema_alerts import alert
from ecohub.store.schema_quality import worker_state

log = logging.getLogger("ecohub.worker")
PASS = "pass"


@dataclass
class WorkerSettings:
    overlap: int = 300
    rules: R.RuleSettings = field(default_factory=R.RuleSettings)
    deliver: bool = True
    aqi_daily: bool = True  # keep the maintained daily AQI table (``ecohub.analytics.aqi_daily``)
    aqi_hourly: bool = True  # keep the maintained hourly AQI table (``ecohub.analytics.aqi_hourly``)
    series_daily: bool = True  # keep the daily rollup of every series (``ecohub.store.series_daily``)
    policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    smtp: SmtpSettings | None = None
    #: further jobs of every pass, (name, job(store, now) → summary), run after the alert rules and before the
    #: delivery (so their alerts go out in the same pass); the CLI adds the supervision jobs here
    jobs: tuple[tuple[str, Callable[[Store, datetime], dict]], ...] = ()


def get_watermark(store: Store, name: str = PASS) -> datetime | None:
    with store.engine.connect() as conn:
        return conn.scalar(select(worker_state.c.watermark).where(worker_state.c.name == name))


def _set_watermark(conn, name: str, value: datetime, info: dict) -> None:
    now = datetime.now(UTC)
    if conn.execute(update(worker_state).where(worker_state.c.name == name).values(
            watermark=value, updated_at=now, info=info)).rowcount == 0:
        conn.execute(insert(worker_state).values(name=name, watermark=value, updated_at=now, info=info))


def run_once(store: Store, settings: WorkerSettings | None = None, *, now: datetime | None = None) -> dict:
    """One pass. ``now`` (default: the clock) is both the upper bound of ``received_at`` taken and the time
    the offline and escalation rules compare with."""
    s = settings or WorkerSettings()
    t_start = time.perf_counter()
    now_dt = now or datetime.now(UTC)
    hi = int(now_dt.timestamp())
    wm = get_watermark(store)
    lo = None if wm is None else int(wm.timestamp()) - s.overlap
    qc = run_qc(store, lo, hi)
    summary: dict = {"since": io.from_epoch(lo).isoformat() if lo is not None else None,
                     "until": now_dt.isoformat(), "qc": qc.as_dict()}
    with store.engine.connect().execution_options(sqlite_immediate=True) as conn, conn.begin():
        touched = io.touched_series(conn, lo, hi)
        meta = io.series_meta(conn, touched)
        found = R.Findings()
        en = s.rules.enabled
        if "permit" in en:
            found.extend(R.permit_rule(conn, touched, meta))
        if "aqi" in en:
            found.extend(R.aqi_rule(conn, touched, meta, s.rules))
        if "water_class" in en:
            found.extend(R.water_rule(conn, touched, meta))
        if "offline" in en:
            found.extend(R.offline_rule(conn, hi, s.rules))
        if "qc" in en:
            found.extend(R.qc_rule(conn, touched, meta, hi, s.rules))
        if "suspicious" in en:
            found.extend(R.suspicious_rule(conn, touched, meta, s.rules))
        if "radiation" in en:
            from ecohub.alerts.radiation_rule import radiation_rule

            found.extend(radiation_rule(conn, touched, meta))
        opened = updated = 0
        for c in found.conditions:
            out = raise_condition(conn, c, hi)
            opened += out.created
            updated += not out.created
        # only causes with an active alert need clearing (one query instead of one per evaluated cause)
        active = set(conn.scalars(select(alert.c.cause_key).where(alert.c.status != "closed",
                                                                    alert.c.active.is_(True))))
        cleared = sum(clear_condition(conn, k, hi) is not None for k in dict.fromkeys(found.cleared) if k in active)
        warnings = apply_warnings(conn, hi) if "pollution_warning" in en else None
        escalated = escalate_due(conn, hi)
        _set_watermark(conn, PASS, now_dt, {"series": len(touched)})
    summary["alerts"] = {"conditions": len(found.conditions), "opened": opened, "updated": updated,
                         "cleared": cleared, "escalated": len(escalated), "pollution_warning": warnings}
    if s.aqi_daily:
        summary["aqi_daily"] = aqi_daily.maintain(store, now=now_dt, overlap=s.overlap)
    if s.aqi_hourly:
        summary["aqi_hourly"] = aqi_hourly.maintain(store, now=now_dt, overlap=s.overlap)
    if s.series_daily:
        summary["series_daily"] = series_daily.maintain(store, now=now_dt, overlap=s.overlap)
    for name, job in s.jobs:
        try:
            summary[name] = job(store, now_dt)
        except Exception as e:  # noqa: BLE001 — one failing job does not stop the pass; it is logged
            log.exception("worker job %s failed", name)
            summary[name] = {"error": f"{type(e).__name__}: {e}"}
    if s.deliver:
        summary["notifications"] = deliver_due(store, policy=s.policy, smtp=s.smtp)
    summary["seconds"] = round(time.perf_counter() - t_start, 3)
    return summary


def run_forever(store: Store, interval: float = 60.0, settings: WorkerSettings | None = None,
                stop=lambda: False, on_pass=None, before_pass=None, on_error=None) -> None:
    """Run a pass every ``interval`` seconds until ``stop()`` is true. A failing pass is logged and retried.
    ``before_pass()`` (optional) runs first in every pass and its result joins the pass's summary (the CLI hangs
    the daily forecast run there, so the warnings it grades are applied in the same pass). ``on_error(exc)``
    (optional) is told of a failed pass (metrics)."""
    while not stop():
        t0 = time.monotonic()
        try:
            extra = before_pass() if before_pass else None
            res = run_once(store, settings)
            if extra is not None:
                res["before"] = extra
            if on_pass:
                on_pass(res)
        except Exception as e:  # noqa: BLE001 — the worker keeps running; the error is logged
            log.exception("worker pass failed")
            if on_error:
                on_error(e)
        rest = interval - (time.monotonic() - t0)
        while rest > 0 and not stop():
            time.sleep(min(rest, 1.0))
            rest -= 1.0
