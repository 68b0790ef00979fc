"""The worker's daily forecast run: due at the configured Beijing time once a day; issues, verifies, applies
the warnings in the same pass."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ecohub.domain.errors import InputError
from ecohub.forecast import service
from ecohub.forecast.schedule import ForecastSchedule, due, run_scheduled
from ecohub.store import registry as R
from ecohub.store.writer import ObservationWriter


def test_due_boundaries():
    at = "16:00"
    assert not due(datetime(2026, 12, 4, 7, 59, tzinfo=UTC), None, at)  # 15:59 Beijing
    assert due(datetime(2026, 12, 4, 8, 0, tzinfo=UTC), None, at)  # 16:00 Beijing
    assert not due(datetime(2026, 12, 4, 8, 0, tzinfo=UTC), "2026-12-04", at)  # already run today
    assert not due(datetime(2026, 12, 4, 15, 59, tzinfo=UTC), "2026-12-04", at)  # 23:59 Beijing, same day


def test_due_after_midnight_beijing():
    assert not due(datetime(2026, 12, 4, 16, 30, tzinfo=UTC), "2026-12-04", "16:00")  # 00:30 on 12-05, before 16:00
    assert due(datetime(2026, 12, 5, 8, 30, tzinfo=UTC), "2026-12-04", "16:00")


def test_settings_are_checked():
    with pytest.raises(InputError, match="HH:MM"):
        ForecastSchedule(at="25:00")
    with pytest.raises(InputError, match="ECOHUB_FORECAST_SCHEME"):
        ForecastSchedule(scheme="2019")


def test_run_scheduled_once_a_day(store):
    t0 = int(datetime(2026, 1, 1, 16, tzinfo=UTC).timestamp())
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("S1", "air_station", "排1", 114.5, 38.0, "130102"))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        ids = {p: res.get(c, idx["S1"][0], par[p], "hour") for p in ("pm25", "pm10", "so2", "no2", "co", "o3")}
    w = ObservationWriter(store, "import", "t")
    for hh in range(5 * 24):
        for p, sid in ids.items():
            w.add(sid, t0 + 3600 * hh, {"pm25": 180, "pm10": 200, "so2": 10, "no2": 40, "co": 1.0, "o3": 30}[p])
    w.flush()
    s = ForecastSchedule()
    assert run_scheduled(store, s, now=datetime(2026, 1, 6, 7, tzinfo=UTC)) is None  # 15:00 Beijing
    out = run_scheduled(store, s, now=datetime(2026, 1, 6, 8, 5, tzinfo=UTC))
    assert out is not None and out["issued"] == 1 and out["day"] == "2026-01-06"
    assert run_scheduled(store, s, now=datetime(2026, 1, 6, 9, tzinfo=UTC)) is None  # once a day
    issues = service.list_issues(store, "130100")
    assert len(issues) == 1 and issues[0]["created_by"] == "worker"
    # PM2.5 180 µg/m³ → AQI 230 (> 200) persisted for D+1 … D+3 → 2018 scheme: yellow (> 200 for ≥ 2 days)
    assert issues[0]["warning"]["level"] == 2
    off = ForecastSchedule(enabled=False)
    assert run_scheduled(store, off, now=datetime(2026, 1, 7, 9, tzinfo=UTC)) is None


def test_run_scheduled_with_station_issues(store, monkeypatch):
    """ECOHUB_FORECAST_SITES=1: the daily run issues per city and per air station; the warning stays per city."""
    t0 = int(datetime(2026, 1, 1, 16, tzinfo=UTC).timestamp())
    with store.engine.begin() as c:
        for code, reg in (("S1", "130102"), ("S2", "130104")):
            R.upsert_site(c, R.SiteInput(code, "air_station", code, 114.5, 38.0, reg))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        ids = {(s, p): res.get(c, idx[s][0], par[p], "hour") for s in ("S1", "S2")
               for p in ("pm25", "pm10", "so2", "no2", "co", "o3")}
    w = ObservationWriter(store, "import", "t")
    for hh in range(5 * 24):
        for (s, p), sid in ids.items():
            v = {"pm25": 60, "pm10": 80, "so2": 10, "no2": 40, "co": 1.0, "o3": 30}[p]
            w.add(sid, t0 + 3600 * hh, v * (2 if s == "S2" else 1))
    w.flush()
    monkeypatch.setenv("ECOHUB_FORECAST_SITES", "1")
    s = ForecastSchedule.from_env()
    assert s.sites and s.stored_met
    out = run_scheduled(store, s, now=datetime(2026, 1, 6, 8, 5, tzinfo=UTC))
    assert out is not None and out["cities"] == 1 and out["stations"] == 2 and out["issued"] == 3
    st = {i["target_code"]: i for i in service.latest(store, kind="site")}
    assert sorted(st) == ["S1", "S2"] and st["S2"]["days"][0]["aqi"] > st["S1"]["days"][0]["aqi"]
    assert [i["target_code"] for i in service.latest(store)] == ["130100"]
