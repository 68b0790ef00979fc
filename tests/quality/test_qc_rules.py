"""QC rules on arrays: series built to trigger each rule, and series of normal variability that must not."""

from __future__ import annotations

import numpy as np
import pytest

from ecohub.quality.config import QcConfig, builtin
from ecohub.quality.flags import flag_levels, meaning
from ecohub.quality.qc import check_arrays

T0 = 1_700_000_000 - 1_700_000_000 % 3600
H = 3600


def hours(n: int, start: int = T0) -> list[int]:
    return [start + H * i for i in range(n)]


def normal_pm25(n: int = 24 * 14, seed: int = 1) -> np.ndarray:
    """Two weeks of realistic hourly PM2.5: diurnal cycle, synoptic swings, noise, integers (CNEMC style)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    base = 60 + 40 * np.sin(2 * np.pi * t / (24 * 5)) + 15 * np.sin(2 * np.pi * (t - 7) / 24)
    return np.round(np.maximum(3, base + rng.normal(0, 8, n)))


def rules_of(res):
    return {r["rule"] for r in res}


def test_normal_variability_raises_nothing():
    for seed, (p, scale) in enumerate((("pm25", 1), ("pm10", 1.6), ("no2", 0.6), ("so2", 0.2), ("o3", 1.2),
                                       ("co", 0.015))):
        v = normal_pm25(seed=seed) * scale
        v = np.maximum(np.round(v, 1 if p == "co" else 0), 0.1 if p == "co" else 1)
        assert check_arrays(p, hours(v.size), v.tolist()) == [], p


def test_low_values_repeating_at_resolution_are_not_a_flat_line():
    # SO2 at 3 µg/m³ for days is what clean air looks like at 1 µg/m³ resolution (CNEMC 2019: up to 381 h)
    assert check_arrays("so2", hours(200), [3.0] * 200) == []
    assert check_arrays("co", hours(90), [0.4] * 90) == []


@pytest.mark.parametrize("value,rule", [(5000.0, "range"), (-2.0, "negative")])
def test_range_and_negative(value, rule):
    v = normal_pm25(48)
    v[10] = value
    res = check_arrays("pm25", hours(48), v.tolist())
    assert [(r["index"], r["rule"], r["level"]) for r in res] == [(10, rule, 2)]
    assert str(value).rstrip("0").rstrip(".") in res[0]["detail"]


def test_negative_allowed_for_temperature():
    assert check_arrays("temp", hours(5), [-12.0, -13.1, -12.5, -12.0, -11.8]) == []


def test_spike_is_suspect_and_step_changes_are_not_spikes():
    v = normal_pm25(48)
    v[20] = 900.0
    res = check_arrays("pm25", hours(48), v.tolist())
    assert [(r["index"], r["rule"], r["level"]) for r in res] == [(20, "spike", 1)]
    # a lasting step up (a new regime) is not a spike
    w = np.r_[np.full(24, 40.0), np.full(24, 700.0)] + np.tile([0, 1, 2, 1], 12)
    assert "spike" not in rules_of(check_arrays("pm25", hours(48), w.tolist()))


def test_flat_line():
    v = normal_pm25(48)
    v[5:19] = 77.0  # 14 identical hours
    res = check_arrays("pm10", hours(48), v.tolist())
    flat = [r for r in res if r["rule"] == "flatline"]
    assert [r["index"] for r in flat] == list(range(5, 19))
    assert flat[0]["level"] == 2 and "14" in flat[0]["detail"]
    v[5:16] = np.arange(11) + 70  # 11 varying: no flat line
    assert check_arrays("pm10", hours(48), v.tolist()) == []


def test_flat_line_broken_by_a_gap():
    t = hours(8) + hours(8, T0 + 20 * H)  # 8 + 8 equal values, 12 hours apart
    assert check_arrays("pm10", t, [77.0] * 16) == []


def test_stuck_at_zero_ambient_invalid_outlet_suspect():
    v = normal_pm25(24)
    v[3:7] = 0.0
    res = check_arrays("pm25", hours(24), v.tolist())
    assert [(r["index"], r["rule"], r["level"]) for r in res] == [(i, "zero", 2) for i in range(3, 7)]
    res = check_arrays("smoke", hours(24), (v / 10).tolist(), kind="gas_outlet")
    assert {(r["rule"], r["level"]) for r in res} == {("zero", 1)}
    # two zeros are not "stuck"
    v[5:7] = 40
    assert check_arrays("pm25", hours(24), v.tolist()) == []


def test_device_flags_hj212():
    flags = ["N", "F", "M", "S", "D", "C", "T", "B", "P", "0", "1", "2", "3", None, "X"]
    v = list(range(10, 10 + len(flags)))
    res = {r["index"]: r for r in check_arrays("nox", hours(len(flags)), v, flags=flags, kind="gas_outlet")}
    assert set(res) == {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 14}
    assert {i: res[i]["level"] for i in res} == {1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 1, 7: 2, 8: 2, 9: 2, 11: 2, 14: 1}
    assert "停运" in res[1]["detail"] and "故障" in res[4]["detail"]
    assert meaning("t").code == "T" and flag_levels(["N", None, "C"]).tolist() == [0, 0, 2]


def test_missing_value_with_flag_is_only_a_flag():
    res = check_arrays("nox", hours(3), [50.0, None, 51.0], flags=["N", "D", "N"], kind="gas_outlet")
    assert [(r["index"], r["rule"]) for r in res] == [(1, "device_flag")]


def test_timestamps_future_and_stale():
    t = hours(3)
    received = [t[0] + 10, t[1] - 7200, t[2] + 40 * 86400]
    res = check_arrays("nox", t, [50.0, 51.0, 52.0], received=received, source="hj212", kind="gas_outlet")
    assert [(r["index"], r["rule"], r["level"]) for r in res] == [(1, "future", 2), (2, "stale", 1)]
    # a file import of old data is not "stale"
    res = check_arrays("nox", t, [50.0, 51.0, 52.0], received=received, source="import", kind="gas_outlet")
    assert [(r["index"], r["rule"]) for r in res] == [(1, "future")]


def test_configuration_overrides_most_specific_wins():
    rows = [
        {"rule": "range", "parameter": "", "site_kind": "", "params": {"max": 500}, "enabled": True},
        {"rule": "range", "parameter": "pm25", "site_kind": "micro_station", "params": {"max": 800}, "enabled": True},
        {"rule": "spike", "parameter": "pm25", "site_kind": "", "params": {}, "enabled": False},
        {"rule": "flatline", "parameter": "", "site_kind": "", "params": {"flat_n": 4, "level": 1}, "enabled": True},
    ]
    cfg = QcConfig(rows)
    assert cfg.params("pm25", "air_station", "hour").range_max == 500
    assert cfg.params("pm25", "micro_station", "hour").range_max == 800
    assert "spike" not in cfg.params("pm25", "air_station", "hour").enabled
    assert cfg.params("no2", "air_station", "hour").flat_n == 4
    assert cfg.params("no2", "air_station", "hour").level_flatline == 1
    assert builtin("pm25", "air_station", "hour").range_max == 3000
    v = normal_pm25(24)
    v[2:7] = 44.0
    res = check_arrays("no2", hours(24), v.tolist(), cfg=cfg)
    assert {(r["rule"], r["level"]) for r in res} == {("flatline", 1)}
    assert cfg.lookback("hour") >= 5 * 3600
