"""The maintained hourly AQI table (``ecohub.analytics.aqi_hourly``; both backends): the worker's incremental step
stores exactly what is computed from the hourly concentrations, the one map's time slider reads it for the hours
it covers and computes the hours with newer arrivals, late data are taken by the next pass, scopes decide which
stations are read, and the worker's pass keeps the table — also while data are being written."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import test_analytics_services as base
from sqlalchemy import func, select

from ecohub.alerts.worker import WorkerSettings, run_once
from ecohub.analytics import aqi_hourly
from ecohub.standards import aqi_cn
from ecohub.store import registry as R
from ecohub.store.queries import PUBLIC, SYSTEM, Scope
from ecohub.store.schema_analytics import aqi_hourly as table
from ecohub.store.writer import ObservationWriter
from ecohub.web import services as S

T0 = base.T0
air = base.air  # stations A1, A2 (130100), B1 and the closed BX (130200); 48 hours; B1 misses 5 PM2.5 hours
START = datetime.fromtimestamp(T0, UTC)
SCOPES = (SYSTEM, PUBLIC, Scope("officer", region_code="130200"))
WINDOWS = ((START, 48), (START - timedelta(hours=5), 24), (START + timedelta(hours=40), 24), (START, 1))


def settled(store):
    """Past the second of the last write: a row of the pass's own second counts as possibly unseen."""
    time.sleep(1.05)
    return store


def _plain(a: np.ndarray) -> list:
    return [[None if np.isnan(v) else v for v in row] for row in a.tolist()]


def answers(store, maintained: bool = True) -> list:
    out = []
    for sc in SCOPES:
        for start, hours in WINDOWS:
            codes, a, lv = aqi_hourly.hour_aqi(store, sc, start, hours, maintained=maintained)
            out.append((codes, _plain(a), _plain(lv)))
        if maintained:
            out.append(S.replay(store, sc, 24))
    return out


