"""Mann–Kendall / Sen's slope (plain and seasonal) against pymannkendall on real series, and the trend and
correlation services on stored data (both backends). Fixtures: tests/fixtures/reports/README.md."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pymannkendall as pmk
import pytest
from typer.testing import CliRunner

from ecohub.analytics import trends
from ecohub.analytics.mannkendall import mann_kendall, seasonal_mann_kendall
from ecohub.store import registry as R
from ecohub.store.queries import SYSTEM, Scope
from ecohub.store.writer import ObservationWriter

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "reports"


def _tianjin() -> tuple[list[date], dict[str, np.ndarray]]:
    rows = list(csv.DictReader((FIX / "tianjin_daily_pm25_o3_2014-2022.csv").open(encoding="utf-8")))
    days = [date.fromisoformat(r["date"]) for r in rows]
    out = {}
    for k in ("pm25", "o3_8h"):
        out[k] = np.array([np.nan if r["quality"] == "无" else float(r[k]) for r in rows])
    return days, out


def _monthly(days, vals) -> np.ndarray:
    return trends.monthly_from_daily(days, vals)[1]


def _same(ours, ref):
    assert ours.trend == ref.trend and ours.h == ref.h
    assert ours.s == pytest.approx(ref.s) and ours.var_s == pytest.approx(ref.var_s)
    assert ours.z == pytest.approx(ref.z) and ours.p == pytest.approx(ref.p, abs=1e-12)
    assert ours.tau == pytest.approx(ref.Tau) and ours.slope == pytest.approx(ref.slope)
    assert ours.intercept == pytest.approx(ref.intercept)


@pytest.mark.parametrize("pollutant", ["pm25", "o3_8h"])
def test_seasonal_kendall_matches_pymannkendall_on_tianjin_monthly(pollutant):
    days, vals = _tianjin()
    monthly = _monthly(days, vals[pollutant])
    assert monthly.size == 101 and np.sum(np.isnan(monthly)) < 5
    _same(seasonal_mann_kendall(monthly, 12), pmk.seasonal_test(monthly, period=12))


def test_tianjin_pm25_fell_significantly():
    # 天津's PM2.5 fell from ~83 µg/m³ (2014) to ~39 (2021): a significant decrease of several µg/m³ a year
    days, vals = _tianjin()
    res = seasonal_mann_kendall(_monthly(days, vals["pm25"]), 12)
    assert res.trend == "decreasing" and res.p < 1e-6 and -10 < res.slope < -3


@pytest.mark.parametrize("year", [2016, 2019, 2021])
def test_plain_mk_matches_pymannkendall_on_tianjin_daily(year):
    days, vals = _tianjin()
    sel = np.array([d.year == year for d in days])
    x = vals["pm25"][sel]
    _same(mann_kendall(x), pmk.original_test(x))


def test_mk_with_gaps_and_ties_matches_pymannkendall():
    rows = list(csv.DictReader((FIX / "uci_aotizhongxin_2016Q1_hourly.csv").open(encoding="utf-8")))
    x = np.array([np.nan if r["PM2.5"] == "NA" else float(r["PM2.5"]) for r in rows])[:1500]
    assert np.isnan(x).any()  # real gaps
    _same(mann_kendall(x), pmk.original_test(x))
    with pytest.raises(ValueError, match="at least 3"):
        mann_kendall([1.0, np.nan])


# --- services on stored data -------------------------------------------------------------------------------------
@pytest.fixture
def tianjin(store):
    """天津 daily PM2.5 stored as a daily series (2014-01 … 2016-12), and 90 days of UCI hourly data with
    meteorology at a second site."""
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("TJ", "air_station", "天津市", 117.2, 39.1, "120100"))
        R.upsert_site(c, R.SiteInput("AOTI", "air_station", "奥体中心", 116.4, 40.0, "110105"))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        sid = res.get(c, idx["TJ"][0], par["pm25"], "day")
        uci = {p: res.get(c, idx["AOTI"][0], par[p], "hour") for p in ("pm25", "temp", "humidity", "wind_speed")}
    days, vals = _tianjin()
    w = ObservationWriter(store, "import", "t")
    for d, v in zip(days, vals["pm25"], strict=True):
        if d.year <= 2016 and not np.isnan(v):
            t = datetime(d.year, d.month, d.day, tzinfo=UTC) - timedelta(hours=8)  # 00:00 Beijing
            w.add(sid, int(t.timestamp()), v)
    for r in csv.DictReader((FIX / "uci_aotizhongxin_2016Q1_hourly.csv").open(encoding="utf-8")):
        t = datetime(int(r["year"]), int(r["month"]), int(r["day"]), int(r["hour"]), tzinfo=UTC) - timedelta(hours=8)
        for p, col in (("pm25", "PM2.5"), ("temp", "TEMP"), ("wind_speed", "WSPM")):
            if r[col] != "NA":
                w.add(uci[p], int(t.timestamp()), float(r[col]))
    w.flush()
    return store


def test_site_trend_from_the_store_equals_the_reference(tianjin):
    res = trends.site_trend(tianjin, "TJ", "pm25", date(2014, 1, 1), date(2016, 12, 31), scope=SYSTEM)
    days, vals = _tianjin()
    sel = np.array([d.year <= 2016 for d in days])
    monthly = _monthly([d for d, s in zip(days, sel, strict=True) if s], vals["pm25"][sel])
    ref = pmk.seasonal_test(monthly, period=12)
    assert res["trend"] == ref.trend and res["slope"] == pytest.approx(ref.slope) and res["p"] == pytest.approx(ref.p)
    assert len(res["series"]) == 36 and res["slope_unit"] == "per year"


def test_site_trend_refuses_too_little_data_and_unseen_sites(tianjin):
    with pytest.raises(trends.NoData, match="needs at least 24"):
        trends.site_trend(tianjin, "TJ", "pm25", date(2016, 1, 1), date(2016, 12, 31), scope=SYSTEM)
    with pytest.raises(trends.NoData, match="not a site you may see"):
        trends.site_trend(tianjin, "NOPE", "pm25", date(2014, 1, 1), date(2016, 12, 31), scope=SYSTEM)
    officer = Scope("officer", region_code="130100")
    assert trends.site_trend(tianjin, "TJ", "pm25", date(2014, 1, 1), date(2016, 12, 31), scope=officer)  # open site


def test_daily_trend_from_hourly_and_correlation(tianjin):
    res = trends.site_trend(tianjin, "AOTI", "pm25", date(2016, 1, 1), date(2016, 3, 31), interval="day", scope=SYSTEM)
    assert res["valid"] >= 80 and res["slope_unit"] == "per day"
    start, end = datetime(2015, 12, 31, 16, tzinfo=UTC), datetime(2016, 3, 31, 16, tzinfo=UTC)
    cor = {r["with"]: r for r in trends.correlation(tianjin, "AOTI", "pm25", start, end, scope=SYSTEM)}
    # winter Beijing: PM2.5 falls with wind speed (the north wind clears it)
    assert cor["wind_speed"]["n"] > 2000 and cor["wind_speed"]["spearman_rho"] < -0.3
    assert cor["humidity"]["n"] == 0 and cor["humidity"]["pearson_r"] is None


def test_trend_command(tianjin, tmp_path, monkeypatch):
    from ecohub.cli.main import app

    url = tianjin.engine.url.render_as_string(hide_password=False)
    res = CliRunner().invoke(app, ["trend", "--site", "TJ", "--parameter", "pm25", "--from", "2014-01-01",
                                   "--to", "2016-12-31", "--json", "--database-url", url])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)
    assert obj["trend"] in ("increasing", "decreasing", "no trend") and obj["interval"] == "month"
    res = CliRunner().invoke(app, ["trend", "--site", "TJ", "--parameter", "pm25", "--from", "2016-01-01",
                                   "--to", "2016-06-30", "--database-url", url])
    assert res.exit_code == 1 and "needs at least 24" in res.output
