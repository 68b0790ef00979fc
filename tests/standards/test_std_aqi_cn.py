"""HJ 633-2012 / HJ 633-2026: breakpoint edges (both sides), special rules, rounding, levels, primary pollutant."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from ecohub.standards import aqi_cn
from ecohub.standards.aqi_cn import aqi_daily, aqi_hourly, iaqi, level_of

IAQI = (0, 50, 100, 150, 200, 300, 400, 500)
# Tables typed again from STANDARDS.md §1.1 (HJ 633-2012 Table 1 / HJ 633-2026 Table 3), not imported.
TABLE_2012 = {
    "so2_24h": (0, 50, 150, 475, 800, 1600, 2100, 2620),
    "so2_1h": (0, 150, 500, 650, 800),
    "no2_24h": (0, 40, 80, 180, 280, 565, 750, 940),
    "no2_1h": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    "pm10_24h": (0, 50, 150, 250, 350, 420, 500, 600),
    "co_24h": (0, 2, 4, 14, 24, 36, 48, 60),
    "co_1h": (0, 5, 10, 35, 60, 90, 120, 150),
    "o3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "o3_8h": (0, 100, 160, 215, 265, 800),
    "pm25_24h": (0, 35, 75, 115, 150, 250, 350, 500),
}
TABLE_2026 = {**TABLE_2012, "pm10_24h": (0, 50, 120, 250, 350, 420, 500, 600),
              "pm25_24h": (0, 35, 60, 115, 150, 250, 350, 500)}  # fmt: skip


def _expected(c: Fraction, bps: tuple[int, ...]) -> int:
    """Exact rational IAQI (HJ 633 eq. 1) carried up to an integer."""
    for i in range(1, len(bps)):
        if c <= bps[i]:
            lo, hi = Fraction(bps[i - 1]), Fraction(bps[i])
            return math.ceil(Fraction(IAQI[i] - IAQI[i - 1]) / (hi - lo) * (c - lo) + IAQI[i - 1])
    raise AssertionError("beyond table")


def _edges(table: dict[str, tuple[int, ...]]):
    for ind, bps in table.items():
        step = Fraction(1, 10) if ind.startswith("co") else Fraction(1)
        for i, bp in enumerate(bps):
            yield ind, Fraction(bp), IAQI[i]
            if i > 0:
                yield ind, bp - step, _expected(bp - step, bps)
            if i < len(bps) - 1:
                yield ind, bp + step, _expected(bp + step, bps)


@pytest.mark.parametrize(("edition", "table"), [(2012, TABLE_2012), (2026, TABLE_2026)])
def test_every_breakpoint_edge_both_sides(edition, table):
    cases = list(_edges(table))
    assert len(cases) > 150
    for ind, c, want in cases:
        got = iaqi([float(c)], ind, edition)[0]
        assert got == want, (edition, ind, float(c), got, want)


def test_hand_worked_values():
    # PM2.5 76 under 2012: 50/40 × 41 + 50 = 101.25 → 102; under 2026: 50/55 × 16 + 100 = 114.5 → 115
    assert iaqi([76], "pm25_24h", 2012)[0] == 102
    assert iaqi([76], "pm25_24h", 2026)[0] == 115
    # PM10 130: 2012 100 + 0.5·… → 50 + 0.5·80 = 90; 2026: 100 + 50/130·10 = 103.85 → 104
    assert iaqi([130], "pm10_24h", 2012)[0] == 90
    assert iaqi([130], "pm10_24h", 2026)[0] == 104
    # Tianjin 2014-01-01 (aqistudy): PM10 212 → 100 + 50·62/100 = 131 = the published AQI
    assert iaqi([212], "pm10_24h", 2012)[0] == 131
    # CO 1-h 7.3 mg/m³: 50 + 50·2.3/5 = 73
    assert iaqi([7.3], "co_1h", 2012)[0] == 73


def test_ceiling_is_guarded_against_float_noise():
    # 0.1 × 3 = 0.30000000000000004: CO 24-h of 0.30000000000000004 must give 7.5 → 8, not more
    assert iaqi([0.1 * 3], "co_24h", 2012)[0] == 8
    # an exact breakpoint reached through arithmetic noise stays on the breakpoint
    c = (0.1 + 0.2) * 10 / 3 * 150  # 150.00000000000003
    assert iaqi([c], "pm10_24h", 2012)[0] == 100
    assert aqi_cn.ceil_index(np.array([50.0 + 1e-12, 50.0 + 1e-6]))[0] == 50
    assert aqi_cn.ceil_index(np.array([50.0 + 1e-6]))[0] == 51


def test_2026_rounds_inputs_gbt8170():
    # 2012 rounds as CNEMC did (issue 10): daily PM2.5 75.744 is published as 76 → 50 + 41·1.25 = 101.25 → 102
    # (unrounded it would be 100.93 → 101); 74.5 → 74 (half to even) → 98.75 → 99, not 99.375 → 100
    assert iaqi([75.744, 74.5, 75.5], "pm25_24h", 2012).tolist() == [102, 99, 102]
    # CO to 0.1 under 2012 too: 2.05 → 2.0 (even) → 50, 2.15 → 2.2 → 55
    assert iaqi([2.05, 2.15], "co_24h", 2012).tolist() == [50, 55]
    r = aqi_daily(pm25=[75.744], pm10=[80.4], so2=[9.5], no2=[30.2], co=[0.84], o3_8h=[90.5], edition=2012)
    assert r.aqi[0] == 102 and r.primary_pollutant[0] == "PM2.5"
    # 2026 rounds to integers first: 60.4 → 60 → 100; 60.5 → 60 (half to even) → 100; 61.5 → 62 → 102
    assert iaqi([60.4, 60.5, 61.5], "pm25_24h", 2026).tolist() == [100, 100, 102]
    # CO to one decimal: 2.05 → 2.0 (even) → 50; 2.15 → 2.2 → 55; 2.04 → 2.0 → 50
    assert iaqi([2.05, 2.15, 2.04], "co_24h", 2026).tolist() == [50, 55, 50]


def test_special_rules_2012():
    # SO2 1-h > 800, letter of Table 1 note 2: the 24-h IAQI is reported
    r = aqi_hourly(so2=[801, 800], so2_24h=[500, 500], edition=2012, hourly_rule="letter")
    assert r.iaqi["so2"].tolist() == [_expected(Fraction(500), TABLE_2012["so2_24h"]), 200]
    assert r.beyond_table.tolist() == ["SO2", ""]
    # … without the 24-h value the SO2 IAQI is unknown (NaN), not 200
    r = aqi_hourly(so2=[801], no2=[10], edition=2012, hourly_rule="letter")
    assert np.isnan(r.iaqi["so2"][0]) and r.aqi[0] == 5
    # CNEMC practice (published 2019-01-09 13:00, 2647A: SO2 915, SO2_24h 185, PM10 249 → AQI 200)
    r = aqi_hourly(
        so2=[915], so2_24h=[185], pm10=[249], pm25=[116], no2=[44], o3=[58], co=[2.3], edition=2012
    )
    assert r.aqi[0] == 200 and r.primary_pollutant[0] == "SO2"
    # O3 8-h > 800 (daily): the 8-h value is not used; the 1-h IAQI stands
    r = aqi_daily(o3_8h=[801, 800], o3=[900, 900], edition=2012)
    assert np.isnan(r.iaqi["o3_8h"][0]) and r.iaqi["o3_8h"][1] == 300
    assert r.aqi.tolist() == [350, 350]  # O3 1-h 900: 300 + 100·100/200


def test_special_rules_2026():
    r = aqi_hourly(so2=[801, 5000], edition=2026)
    assert r.iaqi["so2"].tolist() == [200, 200]
    r = aqi_daily(o3_8h=[801], o3=[1200], edition=2026)
    assert r.iaqi["o3_8h"][0] == 300 and r.aqi[0] == 300  # the 1-h O3 is not part of the 2026 daily AQI
    assert np.isnan(r.iaqi["o3"][0])


def test_beyond_top_is_capped_and_flagged():
    r = aqi_daily(pm10=[600, 601, 2372], edition=2012)
    assert r.aqi.tolist() == [500, 500, 500]
    assert r.beyond_table.tolist() == ["", "PM10", "PM10"]


@pytest.mark.parametrize(
    ("aqi", "level", "zh", "color"),
    [(0, 1, "优", "#00E400"), (50, 1, "优", "#00E400"), (51, 2, "良", "#FFFF00"), (100, 2, "良", "#FFFF00"),
     (101, 3, "轻度污染", "#FF7E00"), (150, 3, "轻度污染", "#FF7E00"), (151, 4, "中度污染", "#FF0000"),
     (200, 4, "中度污染", "#FF0000"), (201, 5, "重度污染", "#99004C"), (300, 5, "重度污染", "#99004C"),
     (301, 6, "严重污染", "#7E0023"), (500, 6, "严重污染", "#7E0023")],
)  # fmt: skip
def test_levels_categories_colours(aqi, level, zh, color):
    assert level_of([aqi])[0] == level
    assert aqi_cn._LEVEL_ZH[level] == zh and aqi_cn._LEVEL_COLOR[level] == color
    assert np.isnan(level_of([np.nan]).astype(float)).sum() == 0 and level_of([np.nan])[0] == 0


def test_primary_pollutant_ties_and_threshold():
    # PM2.5 75 and PM10 150 both give 100 under 2012: both primary, in Table 1 order
    r = aqi_daily(pm25=[75, 30, 75], pm10=[150, 40, 100], no2=[10, 10, 10], edition=2012)
    assert r.primary_pollutant.tolist() == ["PM10,PM2.5", "", "PM2.5"]
    assert r.aqi.tolist() == [100, 43, 100]
    # AQI exactly 50: no primary pollutant; 51: one
    r = aqi_daily(pm25=[35, 36], edition=2012)
    assert r.primary_pollutant.tolist() == ["", "PM2.5"]


def test_over_standard_2012_only():
    r = aqi_daily(pm25=[76, 75], no2=[81, 80], edition=2012)
    assert r.over_standard_pollutants.tolist() == ["NO2,PM2.5", ""]
    r = aqi_daily(pm25=[76], no2=[81], edition=2026)
    assert r.over_standard_pollutants.tolist() == [""]


def test_missing_pollutants_and_publishable():
    r = aqi_daily(pm25=[50, np.nan], pm10=[np.nan, 60], edition=2012)
    assert r.missing_pollutants.tolist() == ["SO2,NO2,PM10,CO,O3", "SO2,NO2,CO,O3,PM2.5"]
    assert r.publishable.tolist() == [True, True]
    # 2026 §5.3.1: with a missing item the AQI is published only when > 100
    full = dict(so2=[5, 5], no2=[10, 10], co=[0.5, 0.5], o3_8h=[50, 50], pm10=[40, 40])
    r = aqi_daily(pm25=[30, 80], **full, edition=2026)
    assert r.missing.tolist() == [0, 0] and r.publishable.tolist() == [True, True]
    r = aqi_daily(pm25=[np.nan, np.nan], **{**full, "pm10": [40, 300]}, edition=2026)
    assert r.publishable.tolist() == [False, True]
    assert r.missing_pollutants.tolist() == ["PM2.5", "PM2.5"]


def test_nothing_given_and_negative():
    r = aqi_hourly(pm25=[np.nan, -3.0], edition=2012)
    assert np.isnan(r.aqi).all() and r.level.tolist() == [0, 0]
    assert r.invalid.tolist() == [0, 1 << aqi_cn.SLOTS.index("pm25")]
    assert r.category_zh.tolist() == ["", ""]


def test_2026_aqi_range_starts_at_1():
    assert aqi_daily(pm25=[0], edition=2026).aqi[0] == 1
    assert aqi_daily(pm25=[0], edition=2012).aqi[0] == 0


def test_hourly_rules():
    # CNEMC practice: O3 8-h and 24-h PM moving means are not used
    kw = dict(pm25=[40], pm10=[50], o3=[100], o3_8h=[300], pm25_24h=[200], edition=2012)
    assert aqi_hourly(**kw).aqi[0] == 57
    # letter of Table 4: PM from the 24-h moving means, O3 8-h in
    r = aqi_hourly(**kw, hourly_rule="letter")
    assert r.iaqi["pm25"][0] == 250 and r.iaqi["o3_8h"][0] == 207 and r.aqi[0] == 250
    # 2026 hourly: the 1-h PM value in the daily table
    assert aqi_hourly(pm25=[60], edition=2026).aqi[0] == 100


def test_edition_by_time_and_mixed_rows():
    t = np.array(
        ["2026-02-28T15:59:59", "2026-02-28T16:00:00", "2019-01-01T00:00", "NaT"], dtype="datetime64[s]"
    )
    r = aqi_daily(pm25=[70, 70, 70, 70], times=t)
    assert r.edition.tolist() == [2012, 2026, 2012, 0]
    assert r.aqi[:3].tolist() == [94, 110, 94] and np.isnan(r.aqi[3])
    import datetime as dt

    bj = dt.timezone(dt.timedelta(hours=8))
    r = aqi_daily(pm25=[70], times=[dt.datetime(2026, 3, 1, 0, 0, tzinfo=bj)])
    assert r.edition[0] == 2026
    with pytest.raises(ValueError):
        aqi_daily(pm25=[70], times=[dt.datetime(2026, 3, 1)])


def test_argument_errors():
    with pytest.raises(ValueError):
        aqi_daily(pm25=[1, 2], pm10=[1], edition=2012)
    with pytest.raises(ValueError):
        aqi_daily(pm25=[1])
    with pytest.raises(ValueError):
        aqi_hourly(pm25=[1], edition=2020)
