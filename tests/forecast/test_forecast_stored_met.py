"""Meteorology from the store in the operational run: met series imported like any other (air stations'
temp/humidity/pressure/wind), reduced to Beijing days; the model works without them and uses them when present
— observed weather (features of the origin day) or a forecast feed stored ahead (features of the target day)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from ecohub.forecast import service
from ecohub.forecast.features import design
from ecohub.forecast.history import read_daily_file
from ecohub.forecast.issue import make_issue
from ecohub.forecast.met import DailyMet
from ecohub.forecast.model import ModelSettings, train_clim
from ecohub.store import registry as R
from ecohub.store.writer import ObservationWriter

FIX = Path(__file__).parent.parent / "fixtures" / "forecast"
FAST = ModelSettings(rounds=30, pollutant_rounds=10, pollutants=False)
TIANJIN = "120100"


@pytest.fixture(scope="module")
def tianjin():
    return read_daily_file(FIX / "tianjin_daily_2014-01-01_2022-05-31.csv").since(np.datetime64("2017-06-01"))


def _store_met(store, first: date, days: int, *, code: str = "TJM1") -> None:
    """Hourly met at a station of Tianjin (120101): 15 °C + a daily cycle, 60 % RH, 101.2 kPa, 2 m/s from 270°."""
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput(code, "air_station", "气象1", 117.2, 39.1, "120101"))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        ids = {p: res.get(c, idx[code][0], par[p], "hour")
               for p in ("temp", "humidity", "pressure", "wind_speed", "wind_dir")}
    w = ObservationWriter(store, "import", "met-feed")
    t0 = int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp()) - 8 * 3600  # 00:00 Beijing
    for hh in range(days * 24):
        t = t0 + 3600 * hh
        w.add(ids["temp"], t, 15.0 + 5.0 * np.sin(2 * np.pi * (hh % 24) / 24) + (hh // 24) * 0.1)
        w.add(ids["humidity"], t, 60.0)
        w.add(ids["pressure"], t, 101.2)
        w.add(ids["wind_speed"], t, 2.0)
        w.add(ids["wind_dir"], t, 270.0)
    w.flush()


def test_stored_met_is_reduced_to_days_with_units(store):
    _store_met(store, date(2019, 6, 1), 3)
    m = service.stored_met(store, TIANJIN, date(2019, 6, 3), days=5)
    assert m is not None and m.kind == "hourly" and m.source == "stored:120100"
    v = m.on(np.array(["2019-06-01", "2019-06-02", "2019-06-03", "2019-06-04"], dtype="datetime64[D]"))
    # daily mean of 15 + 5 sin(·) over 24 h = 15 (+0.1 per day); kPa → hPa; wind from the west → u = +2, v ≈ 0
    np.testing.assert_allclose(v["temp"][:3], [15.0, 15.1, 15.2], atol=1e-9)
    np.testing.assert_allclose(v["pres"][:3], 1012.0)
    np.testing.assert_allclose(v["rh"][:3], 60.0)
    np.testing.assert_allclose(v["u"][:3], 2.0, atol=1e-9)
    np.testing.assert_allclose(v["v"][:3], 0.0, atol=1e-9)
    assert np.isnan(v["temp"][3])  # nothing stored that day
    assert service.stored_met(store, "130100", date(2019, 6, 3), days=5) is None  # another city: none


def test_origin_features_when_only_observed_weather(tianjin):
    h = tianjin.until(np.datetime64("2019-06-30"))
    days = np.arange(np.datetime64("2019-01-01"), np.datetime64("2019-07-01"))
    met = DailyMet(days, {"temp": np.linspace(0, 30, days.size), "pres": np.full(days.size, 1010.0)})
    clim = train_clim(h, len(h) - 1)
    o = np.array([len(h) - 1])
    X_t, n_t = design(h, o, 1, clim, met)
    X_o, n_o = design(h, o, 1, clim, DailyMet(days, met.values, use="origin"))
    assert "met_temp" in n_t and "met_obs_temp" in n_o and "met_temp" not in n_o
    assert np.isnan(X_t[0, n_t.index("met_temp")])  # the target day 07-01 is not in the data
    assert X_o[0, n_o.index("met_obs_temp")] == pytest.approx(30.0)  # the origin day 06-30


def test_run_with_and_without_stored_met(store, tianjin):
    h = tianjin.until(np.datetime64("2019-06-30"))
    now = datetime(2019, 6, 30, 8, tzinfo=UTC)  # 16:00 Beijing
    without = service.run(store, city=TIANJIN, daily=h, now=now, settings=FAST)[0]
    assert without["issued"] and not without["met_used"] and without["met_mode"] is None
    _store_met(store, date(2019, 5, 1), 61)  # observed weather up to 06-30 (the issue day)
    observed = service.run(store, city=TIANJIN, daily=h, now=now.replace(hour=9), settings=FAST)[0]
    assert observed["issued"] and observed["met_used"] and observed["met_mode"] == "origin"
    off = service.run(store, city=TIANJIN, daily=h, now=now.replace(hour=10), settings=FAST,
                      use_stored_met=False)[0]
    assert not off["met_used"] and [d["aqi"] for d in off["days"]] == [d["aqi"] for d in without["days"]]
    # a met bureau forecast imported ahead (07-01 … 07-03): the target days' weather is used
    _store_met(store, date(2019, 7, 1), 3, code="TJM2")
    fc = service.run(store, city=TIANJIN, daily=h, now=now.replace(hour=11), settings=FAST)[0]
    assert fc["issued"] and fc["met_mode"] == "target"
    issue = service.list_issues(store, TIANJIN, limit=1)[0]
    assert issue["met_used"] and issue["details"]["met_source"] == "stored:120100"


def test_make_issue_without_met_on_the_origin_day_ignores_it(tianjin):
    h = tianjin.until(np.datetime64("2019-06-30"))
    days = np.arange(np.datetime64("2018-01-01"), np.datetime64("2018-03-01"))  # old weather only
    r = make_issue(h, np.datetime64("2019-06-30"), met=DailyMet(days, {"temp": np.zeros(days.size)}),
                   settings=FAST)
    assert r.ok and not r.met_used and r.inputs["met_mode"] is None
