"""GB 3095 limits and validity, HJ 663 evaluation, GB 3838 classes, GB 3096 noise, emission, editions."""

from __future__ import annotations

import numpy as np
import pytest

from ecohub.standards import editions, emission, gb3095, gb3096, gb3838, hj663


# ---------------------------------------------------------------- editions
def test_edition_switch_instants():
    t = np.array(["2026-02-28T15:59:59", "2026-02-28T16:00:00", "2030-12-31T15:59", "2030-12-31T16:00"],
                 dtype="datetime64[s]")  # fmt: skip
    assert editions.hj633_edition(t).tolist() == [2012, 2026, 2026, 2026]
    assert editions.hj663_edition(t).tolist() == [2013, 2026, 2026, 2026]
    assert editions.gb3095_edition(t).tolist() == [2012, 2026, 2026, 2031]
    assert editions.beijing_hour(np.array(["2026-01-01T14:30"], dtype="datetime64[m]")).tolist() == [22]


def test_polars_times_with_timezone():
    import polars as pl

    s = pl.Series(["2026-03-01 00:00"]).str.to_datetime().dt.replace_time_zone("Asia/Shanghai")
    assert editions.hj633_edition(s).tolist() == [2026]
    s = pl.Series(["2026-02-28 23:59"]).str.to_datetime()
    s = s.dt.replace_time_zone("Asia/Shanghai")
    assert editions.hj633_edition(s).tolist() == [2012]


# ---------------------------------------------------------------- GB 3095
@pytest.mark.parametrize(
    ("pollutant", "avg", "zone", "edition", "want"),
    [("pm25", "24h", 2, 2012, 75), ("pm25", "24h", 2, 2026, 60), ("pm25", "24h", 2, 2031, 50),
     ("pm25", "annual", 2, 2012, 35), ("pm25", "annual", 2, 2026, 30), ("pm25", "annual", 1, 2031, 10),
     ("pm10", "24h", 2, 2026, 120), ("pm10", "annual", 2, 2031, 50), ("so2", "annual", 2, 2031, 20),
     ("so2", "1h", 2, 2012, 500), ("no2", "24h", 1, 2031, 50), ("o3", "8h", 1, 2012, 100), ("co", "24h", 2, 2026, 4),
     ("nox", "24h", 2, 2031, 70), ("bap", "24h", 2, 2012, 0.0025)],
)  # fmt: skip
def test_limits(pollutant, avg, zone, edition, want):
    assert gb3095.limit(pollutant, avg, zone, edition=edition) == want


def test_limit_by_time():
    t = np.array(["2025-06-01", "2027-06-01", "2031-06-01"], dtype="datetime64[D]")
    assert gb3095.limit("pm25", "24h", 2, times=t).tolist() == [75, 60, 50]
    ex, mult = gb3095.exceeds([76, 61, 51], "pm25", "24h", times=t)
    assert ex.tolist() == [True, True, True] and mult[0] == pytest.approx(1 / 75)


def test_moving_means_need_enough_valid_hours():
    x = np.arange(1.0, 49.0)  # 48 hours
    m24 = gb3095.rolling_24h_mean(x)
    assert np.isnan(m24[:19]).all() and m24[19] == pytest.approx(np.mean(x[:20])) and m24[23] == 12.5
    x[30:35] = np.nan  # window ending at index 40 holds 24 - 5 = 19 valid hours → invalid
    m24 = gb3095.rolling_24h_mean(x)
    assert np.isnan(m24[40]) and not np.isnan(m24[29])  # window ending at 29 has 24 valid hours
    assert np.isnan(m24[47])  # window 24…47 also loses hours 30…34: 19 valid
    x[30] = 1.0  # 20 valid hours in the window ending at 40 → valid again
    assert gb3095.rolling_24h_mean(x)[40] == pytest.approx(np.nanmean(x[17:41]))
    y = np.array([10, 20, np.nan, 40, 50, 60, np.nan, 80.0])
    assert gb3095.o3_8h_moving_mean(y)[-1] == pytest.approx(260 / 6)
    y[1] = np.nan
    assert np.isnan(gb3095.o3_8h_moving_mean(y)[-1])  # 5 valid hours


