"""Reading daily files: gaps, zeros for missing, duplicated and out-of-order days, bad cells, short history."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ecohub.cli.main import app
from ecohub.domain.errors import InputError
from ecohub.forecast.backtest import backtest
from ecohub.forecast.history import read_daily_file
from ecohub.forecast.model import NotEnoughHistory

FIX = Path(__file__).parent.parent / "fixtures" / "forecast"
TIANJIN = FIX / "tianjin_daily_2014-01-01_2022-05-31.csv"
HEADER = "aqi,co,no2,o3,pm10,pm2_5,quality,rank,so2,time_point\n"


def _write(tmp_path, lines: list[str], name="city.csv") -> Path:
    p = tmp_path / name
    p.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_real_file_zero_days_are_missing():
    h = read_daily_file(TIANJIN)
    assert len(h) == 3073 and h.days[0] == np.datetime64("2014-01-01")
    assert h.valid_days == 3073 - 9  # 9 days published with AQI 0 (quality 无)
    assert not np.any(h.aqi == 0) and not np.any(h.conc["pm25"] == 0)
    assert any("9 day(s) without AQI" in str(p) for p in h.problems)


def test_gaps_zeros_duplicates_out_of_order_and_bad_cells(tmp_path):
    p = _write(tmp_path, [
        "60,0.5,20,100,50,30,良,1,5,2021-01-03",
        "55,0.5,20,100,50,30,良,1,5,2021-01-01",      # out of order
        "0,0.5,20,100,0,0,无,,5,2021-01-02",           # zeros = missing
        "55,0.5,20,100,50,30,良,1,5,2021-01-01",      # identical duplicate
        "99,0.5,20,100,50,30,良,1,5,2021-01-03",      # differing duplicate: rejected
        "70,abc,20,100,50,30,良,1,5,2021-01-06",      # gap of 2 days before it; bad CO cell
        "70,0.5,20,100,50,30,良,1,5,2021-13-01",      # bad date
        "-5,0.5,20,100,50,30,良,1,5,2021-01-07",      # negative AQI
    ])
    h = read_daily_file(p)
    assert [str(d) for d in h.days] == ["2021-01-01", "2021-01-02", "2021-01-03", "2021-01-04", "2021-01-05",
                                        "2021-01-06", "2021-01-07"]
    assert h.aqi[0] == 55 and math.isnan(h.aqi[1]) and h.aqi[2] == 60  # first row of 01-03 kept
    assert math.isnan(h.conc["pm25"][1]) and h.conc["co"][1] == 0.5
    assert math.isnan(h.conc["co"][5]) and h.aqi[5] == 70
    assert math.isnan(h.aqi[6])
    text = "\n".join(str(x) for x in h.problems)
    assert "line 5: time_point='2021-01-01': duplicate of line 3; identical" in text
    assert "line 6: time_point='2021-01-03': duplicate of line 2; values differ" in text
    assert "co='abc': not a number" in text
    assert "time_point='2021-13-01': not a date" in text
    assert "aqi='-5': negative" in text
    assert "out of date order" in text
    assert "2 calendar day(s) absent" in text


def test_missing_column_is_a_clear_error(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("date,value\n2021-01-01,5\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column"):
        read_daily_file(p)
    with pytest.raises(InputError, match="cannot read"):
        read_daily_file(tmp_path / "absent.csv")


def test_under_a_year_of_history_is_refused_with_the_reason(tmp_path):
    lines = [f"{60 + i % 30},0.5,20,100,50,30,良,1,5,{np.datetime64('2021-01-01') + i}" for i in range(300)]
    h = read_daily_file(_write(tmp_path, lines))
    with pytest.raises(NotEnoughHistory, match="needs at least 365"):
        backtest(h, np.datetime64("2021-06-01"))


def test_cli_short_history_and_bad_options(tmp_path):
    lines = [f"{60 + i % 30},0.5,20,100,50,30,良,1,5,{np.datetime64('2021-01-01') + i}" for i in range(100)]
    p = _write(tmp_path, lines)
    r = CliRunner().invoke(app, ["forecast", "backtest", "--daily", str(p), "--test-from", "2021-03-01"])
    assert r.exit_code == 2 and "needs at least 365" in r.output
    r = CliRunner().invoke(app, ["forecast", "backtest", "--daily", str(p), "--test-from", "March"])
    assert r.exit_code == 2 and "--test-from='March'" in r.output
    r = CliRunner().invoke(app, ["forecast", "backtest", "--daily", str(tmp_path / "nope.csv")])
    assert r.exit_code == 2 and "cannot read" in r.output


def test_cli_backtest_json_contract(tmp_path):
    """A two-year synthetic city: the CLI prints the contract's JSON object last."""
    rng = np.random.default_rng(1)
    days = np.arange(np.datetime64("2019-01-01"), np.datetime64("2021-03-01"))
    season = 80 + 40 * np.cos(2 * np.pi * (days.astype(int) % 365) / 365)
    x, vals = 0.0, []
    for s in season:
        x = 0.6 * x + rng.normal(0, 0.3)
        vals.append(max(5, s * math.exp(x)))
    lines = [f"{math.ceil(v)},0.8,30,80,{int(v)},{int(v * 0.6)},良,1,8,{d}" for v, d in zip(vals, days, strict=True)]
    p = _write(tmp_path, lines)
    r = CliRunner().invoke(app, ["forecast", "backtest", "--daily", str(p), "--test-from", "2021-01-01",
                                 "--refit-days", "60", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout.strip().splitlines()[-1])
    for k in ("days", "level_accuracy", "persistence_level_accuracy", "climatology_level_accuracy",
              "within_one_level", "aqi_mae", "range_hit_rate", "csi_polluted", "pod_polluted", "far_polluted"):
        assert k in out
    assert out["days"] == 59 and 0 <= out["level_accuracy"] <= 100


def test_cli_run_and_list_from_a_daily_file(tmp_path, monkeypatch):
    """``forecast run --city --daily`` stores an issue; ``forecast list --json`` shows it; a file that ends too
    long ago gives the reason, not a crash."""
    from datetime import UTC, datetime, timedelta

    monkeypatch.setenv("ECOHUB_DATABASE_URL", f"sqlite:///{tmp_path / 'f.db'}")
    today = (datetime.now(UTC) + timedelta(hours=8)).date()
    rng = np.random.default_rng(5)
    days = [today - timedelta(days=k) for k in range(400, 0, -1)]
    lines = [f"{int(60 + 30 * rng.random())},0.8,30,80,90,50,良,1,8,{d.isoformat()}" for d in days]
    p = _write(tmp_path, lines)
    r = CliRunner().invoke(app, ["forecast", "run", "--city", "120100", "--daily", str(p), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["issued"] and out["method"] == "model" and len(out["days"]) == 3
    assert out["days"][0]["day"] == (today + timedelta(days=1)).isoformat()
    assert out["met_mode"] is None and out["hours"] == 0  # no weather, no hourly history stored
    r = CliRunner().invoke(app, ["forecast", "run", "--city", "120100", "--daily", str(p), "--no-stored-met"])
    assert r.exit_code == 0 and "hours" in r.stdout and "met" in r.stdout
    r = CliRunner().invoke(app, ["forecast", "list", "--city", "120100", "--json"])
    issues = [json.loads(x) for x in r.stdout.strip().splitlines()]
    assert len(issues) == 2 and issues[0]["method"] == "model" and issues[0]["inputs_to"] == days[-1].isoformat()
    old = _write(tmp_path, [f"60,0.8,30,80,90,50,良,1,8,2020-01-0{k}" for k in range(1, 8)], "old.csv")
    r = CliRunner().invoke(app, ["forecast", "run", "--city", "120100", "--daily", str(old), "--json"])
    assert r.exit_code == 0 and "too old" in r.stdout
    r = CliRunner().invoke(app, ["forecast", "run", "--daily", str(old)])
    assert r.exit_code == 2 and "city" in r.output


def test_cli_verify_json(tmp_path, monkeypatch):
    monkeypatch.setenv("ECOHUB_DATABASE_URL", f"sqlite:///{tmp_path / 'v.db'}")
    r = CliRunner().invoke(app, ["forecast", "verify", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert [x["lead"] for x in out["leads"]] == [1, 2, 3] and out["verified"]["targets"] == 0
    r = CliRunner().invoke(app, ["forecast", "list"])
    assert r.exit_code == 2 and "--city or --site" in r.output
    r = CliRunner().invoke(app, ["forecast", "backtest", "--daily", str(TIANJIN), "--persistence-weight", "2"])
    assert r.exit_code == 2 and "--persistence-weight='2'" in r.output
