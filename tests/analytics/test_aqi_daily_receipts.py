"""The maintained daily AQI when receipt times run ahead of the worker's clock (both backends): a writer on
another machine whose clock is ahead stamps a burst of batches seconds in the future (until a fix, the raw-data
batch chain itself moved each batch of a source a second on). The worker's pass covers them (its watermark moves to the newest receipt), readers then read the table
instead of recomputing every day, and the figures equal the from-scratch computation."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from unittest.mock import patch

import test_analytics_services as base
from sqlalchemy import func, select

from ecohub.analytics import aqi_daily, aqi_service, rankings
from ecohub.store import registry as R
from ecohub.store import writer as writer_module
from ecohub.store.queries import PUBLIC, SYSTEM, Scope
from ecohub.store.schema import observation
from ecohub.store.writer import ObservationWriter

DAY1, DAY2, T0 = base.DAY1, base.DAY2, base.T0
air = base.air  # the small province of the analytics tests (fixture, both backends)
SCOPES = (SYSTEM, PUBLIC, Scope("officer", region_code="130200"))


def figures(store) -> list:
    out = []
    for sc in SCOPES:
        out.append(aqi_service.daily(store, DAY1, DAY2, scope=sc, by="city"))
        out.append(aqi_service.daily(store, DAY1, DAY2, scope=sc))
        out.append(rankings.city_ranking(store, DAY1, DAY2, scope=sc))
    return out


def burst(store, batches: int = 8) -> None:
    """Back-filled PM2.5 hours for B1 on day 1, one batch each, from a writer whose clock runs ahead."""
    with store.engine.begin() as c:
        sid = R.SeriesResolver().get(c, R.site_index(c)["B1"][0], R.parameter_index(c)["pm25"], "hour")
    for k in range(batches):
        w = ObservationWriter(store, "import", f"late-{k}")
        w.add(sid, T0 + (3 + k % 5) * 3600, 400.0 + k)
        with patch.object(writer_module, "_now", lambda k=k: time.time() + 1 + k):
            w.flush()


def test_a_burst_stamped_ahead_of_the_clock_is_taken_by_the_pass(air, monkeypatch):
    aqi_daily.maintain(air)
    burst(air)
    with air.engine.connect() as c:
        newest = c.scalar(select(func.max(observation.c.received_at)))
    assert newest > datetime.now(UTC).replace(microsecond=0)  # the premise: receipts ahead of the clock
    assert aqi_daily.live_from(air) == DAY1  # not taken yet: computed
    expected = figures(air)
    res = aqi_daily.maintain(air)
    assert res["days"] >= 1 and aqi_daily.watermark(air) >= newest
    assert aqi_daily.live_from(air) in (date.max, DAY1)  # rows of the pass's own second count as unseen
    monkeypatch.setattr(aqi_daily, "live_from", lambda store: date.max)  # read every day from the table
    assert figures(air) == expected


def test_live_from_reads_only_what_arrived_since_the_pass(air):
    aqi_daily.maintain(air, now=datetime(2100, 1, 1, tzinfo=UTC))  # a watermark after every receipt
    assert aqi_daily.live_from(air) == date.max
    burst(air, 1)  # still before the watermark: already covered as far as the reader knows
    assert aqi_daily.live_from(air) == date.max
    aqi_daily.maintain(air, now=datetime(2000, 1, 1, tzinfo=UTC))  # watermark before every receipt
    assert aqi_daily.live_from(air) == DAY1  # the first Beijing day with air data
