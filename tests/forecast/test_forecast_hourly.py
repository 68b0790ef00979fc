"""Hourly values for 72 h (D+1 … D+3): the daily forecast spread over the target's diurnal profile — each
day's mean (O3: max 8-h) equals the daily forecast; stored with the issue; served by the API; none without
hourly history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient

from ecohub.api.app import create_app
from ecohub.api.identity import AuthConfig
from ecohub.forecast import service
from ecohub.forecast.hourly import (
    HOURLY_OF_DAILY,
    MIN_PROFILE_DAYS,
    HourlyHistory,
    _reference,
    diurnal_profile,
    hourly_forecast,
)
from ecohub.store import registry as R
from ecohub.store.writer import ObservationWriter

SHAPE = np.concatenate([np.full(12, 1.0), np.full(12, 3.0)])  # night low, afternoon/evening high
DAYS = [{"day": f"2026-01-{21 + k}", "lead": k + 1, "so2": 10.0, "no2": 40.0 + k, "co": 1.0, "o3_8h": 100.0,
         "pm10": 80.0, "pm25": 50.0 * (k + 1)} for k in range(3)]


def _hist(n_days: int) -> HourlyHistory:
    return HourlyHistory(np.datetime64("2026-01-01"), {p: np.tile(SHAPE, (n_days, 1)) for p in HOURLY_OF_DAILY})


def test_profile_and_daily_consistency():
    prof = diurnal_profile(_hist(20), "pm25")
    np.testing.assert_allclose(prof, SHAPE / 2.0)  # ratio to the day's mean 2
    rows = hourly_forecast(_hist(20), DAYS)
    assert len(rows) == 72 and [r["lead_hour"] for r in rows] == list(range(1, 73))
    assert rows[0]["time"].astimezone(UTC) == datetime(2026, 1, 20, 16, tzinfo=UTC)  # 00:00 Beijing of D+1
    for k, d in enumerate(DAYS):
        day = rows[24 * k: 24 * (k + 1)]
        assert np.mean([r["pm25"] for r in day]) == pytest.approx(d["pm25"], abs=1e-3)
        assert np.mean([r["no2"] for r in day]) == pytest.approx(d["no2"], abs=1e-3)
        o3 = np.array([[r["o3"] for r in day]])
        assert _reference(o3, "o3")[0] == pytest.approx(d["o3_8h"], abs=1e-3)  # max 8-h = daily O3_8h
    # PM2.5 150 µg/m³ at the evening hours of D+3 (3 × 50 × 1.5 = 225): hourly AQI by HJ 633, primary PM2.5
    assert rows[-1]["pm25"] == pytest.approx(225.0, abs=1e-3) and rows[-1]["primary_pollutant"] == "PM2.5"
    assert rows[-1]["level"] == 5 and 200 < rows[-1]["aqi"] <= 300


def test_too_little_hourly_history_gives_no_hours():
    assert diurnal_profile(_hist(MIN_PROFILE_DAYS - 1), "pm25") is None
    assert hourly_forecast(_hist(MIN_PROFILE_DAYS - 1), DAYS) == []
    h = _hist(20)
    h.values["o3"][:] = np.nan  # one pollutant without history: its hours are missing, the others are there
    rows = hourly_forecast(h, DAYS)
    assert rows[0]["o3"] is None and rows[0]["pm25"] is not None


def test_run_stores_hours_and_api_serves_them(store, tmp_path):
    t0 = int(datetime(2026, 1, 1, 16, tzinfo=UTC).timestamp())  # 2026-01-02 00:00 Beijing
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("H1", "air_station", "时1", 114.5, 38.0, "130102"))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        ids = {p: res.get(c, idx["H1"][0], par[p], "hour") for p in ("pm25", "pm10", "so2", "no2", "co", "o3")}
    w = ObservationWriter(store, "import", "t")
    base = {"pm25": 60, "pm10": 100, "so2": 10, "no2": 40, "co": 1.0, "o3": 50}
    for hh in range(12 * 24):
        for p, sid in ids.items():
            w.add(sid, t0 + 3600 * hh, base[p] * SHAPE[hh % 24])
    w.flush()
    now = datetime(2026, 1, 13, 8, tzinfo=UTC)  # 16:00 Beijing on 01-13
    out = service.run(store, now=now)
    assert out[0]["issued"] and out[0]["hours"] == 72
    app = TestClient(create_app(store, auth=AuthConfig(secret="s" * 48), data_dir=tmp_path))
    r = app.get("/api/v1/forecasts/hourly?city=130100")
    assert r.status_code == 200
    body = r.json()
    assert body["issue"]["id"] == out[0]["id"] and len(body["hours"]) == 72
    d1 = [h for h in body["hours"] if h["lead_hour"] <= 24]
    assert d1[0]["time"] == "2026-01-14T00:00:00+08:00"  # 00:00 Beijing of D+1
    daily = out[0]["days"][0]
    assert np.mean([h["pm25"] for h in d1]) == pytest.approx(daily["pm25"], rel=1e-4)
    assert d1[0]["pm25"] < d1[-1]["pm25"]  # the stored diurnal shape
    assert app.get("/api/v1/forecasts/hourly").status_code == 400
    empty = app.get("/api/v1/forecasts/hourly?city=120100").json()
    assert empty["issue"] is None and empty["hours"] == []
    # an issue from a daily file with no hourly history stored: no hours
    assert service.stored_hourly(store, "120100", (now - timedelta(days=1)).date()) is None