def _no_computing(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("computed from observations although the table covers these hours")

    monkeypatch.setattr(aqi_hourly, "_computed", boom)


def test_the_table_holds_what_computing_gives(air, monkeypatch):
    before = answers(air)  # never built: every hour computed
    assert aqi_hourly.live_from(air) == datetime.min.replace(tzinfo=UTC)
    res = aqi_hourly.maintain(settled(air), now=datetime.now(UTC))
    assert res["hours"] == 48 and res["rows"] == 4 * 48  # four stations, every hour has values
    assert aqi_hourly.live_from(air) == datetime.max.replace(tzinfo=UTC)
    _no_computing(monkeypatch)
    assert answers(air) == before  # the same numbers for every scope and window, now read from the table
    # one stored hour against the standard itself
    t = START + timedelta(hours=7)
    with air.engine.connect() as c:
        row = c.execute(select(table).where(table.c.code == "B1", table.c.time == t)).one()
    conc = {p: np.array([base._value("B1", p, 7)]) for p in base.POLL if p != "pm25"}  # PM2.5 missing at h 7
    ref = aqi_cn.aqi_hourly(times=np.array([np.datetime64(int(t.timestamp()), "s")]), pm25=np.array([np.nan]), **conc)
    assert row.aqi == int(ref.aqi[0]) and row.level == int(ref.level[0])
    assert row.primary_pollutant == (str(ref.primary_pollutant[0]) or None)
    assert "BX" not in aqi_hourly.hour_aqi(air, PUBLIC, START, 48)[0]  # closed to the public
    assert aqi_hourly.hour_aqi(air, Scope("officer", region_code="130200"), START, 48)[0] == ["A1", "A2", "B1", "BX"]


def test_late_data_are_computed_until_the_next_pass_takes_them(air, monkeypatch):
    aqi_hourly.maintain(settled(air))
    with air.engine.connect() as c:
        untouched = c.execute(select(table).where(table.c.code == "A1", table.c.time == START)).one()
    with air.engine.begin() as c:
        sid = R.SeriesResolver().get(c, R.site_index(c)["B1"][0], R.parameter_index(c)["co"], "hour")
    late = START + timedelta(hours=30)
    w = ObservationWriter(air, "zz-late", "late")  # a newer source for an hour already stored: it wins
    w.add(sid, int(late.timestamp()), 120.0)  # CO 1-h 120 mg/m³: IAQI 400
    w.flush()
    assert aqi_hourly.live_from(air) == late
    codes, a, _ = aqi_hourly.hour_aqi(air, SYSTEM, START, 48)
    assert a[codes.index("B1"), 30] >= 400  # the late value counts at once (computed)
    fresh = answers(air)
    assert [x for x in fresh if isinstance(x, tuple)] == answers(air, maintained=False)
    res = aqi_hourly.maintain(settled(air), overlap=0)  # only what arrived since the last pass
    assert res["hours"] == 1 and aqi_hourly.live_from(air) == datetime.max.replace(tzinfo=UTC)
    with air.engine.connect() as c:
        assert c.execute(select(table.c.aqi).where(table.c.code == "B1", table.c.time == late)).scalar() >= 400
        again = c.execute(select(table).where(table.c.code == "A1", table.c.time == START)).one()
    assert again.computed_at == untouched.computed_at  # only the touched hour was recomputed
    _no_computing(monkeypatch)
    assert answers(air) == fresh


def test_maintained_and_computed_agree_everywhere(air):
    aqi_hourly.maintain(settled(air))
    for sc in SCOPES:
        for start, hours in WINDOWS:
            got = aqi_hourly.hour_aqi(air, sc, start, hours)
            want = aqi_hourly.hour_aqi(air, sc, start, hours, maintained=False)
            assert got[0] == want[0]
            assert np.array_equal(got[1], want[1], equal_nan=True) and np.array_equal(got[2], want[2], equal_nan=True)


def test_the_worker_keeps_the_table(air):
    res = run_once(air, WorkerSettings(deliver=False))
    assert res["aqi_hourly"]["hours"] == 48 and res["aqi_hourly"]["rows"] == 4 * 48
    assert "aqi_hourly" not in run_once(air, WorkerSettings(deliver=False, aqi_hourly=False))


def test_passes_under_concurrent_ingest(air):
    """Passes while another thread writes new hours: every pass commits (the write lock taken up front on
    SQLite), and after a last pass the table equals the computed values."""
    with air.engine.begin() as c:
        idx, par = R.site_index(c), R.parameter_index(c)
        sids = [R.SeriesResolver().get(c, idx[s][0], par[p], "hour") for s in ("A1", "B1") for p in base.POLL]
    stop, errors = threading.Event(), []

    def ingest():
        w = ObservationWriter(air, "gateway", "concurrent")
        h = 48
        try:
            while not stop.is_set() and h < 48 + 60:
                for sid in sids:
                    w.add(sid, T0 + 3600 * h, 20.0 + h % 7)
                w.flush()
                h += 1
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    t = threading.Thread(target=ingest)
    t.start()
    try:
        passes = [aqi_hourly.maintain(air) for _ in range(5)]
    finally:
        stop.set()
        t.join(30)
    assert not errors and all(p["rows"] >= 0 for p in passes)
    aqi_hourly.maintain(settled(air), overlap=0)
    assert aqi_hourly.live_from(air) == datetime.max.replace(tzinfo=UTC)
    with air.engine.connect() as c:
        newest = c.scalar(select(func.max(table.c.time)))
    hours = int((newest - START).total_seconds()) // 3600 + 1
    got = aqi_hourly.hour_aqi(air, SYSTEM, START, hours)
    want = aqi_hourly.hour_aqi(air, SYSTEM, START, hours, maintained=False)
    assert got[0] == want[0] and np.array_equal(got[1], want[1], equal_nan=True)


@pytest.mark.parametrize("hours", [24, 72])
def test_replay_reads_the_table(air, monkeypatch, hours):
    before = S.replay(air, SYSTEM, hours)
    aqi_hourly.maintain(settled(air))
    _no_computing(monkeypatch)
    assert S.replay(air, SYSTEM, hours) == before
