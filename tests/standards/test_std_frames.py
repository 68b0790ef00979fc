"""polars DataFrame API."""

from __future__ import annotations

import polars as pl

from ecohub.standards import frames


def test_hj633_frame_edition_from_tz_aware_times():
    df = pl.DataFrame(
        {"time": ["2026-02-28 23:00", "2026-03-01 00:00"], "pm25": [70.0, 70.0], "pm10": [None, 40.0]}
    ).with_columns(pl.col("time").str.to_datetime().dt.replace_time_zone("Asia/Shanghai"))
    out = frames.hj633_frame(df, period="daily")
    assert out["aqi"].to_list() == [94, 110]
    assert out["edition"].to_list() == ["hj633-2012", "hj633-2026"]
    assert out["iaqi_pm10"].to_list() == [None, 40]
    assert out["missing"].to_list() == ["SO2,NO2,PM10,CO,O3", "SO2,NO2,CO,O3"]
    assert out["publishable"].to_list() == [True, True] and out["primary_pollutant"][0] == "PM2.5"


def test_water_class_frame():
    out = frames.water_class_frame(pl.DataFrame({"do": [8.0, None], "nh3n": [0.6, 2.5]}))
    assert out["class"].to_list() == ["III", "劣V"]
    assert out["class_do"].to_list() == ["I", None]
    assert out["multiple_nh3n"].to_list() == [0.0, 1.5]
