"""The daily forecast run of the worker: issue at a configured Beijing time (default 16:00, when CNEMC publishes
its forecasts), then re-verify the previous issues.

The run is due once per Beijing day, at or after ``at``; the day of the last scheduled run is kept in
``worker_state`` (name ``forecast``), so a restarted worker neither skips nor repeats a day (a run missed
while the worker was down is made at its next pass that day). Settings from the environment:

| variable | meaning | default |
|---|---|---|
| ``ECOHUB_FORECAST_AT`` | Beijing time of the daily issue, HH:MM | ``16:00`` |
| ``ECOHUB_FORECAST_SCHEME`` | warning grading, ``2018`` or ``2024`` (UNCONFIRMED) | ``2018`` |
| ``ECOHUB_FORECAST_ENABLED`` | ``0`` turns the daily run off | ``1`` |
| ``ECOHUB_FORECAST_SITES`` | ``1``: also one issue per air station (its own history) | ``0`` |
| ``ECOHUB_FORECAST_STORED_MET`` | ``0``: ignore stored meteorological series | ``1`` |
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from ecohub.domain.errors import InputError
from ecohub.domain.timeutil import BEIJING
from ecohub.forecast import service
from ecohub.forecast.warning_levels import SCHEMES
from ecohub.store.db import Store
from ecohub.store.schema_quality import worker_state
from ecohub.store.tx import write_tx

log = logging.getLogger("ecohub.forecast")
STATE = "forecast"


@dataclass(frozen=True)
class ForecastSchedule:
    at: str = "16:00"
    scheme: str = "2018"
    enabled: bool = True
    sites: bool = False
    stored_met: bool = True

    def __post_init__(self) -> None:
        try:
            h, m = (int(x) for x in self.at.split(":"))
            if not (0 <= h < 24 and 0 <= m < 60):
                raise ValueError
        except ValueError:
            raise InputError("ECOHUB_FORECAST_AT", self.at, "must be HH:MM (Beijing time)") from None
        if self.scheme not in SCHEMES:
            raise InputError("ECOHUB_FORECAST_SCHEME", self.scheme, "must be one of " + ", ".join(SCHEMES))

    @classmethod
    def from_env(cls, s=None) -> ForecastSchedule:
        """From the settings (``ECOHUB_FORECAST_AT``, ``_SCHEME``, ``_ENABLED``; :class:`ecohub.config.Settings`)."""
        from ecohub.config import settings

        s = s or settings()
        return cls(s.forecast_at, s.forecast_scheme, s.forecast_enabled, s.forecast_sites, s.forecast_stored_met)


def _last_day(store: Store) -> str | None:
    with store.engine.connect() as conn:
        info = conn.scalar(select(worker_state.c.info).where(worker_state.c.name == STATE))
    return (info or {}).get("day")


def due(now: datetime, last_day: str | None, at: str) -> bool:
    """True when the Beijing time of ``now`` is at or after ``at`` and no scheduled run was made that day."""
    bj = now.astimezone(BEIJING)
    h, m = (int(x) for x in at.split(":"))
    return (bj.hour, bj.minute) >= (h, m) and last_day != bj.date().isoformat()


def run_scheduled(store: Store, schedule: ForecastSchedule | None = None, *, now: datetime | None = None,
                  **run_kw) -> dict | None:
    """Issue and re-verify if due (else None). Returns a summary for the worker's log line."""
    s = schedule or ForecastSchedule.from_env()
    when = (now or datetime.now(UTC)).astimezone(UTC)
    if not s.enabled or not due(when, _last_day(store), s.at):
        return None
    t0 = time.perf_counter()
    run_kw = {"sites": s.sites, "use_stored_met": s.stored_met} | run_kw
    issues = service.run(store, now=when, scheme=s.scheme, created_by="worker", **run_kw)
    verified = service.verify(store, now=when)
    day = when.astimezone(BEIJING).date().isoformat()
    info = {"day": day, "issued": sum(1 for i in issues if i.get("issued")),
            "cities": sum(1 for i in issues if i.get("kind") == "city"),
            "stations": sum(1 for i in issues if i.get("kind") == "site"),
            "met_used": sum(1 for i in issues if i.get("met_used"))}
    with write_tx(store) as conn:
        if conn.execute(update(worker_state).where(worker_state.c.name == STATE).values(
                watermark=when, updated_at=when, info=info)).rowcount == 0:
            conn.execute(insert(worker_state).values(name=STATE, watermark=when, updated_at=when, info=info))
    out = info | {"verified": verified, "seconds": round(time.perf_counter() - t0, 2),
                  "not_issued": {i["target"]: i.get("reason") for i in issues if not i.get("issued")}}
    log.info("forecast run: %s", out)
    return out
