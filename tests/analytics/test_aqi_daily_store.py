"""The maintained daily AQI table (both backends): the worker's incremental step stores exactly what is
computed from the hourly observations, readers use it for the days it covers (and compute the days with newer
arrivals), late data are taken by the next pass, scopes still decide which stations a city mean includes."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest
import test_analytics_services as base
from sqlalchemy import select

from ecohub.alerts.worker import WorkerSettings, run_once
from ecohub.analytics import aqi_daily, aqi_service, rankings
from ecohub.store import registry as R
from ecohub.store.queries import PUBLIC, SYSTEM, Scope
from ecohub.store.schema_analytics import aqi_daily as table
from ecohub.store.writer import ObservationWriter

DAY1, DAY2, T0 = base.DAY1, base.DAY2, base.T0
air = base.air  # the same small province (fixture)
SCOPES = (SYSTEM, PUBLIC, Scope("officer", region_code="130200"))


def settled(store):
    """Wait past the second of the fixture's writes: the table covers rows received before its pass's second
    (SQLite keeps whole seconds; a row of the same second counts as possibly unseen and is computed)."""
    time.sleep(1.05)
    return store


def figures(store) -> list:
    out = []
    for sc in SCOPES:
        out.append(aqi_service.daily(store, DAY1, DAY2, scope=sc))
        out.append(aqi_service.daily(store, DAY1, DAY2, scope=sc, by="city"))
        out.append(rankings.city_ranking(store, DAY1, DAY2, scope=sc))
    return out


def _no_computing(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("computed from observations although the table covers these days")

    monkeypatch.setattr(aqi_service, "computed_site_values", boom)


def stored(store, kind: str, code: str, day: date) -> dict | None:
    with store.engine.connect() as c:
        r = c.execute(select(table).where(table.c.kind == kind, table.c.code == code, table.c.day == day)).first()
    return None if r is None else dict(r._mapping)


def test_the_table_holds_what_computing_gives(air, monkeypatch):
    before = figures(air)  # never built: every day computed
    assert aqi_daily.live_from(air) == date.min
    res = aqi_daily.maintain(settled(air), now=datetime.now(UTC))
    assert res["days"] == 2  # 2026-01-11 and -12 (Beijing days of the 48 hours)
    assert aqi_daily.live_from(air) == date.max
    _no_computing(monkeypatch)
    assert figures(air) == before  # the same numbers for every scope, now read from the table
    city = {r["city"]: r for r in aqi_service.daily(air, DAY1, DAY1, scope=SYSTEM, by="city")}
    row = stored(air, "city", "130200", DAY1)
    assert row["aqi"] == city["130200"]["aqi"] and row["level"] == city["130200"]["level"]
    site_row = stored(air, "site", "A1", DAY1)
    assert site_row["pm25"] is not None and site_row["o3_8h"] is not None
    assert stored(air, "site", "B1", DAY1)["pm25"] is None  # 19 valid hours: not a valid daily mean
    assert stored(air, "site", "W1", DAY1) is None  # water sections have no AQI


def test_late_data_are_computed_until_the_next_pass_takes_them(air, monkeypatch):
    aqi_daily.maintain(settled(air))
    b1_day2 = stored(air, "site", "B1", DAY2)["pm25"]
    # a back-filled hour for B1 on day 1 (5 PM2.5 hours were missing: 19 valid → 20, the day becomes valid)
    assert stored(air, "site", "B1", DAY1)["pm25"] is None
    with air.engine.begin() as c:
        sid = R.SeriesResolver().get(c, R.site_index(c)["B1"][0], R.parameter_index(c)["pm25"], "hour")
    w = ObservationWriter(air, "import", "late")
    w.add(sid, T0 + 3 * 3600, 500.0)
    w.flush()
    assert aqi_daily.live_from(air) == DAY1
    fresh = aqi_service.daily(air, DAY1, DAY2, scope=SYSTEM, sites=["B1"])
    assert fresh == aqi_service.daily_rows(air, aqi_service.site_daily_values(
        air, DAY1, DAY2, scope=SYSTEM, sites=["B1"], maintained=False))
    assert fresh[0]["concentrations"]["pm25"] is not None  # the late hour counts at once
    res = aqi_daily.maintain(settled(air), overlap=0)  # only what arrived since the last pass
    assert res["days"] == 1 and aqi_daily.live_from(air) == date.max
    assert stored(air, "site", "B1", DAY1)["pm25"] is not None
    assert stored(air, "site", "B1", DAY2)["pm25"] == b1_day2  # only the touched day was recomputed
    _no_computing(monkeypatch)
    assert aqi_service.daily(air, DAY1, DAY2, scope=SYSTEM, sites=["B1"]) == fresh


def test_the_worker_keeps_the_table(air):
    res = run_once(air, WorkerSettings(deliver=False))
    assert res["aqi_daily"]["days"] == 2 and res["aqi_daily"]["rows"] > 0
    assert aqi_daily.watermark(air) is not None
    again = run_once(air, WorkerSettings(deliver=False))
    assert again["aqi_daily"]["days"] == 2  # the 300 s overlap re-takes these rows (the overlap window re-takes the same rows: harmless, same values
    with pytest.raises(AssertionError):
        assert run_once(air, WorkerSettings(deliver=False, aqi_daily=False)).get("aqi_daily")
