"""US EPA AQI (TAD 2024) and the European AQI: worked examples at every breakpoint edge."""

from __future__ import annotations

import numpy as np
import pytest

from ecohub.standards import aqi_epa, eaqi

# (indicator, concentration, expected index) — every row edge of TAD 2024 Table 5, both sides.
EPA_EDGES = [
    ("pm25_24h", 0.0, 0), ("pm25_24h", 9.0, 50), ("pm25_24h", 9.1, 51), ("pm25_24h", 35.4, 100),
    ("pm25_24h", 35.5, 101), ("pm25_24h", 55.4, 150), ("pm25_24h", 55.5, 151), ("pm25_24h", 125.4, 200),
    ("pm25_24h", 125.5, 201), ("pm25_24h", 225.4, 300), ("pm25_24h", 225.5, 301), ("pm25_24h", 325.4, 500),
    ("pm10_24h", 54, 50), ("pm10_24h", 55, 51), ("pm10_24h", 154, 100), ("pm10_24h", 155, 101),
    ("pm10_24h", 254, 150), ("pm10_24h", 255, 151), ("pm10_24h", 354, 200), ("pm10_24h", 355, 201),
    ("pm10_24h", 424, 300), ("pm10_24h", 425, 301), ("pm10_24h", 604, 500),
    ("o3_8h", 0.054, 50), ("o3_8h", 0.055, 51), ("o3_8h", 0.070, 100), ("o3_8h", 0.071, 101),
    ("o3_8h", 0.085, 150), ("o3_8h", 0.086, 151), ("o3_8h", 0.105, 200), ("o3_8h", 0.106, 201),
    ("o3_8h", 0.200, 300),
    ("o3_1h", 0.125, 101), ("o3_1h", 0.164, 150), ("o3_1h", 0.165, 151), ("o3_1h", 0.204, 200),
    ("o3_1h", 0.205, 201), ("o3_1h", 0.404, 300), ("o3_1h", 0.405, 301), ("o3_1h", 0.604, 500),
    ("co_8h", 4.4, 50), ("co_8h", 4.5, 51), ("co_8h", 9.4, 100), ("co_8h", 9.5, 101), ("co_8h", 12.4, 150),
    ("co_8h", 12.5, 151), ("co_8h", 15.4, 200), ("co_8h", 15.5, 201), ("co_8h", 30.4, 300), ("co_8h", 30.5, 301),
    ("co_8h", 50.4, 500),
    ("so2_1h", 35, 50), ("so2_1h", 36, 51), ("so2_1h", 75, 100), ("so2_1h", 76, 101), ("so2_1h", 185, 150),
    ("so2_1h", 186, 151), ("so2_1h", 304, 200),
    ("so2_24h", 305, 201), ("so2_24h", 604, 300), ("so2_24h", 605, 301), ("so2_24h", 1004, 500),
    ("no2_1h", 53, 50), ("no2_1h", 54, 51), ("no2_1h", 100, 100), ("no2_1h", 101, 101), ("no2_1h", 360, 150),
    ("no2_1h", 361, 151), ("no2_1h", 649, 200), ("no2_1h", 650, 201), ("no2_1h", 1249, 300),
    ("no2_1h", 1250, 301), ("no2_1h", 2049, 500),
]  # fmt: skip


@pytest.mark.parametrize(("ind", "c", "want"), EPA_EDGES)
def test_epa_edges(ind, c, want):
    assert aqi_epa.sub_index([c], ind)[0] == want


def test_epa_truncation_and_rounding():
    # PM2.5 35.47 truncates to 35.4 → 100 (not 101); 12.0 → 51 + 49/26.3·2.9 = 56.4 → 56
    assert aqi_epa.sub_index([35.47, 12.0, 9.35], "pm25_24h").tolist() == [100, 56, 51]
    # O3 8-h 0.0709 → 0.070 → 100; above 0.200 the 8-h index is undefined
    assert aqi_epa.sub_index([0.0709], "o3_8h")[0] == 100
    assert np.isnan(aqi_epa.sub_index([0.201], "o3_8h")[0])
    # above 500: extrapolated along the Hazardous row
    assert aqi_epa.sub_index([425.4], "pm25_24h")[0] == 699  # 301 + 199/99.9·199.9 = 699.2
    # pre-2024 PM2.5 table: 12.0 → 50
    assert aqi_epa.sub_index([12.0], "pm25_24h", aqi_epa.PM25_2012)[0] == 50


def test_epa_aqi_rules():
    r = aqi_epa.epa_aqi(pm25=[5, 40, np.nan], o3_8h=[0.03, 0.03, 0.09], o3_1h=[np.nan, np.nan, 0.3])
    assert r["aqi"].tolist() == [28, 112, 248]
    assert r["primary_pollutant"].tolist() == ["", "PM2.5", "O3"]
    assert r["category_en"].tolist() == ["Good", "Unhealthy for Sensitive Groups", "Very Unhealthy"]
    assert r["color"][2] == "#8F3F97"
    # SO2 1-h ≥ 305 ppb: 24-h used; 24-h below 305 → 200
    r = aqi_epa.epa_aqi(so2=[400, 400, 400], so2_24h=[np.nan, 100, 400])
    assert r["aqi"].tolist() == [200, 200, 232]


def test_unit_conversion():
    assert aqi_epa.ugm3_to_ppb([64.07], "so2")[0] == pytest.approx(24.45)
    assert aqi_epa.mgm3_to_ppm([1.0], "co")[0] == pytest.approx(0.8729, abs=1e-4)


@pytest.mark.parametrize(
    ("p", "edges"),
    [("pm25", (5, 15, 50, 90, 140)), ("pm10", (15, 45, 120, 195, 270)), ("no2", (10, 25, 60, 100, 150)),
     ("o3", (60, 100, 120, 160, 180)), ("so2", (20, 40, 125, 190, 275))],
)  # fmt: skip
def test_eaqi_band_edges(p, edges):
    for k, e in enumerate(edges, start=1):
        assert eaqi.band([e], p)[0] == k  # upper bound inclusive
        assert eaqi.band([e + 0.01], p)[0] == k + 1
        assert eaqi.continuous_index([e], p)[0] == pytest.approx(20 * k)


def test_eaqi_index():
    r = eaqi.european_aqi(pm25=[4, 20, np.nan], no2=[30, 5, np.nan])
    assert r["band"].tolist() == [3, 3, 0]
    assert r["worst_pollutant"].tolist() == ["NO2", "PM2.5", ""]
    assert r["category_en"][0] == "Moderate" and r["color"][0] == "#F0E641"
    assert eaqi.band([10], "pm25", table="2017")[0] == 1 and eaqi.band([10.5], "pm25", table="2017")[0] == 2
