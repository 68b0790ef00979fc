"""The model: trains and forecasts on small data, deterministically; beats the baselines on the Tianjin fixture."""

import math
from pathlib import Path

import numpy as np
import pytest

from ecohub.forecast.backtest import backtest
from ecohub.forecast.history import from_records, read_daily_file
from ecohub.forecast.met import magnus_rh, read_met_file, wind_components
from ecohub.forecast.model import ModelSettings, fit, predict

FIX = Path(__file__).parent.parent / "fixtures" / "forecast"
FAST = ModelSettings(rounds=60, pollutant_rounds=30)


def _synthetic(n_days=800, seed=3, phi=0.7):
    rng = np.random.default_rng(seed)
    days = np.arange(np.datetime64("2019-01-01"), np.datetime64("2019-01-01") + n_days)
    season = 80 + 40 * np.cos(2 * np.pi * np.arange(n_days) / 365.25)
    x = np.zeros(n_days)
    for i in range(1, n_days):
        x[i] = phi * x[i - 1] + rng.normal(0, 0.3)
    aqi = np.ceil(season * np.exp(x))
    pm25 = aqi * 0.6
    vals = {"aqi": list(aqi), "pm25": list(pm25), "pm10": list(aqi), "so2": [8.0] * n_days,
            "no2": [30.0] * n_days, "co": [0.8] * n_days, "o3_8h": [80.0] * n_days}
    return from_records([str(d) for d in days], vals, "synthetic")


def test_small_data_trains_and_forecasts_three_days():
    h = _synthetic()
    last = len(h) - 1
    for horizon in (1, 2, 3):
        m = fit(h, last - horizon, horizon, settings=FAST)
        f = predict(m, h, np.array([last]))
        assert 1 <= f.aqi_low[0] <= f.aqi[0] <= f.aqi_high[0] <= 500
        assert f.level[0] in range(1, 7)
        assert f.aqi[0] == math.ceil(f.aqi[0])
        assert set(f.conc) == {"so2", "no2", "co", "o3_8h", "pm10", "pm25"}
        assert f.primary[0] in ("", "PM2.5", "PM10", "PM2.5,PM10", "NO2", "O3", "SO2", "CO")


def test_training_is_deterministic():
    h = _synthetic()
    a = predict(fit(h, 700, 1, settings=FAST), h, np.arange(700, 790))
    b = predict(fit(h, 700, 1, settings=FAST), h, np.arange(700, 790))
    assert np.array_equal(a.aqi, b.aqi) and np.array_equal(a.aqi_high, b.aqi_high)


def test_model_learns_the_persistence_of_a_synthetic_series():
    """On an AR(1) series the model's AQI error is well below climatology's and persistence's."""
    h = _synthetic(1100, phi=0.5)  # optimal error ≈ 0.87 of persistence's (AR(1): (1 − φ²) vs 2(1 − φ))
    r = backtest(h, h.days[800], refit_days=150, settings=ModelSettings(rounds=150, pollutants=False)).summary
    assert r["days"] >= 290
    assert r["aqi_mae"] < 0.95 * r["persistence"]["aqi_mae"]
    assert r["aqi_mae"] < 0.92 * r["climatology"]["aqi_mae"]  # optimal ≈ 0.87


def test_tianjin_history_only_beats_persistence_and_climatology():
    """Tianjin 2021-01 … 2022-05, D+1, AQI history alone (the issue's proof, faster refits).

    Robust margins: AQI error ≥ 8 % below persistence and ≥ 15 % below climatology, ±1 level no worse;
    exact level at least the better baseline's less one point (the measured margin is small, see
    docs/forecast.md — it is reported, not inflated)."""
    h = read_daily_file(FIX / "tianjin_daily_2014-01-01_2022-05-31.csv")
    r = backtest(h, np.datetime64("2021-01-01"), refit_days=90, settings=ModelSettings(pollutants=False)).summary
    assert r["days"] == 516
    assert 50 <= r["persistence_level_accuracy"] <= 58 and 49 <= r["climatology_level_accuracy"] <= 57
    assert r["aqi_mae"] < 0.92 * r["persistence"]["aqi_mae"]
    assert r["aqi_mae"] < 0.85 * r["climatology"]["aqi_mae"]
    assert r["within_one_level"] >= max(r["persistence"]["within_one_level"], r["climatology"]["within_one_level"])
    assert r["level_accuracy"] >= max(r["persistence_level_accuracy"], r["climatology_level_accuracy"]) - 1.0