def test_daily_mean_20_hours():
    d = np.full((2, 24), 10.0)
    d[1, :5] = np.nan
    assert gb3095.daily_mean(d).tolist()[0] == 10.0 and np.isnan(gb3095.daily_mean(d)[1])
    d[1, 4] = 10.0  # 20 valid
    assert gb3095.daily_mean(d)[1] == 10.0


def test_daily_max_8h_o3_validity():
    day = np.concatenate([np.full(12, 50.0), np.full(12, 150.0)])
    mx, ok = gb3095.daily_max_8h_o3(day)
    assert ok[0] and mx[0] == 150.0
    # 6 windows only (hours 0–12 missing → windows ending 8…18 have < 6 valid hours … few valid windows)
    sparse = day.copy()
    sparse[:15] = np.nan
    mx, ok = gb3095.daily_max_8h_o3(sparse, limit_value=160.0)
    assert not ok[0] and np.isnan(mx[0])
    sparse[15:] = 200.0  # fewer windows but above the limit: still valid
    mx, ok = gb3095.daily_max_8h_o3(sparse, limit_value=160.0)
    assert ok[0] and mx[0] == 200.0
    mx, ok = gb3095.daily_max_8h_o3(sparse, limit_value=None)
    assert not ok[0]


def test_period_mean_and_month_rule():
    a = np.full(365, 30.0)
    a[:42] = np.nan  # 323 valid days
    m, n = gb3095.period_mean(a, gb3095.MIN_DAYS_YEAR)
    assert n == 323 and np.isnan(m)
    a[0] = 30.0
    assert gb3095.period_mean(a, gb3095.MIN_DAYS_YEAR)[0] == 30.0
    assert gb3095.min_days_for_month(2024, [1, 2]).tolist() == [27, 25]


# ---------------------------------------------------------------- HJ 663
def test_percentile_worked_example():
    assert hj663.percentile([3, 4, 8, 2, 5, 4], 90) == pytest.approx(6.5)
    # k integer: n = 11, p = 90 → k = 10 → X(10)
    assert hj663.percentile(np.arange(1.0, 12.0), 90) == 10.0
    rng = np.random.default_rng(1)
    x = rng.gamma(2, 30, size=(5, 365))
    x[0, :100] = np.nan
    ref = [np.percentile(r[~np.isnan(r)], 95) for r in x]
    assert np.allclose(hj663.percentile(x, 95), ref)
    assert np.isnan(hj663.percentile([np.nan, np.nan], 50))


def test_evaluate_annual():
    days = 365
    daily = {
        "so2": np.full(days, 10.0),
        "no2": np.full(days, 41.0),  # annual mean 41 > 40
        "pm25": np.r_[np.full(300, 30.0), np.full(65, 80.0)],  # mean 38.9 > 35; p95 80 > 75
        "co": np.full(days, 1.0),
        "o3_8h": np.r_[np.full(300, 100.0), np.full(65, 170.0)],  # p90 = 170 > 160
        "pm10": np.full(days, np.nan),
    }
    r = hj663.evaluate(daily, zone_class=2, edition=2012)
    assert r["so2_attains"] == 1 and r["no2_attains"] == 0 and r["pm25_attains"] == 0
    assert r["co_attains"] == 1 and r["o3_8h_attains"] == 0 and r["pm10_attains"] == -1
    assert r["pm25_p95"] == 80 and r["pm25_mean"] == 39 and r["no2_mean_multiple"] == pytest.approx(1 / 40)
    assert r["attains"] == 0
    r = hj663.evaluate({"pm25": np.full(days, 32.0)}, edition=2026)  # 2026 transition annual PM2.5 30
    assert r["pm25_attains"] == 0


