"""Verification scores recomputed by hand on a tiny case."""

import math

import numpy as np

from ecohub.forecast.baselines import climatology, persistence
from ecohub.forecast.scores import scores


def test_scores_by_hand():
    obs = [40, 80, 120, 160, 90, math.nan]
    fc = [55, 70, 90, 140, 130, 100]
    # levels obs: I II III IV II (—); fc: II II II III III
    # exact: day 2 only → 1/5 = 20 %; within one: all five → 100 %
    # MAE over 5 days: |15|+|10|+|30|+|20|+|40| = 115 / 5 = 23
    # polluted (> 100): obs T F… → obs [F F T T F], fc [F F F T T]: hits 1, false alarm 1, miss 1
    # POD 1/2 = 50, FAR 1/2 = 50, CSI 1/3 = 33.33
    # range [fc-20, fc+20]: obs in range on days 1, 2, 4 (160 in 120…160) → 3/5 = 60 %
    lo = np.array(fc) - 20
    hi = np.array(fc) + 20
    s = scores(fc, obs, low=lo, high=hi)
    assert s["days"] == 5
    assert s["level_accuracy"] == 20.0
    assert s["within_one_level"] == 100.0
    assert s["aqi_mae"] == 23.0
    assert s["range_hit_rate"] == 60.0
    assert (s["pod_polluted"], s["far_polluted"], s["csi_polluted"]) == (50.0, 50.0, 33.33)
    assert s["contingency"] == {"hits": 1, "false_alarms": 1, "misses": 1, "correct_negatives": 2}


def test_no_polluted_day_gives_none_not_zero():
    s = scores([40, 60], [45, 70])
    assert s["pod_polluted"] is None and s["far_polluted"] is None and s["csi_polluted"] is None
    assert s["level_accuracy"] == 100.0


def test_nothing_to_score():
    s = scores([math.nan], [50])
    assert s["days"] == 0 and s["level_accuracy"] is None


def test_primary_pollutant_accuracy_counts_shared_names():
    s = scores([120, 130, 140], [110, 140, 150], fc_primary=["PM2.5", "O3", "PM10"],
               obs_primary=["PM2.5,PM10", "PM2.5", ""])
    assert s["primary_pollutant_days"] == 2 and s["primary_pollutant_accuracy"] == 50.0


def test_persistence_uses_last_observed_day():
    aqi = np.array([50, math.nan, math.nan, math.nan, math.nan, 70])
    p = persistence(aqi, np.array([0, 1, 3, 4, 5]))
    assert p[0] == 50 and p[1] == 50 and p[2] == 50  # up to 3 days back
    assert math.isnan(p[3])  # 4 days back: none
    assert p[4] == 70


def test_climatology_mode_and_median():
    days = np.arange(np.datetime64("2019-01-01"), np.datetime64("2021-01-01"))
    aqi = np.where((days.astype("datetime64[M]").astype(int) % 12) == 0, 120.0, 60.0)  # January polluted
    c = climatology(days, aqi)
    jan15 = c.at(np.array(["2022-01-15"], dtype="datetime64[D]"))
    jul15 = c.at(np.array(["2022-07-15"], dtype="datetime64[D]"))
    assert jan15["level"][0] == 3 and jan15["aqi"][0] == 120
    assert jul15["level"][0] == 2 and jul15["aqi"][0] == 60


def test_paired_level_test_by_hand():
    from ecohub.forecast.scores import paired_level_test

    obs = np.array([1, 2, 2, 3, 2, 0])
    fc = np.array([1, 2, 2, 2, 3, 2])   # right on days 0, 1, 2
    ref = np.array([2, 2, 1, 3, 2, 2])  # right on days 1, 3, 4
    r = paired_level_test(fc, ref, obs)
    # forecast only: days 0, 2 (b = 2); reference only: days 3, 4 (c = 2); p = 1 (balanced)
    assert r == {"forecast_only": 2, "reference_only": 2, "p_value": 1.0}
    r = paired_level_test(np.array([1, 1, 1, 1, 1]), np.array([2, 2, 2, 2, 2]), np.array([1, 1, 1, 1, 1]))
    # b = 5, c = 0: p = 2 * (1/32) = 0.0625
    assert r["p_value"] == 0.0625