def test_met_file_hourly_uci_layout():
    m = read_met_file(FIX / "beijing_met_hourly_dongsi.csv.gz")
    assert m.kind == "hourly" and m.span() == ("2013-03-01", "2017-02-28")
    v = m.on(np.array(["2013-03-01"], dtype="datetime64[D]"))
    assert -10 < v["temp"][0] < 15 and 1000 < v["pres"][0] < 1040 and 0 <= v["rh"][0] <= 100
    assert not math.isnan(v["u"][0])


def test_met_file_daily_with_bad_values(tmp_path):
    p = tmp_path / "met.csv"
    p.write_text("date,temp,rh,pres,wind_speed,wind_dir,blh\n2021-01-01,-2.5,40,1030,3,NW,500\n"
                 "2021-01-03,999,50,1020,2,180,300\nnot-a-date,1,1,1,1,1,1\n", encoding="utf-8")
    m = read_met_file(p)
    assert m.kind == "daily" and m.days.size == 3
    assert m.values["temp"][0] == -2.5 and math.isnan(m.values["temp"][2]) and math.isnan(m.values["temp"][1])
    text = "\n".join(str(x) for x in m.problems)
    assert "outside -60…60" in text and "without a valid time" in text


def test_met_file_without_met_columns_is_refused(tmp_path):
    from ecohub.domain.errors import InputError

    p = tmp_path / "x.csv"
    p.write_text("date,aqi\n2021-01-01,50\n", encoding="utf-8")
    with pytest.raises(InputError, match="no meteorological column"):
        read_met_file(p)


def test_magnus_and_wind_worked_values():
    # T = Td → 100 %; T 20 °C, Td 10 °C → 52.4 % (e_s(10) 12.27 hPa / e_s(20) 23.37 hPa)
    assert magnus_rh(np.array([15.0]), np.array([15.0]))[0] == pytest.approx(100.0)
    assert magnus_rh(np.array([20.0]), np.array([10.0]))[0] == pytest.approx(52.5, abs=0.2)
    u, v = wind_components(np.array([10.0, 10.0]), np.array([0.0, 270.0]))  # from north; from west
    assert u[0] == pytest.approx(0, abs=1e-9) and v[0] == pytest.approx(-10)
    assert u[1] == pytest.approx(10) and v[1] == pytest.approx(0, abs=1e-9)


def test_persistence_blend_moves_point_and_range_together():
    h = _synthetic()
    o = np.arange(700, 760)
    raw = predict(fit(h, 699, 1, settings=ModelSettings(rounds=60, pollutants=False, persistence_weight={})), h, o)
    bl = predict(fit(h, 699, 1, settings=ModelSettings(rounds=60, pollutants=False, persistence_weight={1: 0.5})),
                 h, o)
    last = h.aqi[o]
    lo_b, hi_b = np.minimum(raw.aqi, last) - 1, np.maximum(raw.aqi, last) + 1
    assert np.all((bl.aqi >= lo_b) & (bl.aqi <= hi_b))
    assert np.all(np.abs(bl.aqi - np.ceil((raw.aqi + last) / 2)) <= 1)  # halfway, up to the rounding
    inner = (raw.aqi_low > 5) & (raw.aqi_high < 495) & (bl.aqi_low > 5) & (bl.aqi_high < 495)
    width_raw, width_bl = (raw.aqi_high - raw.aqi_low)[inner], (bl.aqi_high - bl.aqi_low)[inner]
    assert np.all(np.abs(width_raw - width_bl) <= 2)  # the range moves, its width stays
    # with meteorology no weight is applied (validated for the history-only model only)
    from ecohub.forecast.met import DailyMet

    met = DailyMet(h.days, {"temp": np.zeros(len(h))})
    assert fit(h, 699, 1, met=met, settings=ModelSettings(rounds=5, pollutants=False)).persistence_weight == 0.0


def test_auto_weight_uses_only_days_before_the_test_period():
    from ecohub.forecast.backtest import choose_weight
    from ecohub.forecast.history import DailyHistory

    h = _synthetic(1000)
    test_from = h.days[900]
    a = choose_weight(h, test_from, refit_days=120, settings=FAST)
    scrambled = h.aqi.copy()
    scrambled[900:] = np.random.default_rng(0).permutation(scrambled[900:]) * 3
    h2 = DailyHistory(h.days, scrambled, h.conc, h.name)
    b = choose_weight(h2, test_from, refit_days=120, settings=FAST)
    assert a == b and a["weight"] in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
    assert a["validation_to"] == str(h.days[899]) and a["validation_days"] > 400
    assert set(a["level_accuracy_by_weight"]) == {"0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6"}
    r = backtest(h, test_from, refit_days=120, settings=FAST, persistence_weight="auto").summary
    assert r["persistence_weight"]["weight"] == a["weight"]