def test_aqi_day_statistics():
    lv = np.array([[1, 2, 2, 3, 6, 0, 0]])
    s = hj663.aqi_day_statistics(lv)
    assert s["valid_days"].tolist() == [5] and s["good_days"].tolist() == [3]
    assert s["good_share"][0] == pytest.approx(0.6) and s["days_level_6"].tolist() == [1]


def test_comprehensive_index_and_rank():
    r = hj663.comprehensive_index(so2=[60, 12], no2=[40, 20], pm10=[70, 35], pm25=[35, 70], co_p95=[4, 2],
                                  o3_8h_p90=[160, 80])  # fmt: skip
    assert r["index"].tolist() == pytest.approx([6.0, 0.2 + 0.5 + 0.5 + 2 + 0.5 + 0.5])
    assert r["primary"].tolist() == ["SO2,NO2,PM10,PM2.5,CO,O3_8h", "PM2.5"]
    w = hj663.comprehensive_index(so2=[60], no2=[40], pm10=[70], pm25=[35], co_p95=[4], o3_8h_p90=[160],
                                  weights=hj663.WEIGHTS_PM25_NO2_O3)  # fmt: skip
    assert w["index"][0] == pytest.approx(10.0)
    assert hj663.rank([4.2, 3.1, 4.2, np.nan, 5.0]).tolist() == [2, 1, 2, 0, 4]
    assert hj663.rank([4.201, 4.204]).tolist() == [1, 1]
    assert hj663.city_daily(np.array([[10.0, np.nan], [20.0, np.nan]])).tolist()[0] == 15.0


# ---------------------------------------------------------------- GB 3838
LE_EDGES = [(k, v) for k, v in gb3838.LIMITS.items() if k not in ("tn",)]


@pytest.mark.parametrize(("item", "limits"), LE_EDGES)
def test_gb3838_every_limit_both_sides(item, limits):
    for lim in limits:
        best = min(i for i, x in enumerate(limits, start=1) if x == lim)  # equal limits: best class
        assert gb3838.item_class([lim], item)[0] == best
        above = lim * 1.001
        assert gb3838.item_class([above], item)[0] == next(
            (i for i, x in enumerate(limits, start=1) if x >= above), 6)  # fmt: skip


def test_gb3838_do_ph_tp_tn():
    assert gb3838.item_class([7.5, 7.49, 6, 5.99, 5, 3, 2, 1.99], "do").tolist() == [1, 2, 2, 3, 3, 4, 5, 6]
    assert gb3838.item_class([5.99, 6, 9, 9.01, np.nan], "ph").tolist() == [6, 1, 1, 6, 0]
    assert gb3838.item_class([0.05, 0.051], "tp", lake=True).tolist() == [3, 4]
    assert gb3838.item_class([0.05, 0.2, 0.21], "tp", lake=False).tolist() == [2, 3, 4]
    assert gb3838.item_class([1.0, 1.0], "tn", lake=np.array([True, False])).tolist() == [3, 0]
    assert gb3838.item_class([0.1 + 0.2 - 0.2], "tp")[0] == 2  # 0.10000000000000003 meets 0.1


def test_gb3838_section():
    r = gb3838.water_quality_class(
        {"do": [8, 8, 4], "nh3n": [0.1, 1.6, 0.1], "tp": [0.1, 0.05, 0.5], "tn": [5, 5, 5], "ph": [7, 7, 10]},
        lake=False,
    )
    assert r["label"].tolist() == ["II", "V", "劣V"]
    assert r["category_zh"].tolist() == ["优", "中度污染", "重度污染"]
    assert r["worst_items"].tolist() == ["tp", "nh3n", "ph,tp"]
    assert r["multiple_nh3n"][1] == pytest.approx(0.6) and r["multiple_tp"][2] == pytest.approx(1.5)
    assert np.isnan(r["multiple_do"]).all() and r["multiple_nh3n"][0] == 0
    assert r["class_tn"].tolist() == [0, 0, 0]  # rivers: TN not classified
    lake = gb3838.water_quality_class({"tp": [0.03], "tn": [1.2]}, lake=True)
    assert lake["label"].tolist() == ["III"]  # TN (IV) excluded by the national method
    assert (
        gb3838.water_quality_class({"tp": [0.03], "tn": [1.2]}, lake=True, include_tn=True)["label"][0]
        == "IV"
    )
    with pytest.raises(ValueError):
        gb3838.water_quality_class({"xx": [1]})


