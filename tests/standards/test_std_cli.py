"""``ecohub aqi`` and ``ecohub water-class`` through typer's CliRunner on a small app built with register()."""

from __future__ import annotations

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from ecohub.cli.standards_cmds import register


@pytest.fixture
def app() -> typer.Typer:
    a = typer.Typer()
    register(a)

    @a.callback()
    def _root() -> None:  # keep sub-command names
        pass

    return a


def _run(app, tmp_path, text, *args):
    src = tmp_path / "in.csv"
    src.write_text(text, encoding="utf-8")
    out = tmp_path / "out.csv"
    res = CliRunner().invoke(app, [args[0], str(src), "-o", str(out), *args[1:]])
    return res, (pl.read_csv(out, infer_schema=False) if out.exists() else None)


AQI_CSV = """time,site,pm25,pm10,so2,no2,co,o3
2019-01-01 01:00,1001A,53,76,15,75,1.2,7
2026-03-01T08:00:00+08:00,1001A,60,120,5,40,0.5,100
2026-02-28T15:00:00Z,x,60,,,,,
bad,x,abc,-1,,,,
2026-03-01 00:00,y,,,,,,
"""


def test_aqi_hourly_default_edition_by_time(app, tmp_path):
    res, out = _run(app, tmp_path, AQI_CSV, "aqi")
    assert res.exit_code == 0, res.output
    assert out["aqi"].to_list() == ["73", "100", "82", None, None]
    assert out["edition"].to_list() == ["hj633-2012", "hj633-2026", "hj633-2012", None, "hj633-2026"]
    assert out["level"].to_list()[:3] == ["II", "II", "II"]
    assert out["primary_pollutant"].to_list()[:3] == ["PM2.5", "PM10,PM2.5", "PM2.5"]
    assert out["color"][0] == "#FFFF00" and out["category_zh"][0] == "良" and out["category_en"][0] == "Good"
    assert out["iaqi_pm25"][0] == "73" and out["iaqi_no2"][0] == "38"
    assert out["missing"][2] == "SO2,NO2,PM10,CO,O3"
    assert "line 5, column pm25: 'abc': not a number" in res.output
    assert "line 5, column pm10: '-1': negative value" in res.output
    assert "line 5, column time" in res.output
    assert "pm25='abc'" in out["error"][3]
    assert "5 rows" in res.output and "1 rows with errors" in res.output
    assert list(out.columns[:8]) == ["time", "site", "pm25", "pm10", "so2", "no2", "co", "o3"]


def test_aqi_forced_edition_daily_and_clash(app, tmp_path):
    text = "time,site,pm25,pm10,o3_8h,aqi\n2016-01-01,tj,70,130,50,94\n"
    res, out = _run(app, tmp_path, text, "aqi", "--standard", "hj633-2026", "--period", "daily")
    assert res.exit_code == 0, res.output
    assert out["aqi"][0] == "110" and out["input_aqi"][0] == "94"
    assert out["over_standard"][0] is None
    res, out = _run(app, tmp_path, text, "aqi", "--standard", "hj633-2012", "--period", "daily")
    assert out["aqi"][0] == "94" and out["primary_pollutant"][0] == "PM2.5"


def test_aqi_daily_rounds_means_as_published(app, tmp_path):
    """Issue 10: a daily PM2.5 mean of 75.744 is published as 76 → IAQI 102 under HJ 633-2012 (not 101);
    74.5 → 74 (half to even) → 99; CO 2.05 → 2.0 → 50."""
    text = "time,site,pm25,co\n2019-01-01,a,75.744,0.5\n2019-01-02,a,74.5,0.5\n2019-01-03,a,10,2.05\n"
    res, out = _run(app, tmp_path, text, "aqi", "--period", "daily")
    assert res.exit_code == 0, res.output
    assert out["aqi"].to_list() == ["102", "99", "50"]
    assert out["edition"].to_list() == ["hj633-2012"] * 3


def test_aqi_epa_and_eaqi(app, tmp_path):
    text = "time,site,pm25,no2\n2024-01-01,a,40,30\n"
    res, out = _run(app, tmp_path, text, "aqi", "--standard", "epa")
    assert res.exit_code == 0, res.output
    assert out["aqi"][0] == "112" and out["category_en"][0] == "Unhealthy for Sensitive Groups"
    res, out = _run(app, tmp_path, text, "aqi", "--standard", "eaqi")
    assert res.exit_code == 0, res.output
    assert out["level"][0] == "3" and out["primary_pollutant"][0] == "PM2.5,NO2"  # both in band 3 (Moderate)
    assert out["category_en"][0] == "Moderate" and out["iaqi_pm25"][0] == "3"


def test_aqi_unreadable_and_unusable_files(app, tmp_path):
    res = CliRunner().invoke(app, ["aqi", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "o.csv")])
    assert res.exit_code != 0 and "cannot read" in res.output
    res, _ = _run(app, tmp_path, "time,site,foo\n2020-01-01,a,1\n", "aqi")
    assert res.exit_code != 0 and "no pollutant column" in res.output
    res, _ = _run(app, tmp_path, "site,pm25\na,1\n", "aqi")
    assert res.exit_code != 0 and "time" in res.output


def test_help_explains_columns(app):
    res = CliRunner().invoke(app, ["aqi", "--help"])
    for word in ("primary_pollutant", "over_standard", "iaqi_", "publishable", "Beijing"):
        assert word in res.output
    res = CliRunner().invoke(app, ["water-class", "--help"])
    for word in ("worst_items", "multiple_", "劣V", "category_zh"):
        assert word in res.output


def test_water_class(app, tmp_path):
    text = ("time,site,ph,do,nh3n,tp,tn,waterbody\n2026-02-04 11:00,a,7.2,8,0.1,0.1,5,\n"
            "2026-02-04 11:00,b,7.2,8,1.6,0.05,5,lake\n2026-02-04 11:00,c,10,8,x,0.5,5,\n")  # fmt: skip
    res, out = _run(app, tmp_path, text, "water-class")
    assert res.exit_code == 0, res.output
    assert out["class"].to_list() == ["II", "V", None]
    assert out["category_zh"].to_list()[:2] == ["优", "中度污染"]
    assert out["worst_items"].to_list()[:2] == ["tp", "nh3n"]
    assert out["class_tp"][1] == "III" and out["class_tn"].to_list()[:2] == [None, "劣V"]
    assert out["multiple_nh3n"][1] == "0.6"
    assert "line 4, column nh3n: 'x': not a number" in res.output
    res, out = _run(app, tmp_path, text, "water-class", "--target-class", "II", "--waterbody", "lake")
    assert out["class"][0] == "IV"  # lake TP limits
    assert float(out["multiple_tp"][0]) == pytest.approx(3.0)  # (0.1 - 0.025)/0.025
    res, _ = _run(app, tmp_path, text, "water-class", "--target-class", "VII")
    assert res.exit_code != 0