def test_gb3838_main_indicators_and_basin():
    m = {"nh3n": [1.0, 0.0], "tp": [1.5, 0.0], "cod": [0.2, 0.0], "do": [np.nan, np.nan]}
    assert gb3838.main_pollution_indicators(m, [6, 2]).tolist() == ["tp,nh3n,cod", ""]
    c = np.array(
        [[1, 2, 3, 3, 3, 2, 1, 2, 3, 2], [1, 1, 4, 4, 6, 6, 6, 6, 0, 0], [1, 1, 1, 2, 0, 0, 0, 0, 0, 0]]
    )
    assert gb3838.basin_status(c).tolist() == ["优", "重度污染", ""]
    t = gb3838.trophic_level_index(chla=[10], tp=[0.1], tn=[1.0], sd=[1.0], codmn=[4.0])
    assert 50 < t["tli"][0] < 60 and t["grade"][0] == "轻度富营养"


# ---------------------------------------------------------------- GB 3096
@pytest.mark.parametrize(("zone", "day", "night"), [("0", 50, 40), ("1", 55, 45), ("2", 60, 50), ("3", 65, 55),
                                                     ("4a", 70, 55), ("4b", 70, 60)])  # fmt: skip
def test_noise_limits(zone, day, night):
    r = gb3096.noise_assessment(
        [day, day + 0.1, night, night + 0.1], [zone] * 4, night=[False, False, True, True]
    )
    assert r["complies"].tolist() == [True, False, True, False]
    assert r["exceedance"][1] == pytest.approx(0.1)


def test_noise_day_night_from_times():
    t = np.array(["2026-01-01T13:59", "2026-01-01T14:00", "2026-01-01T21:59", "2026-01-01T22:00"],
                 dtype="datetime64[m]")  # Beijing 21:59, 22:00, 05:59, 06:00  # fmt: skip
    assert gb3096.is_night(t).tolist() == [False, True, True, False]
    r = gb3096.noise_assessment([52] * 4, ["1"] * 4, times=t, lmax=[80, 61, 60, 80])
    assert r["limit"].tolist() == [55, 45, 45, 55]
    assert r["lmax_complies"].tolist() == [True, False, True, True]
    with pytest.raises(ValueError):
        gb3096.noise_limit(["5"], [True])


# ---------------------------------------------------------------- emission
def test_reference_oxygen():
    # 100 mg/m³ at 12 % O2, reference 6 %: 100 × 15 / 9
    assert emission.reference_oxygen_concentration([100], [12], [6])[0] == pytest.approx(166.6667, rel=1e-5)
    assert np.isnan(emission.reference_oxygen_concentration([100], [21], 6)[0])
    assert emission.excess_air_coefficient([10.5])[0] == pytest.approx(2.0)
    assert emission.standard_state([100], [0], [101325])[0] == pytest.approx(100)
    assert emission.dry_basis([90], [0.1])[0] == pytest.approx(100)
    assert emission.ppm_to_mg_m3([22.4], 64)[0] == pytest.approx(64)
    assert emission.nox_as_no2([30], [10])[0] == pytest.approx(56)


def test_block_means_and_exceedance():
    minutes = np.full(120, 50.0)
    minutes[:16] = np.nan  # first hour: 44 valid minutes → invalid
    h = emission.block_mean(minutes, 60, emission.MIN_MINUTES_PER_HOUR)
    assert np.isnan(h[0]) and h[1] == 50
    r = emission.permit_exceedance([49, 50, 60, np.nan], 50)
    assert r["exceeds"].tolist() == [False, False, True, False] and r["multiple"][2] == pytest.approx(0.2)
