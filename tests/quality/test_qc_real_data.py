"""QC defaults on real published data (CNEMC 2019 hourly, tests/fixtures/cnemc_station_hourly_2019): the value rules must not fire on
real air — including the worst haze and dust week of 2019 — and the run rules fire only on the rare real
faults (hours-long identical readings), which are reported here as evidence."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl

from ecohub.quality.config import QcConfig, resolution
from ecohub.quality.rules import Groups, ObsArrays, evaluate

DATA = Path(__file__).resolve().parents[1] / "fixtures" / "cnemc_station_hourly_2019"
TYPES = {"PM2.5": "pm25", "PM10": "pm10", "SO2": "so2", "NO2": "no2", "O3": "o3", "CO": "co"}


def load(files: list[Path]):
    df = pl.concat([pl.read_csv(f, infer_schema_length=0) for f in files], how="diagonal")
    stations = [c for c in df.columns if c not in ("date", "hour", "type")]
    long = (df.filter(pl.col("type").is_in(list(TYPES)))
            .unpivot(index=["date", "hour", "type"], on=stations, variable_name="st", value_name="v")
            .with_columns(pl.col("v").cast(pl.Float64, strict=False)).drop_nulls("v")
            .with_columns((pl.col("date").str.strptime(pl.Datetime, "%Y%m%d").dt.epoch("s")
                           + pl.col("hour").cast(pl.Int64) * 3600 - 8 * 3600).alias("t"))
            .sort(["type", "st", "t"]))
    key = (long["type"] + long["st"]).to_numpy()
    change = np.r_[True, key[1:] != key[:-1]]
    group = np.cumsum(change) - 1
    first = np.flatnonzero(change)
    types = long["type"].to_numpy()
    cfg = QcConfig()
    params = [cfg.params(TYPES[types[i]], "air_station", "hour") for i in first]
    groups = Groups(params, np.full(first.size, 3600), np.array([resolution(TYPES[types[i]]) for i in first]),
                    np.zeros(first.size, bool))
    t = long["t"].to_numpy()
    obs = ObsArrays(group, t, long["v"].to_numpy(), np.full(t.size, None, dtype=object), t + 3600)
    return long, obs, groups


def test_four_months_of_12_stations():
    """Jan, Apr, Jul, Oct 2019 of one station per city of the 12 (the fixture subset)."""
    files = [DATA / "cities_full_year" / f"sites_2019-{m:02d}.csv.gz" for m in (1, 4, 7, 10)]
    long, obs, groups = load(files)
    assert len(obs) > 190_000
    flags = evaluate(obs, groups)
    by_rule = Counter(flags.rules())
    # value and time rules: nothing on real data
    assert set(by_rule) <= {"flatline", "spike"}, by_rule
    # spikes are only ever "suspect" and rare
    assert by_rule["spike"] < 5
    assert all(lv == 1 for lv, r in zip(flags.level, flags.rules(), strict=True) if r == "spike")
    # flat lines: rare, and only the two real stuck readings: 1129A NO2 stuck at 49 µg/m³ for 19 h on
    # 2019-10-24, and 1029A PM2.5 stuck at 41 µg/m³ for 12 h
    assert by_rule["flatline"] / len(obs) < 2e-4
    st = long["st"].to_numpy()
    ty = long["type"].to_numpy()
    hit = [(ty[i], st[i], obs.value[i]) for i, r in zip(flags.index, flags.rules(), strict=True) if r == "flatline"]
    assert Counter(hit) == {("NO2", "1129A", 49.0): 19, ("PM2.5", "1029A", 41.0): 12}


def test_haze_week_extremes_are_in_range():
    files = [DATA / "national_weeks" / "sites_2019-01-08_to_2019-01-14.csv.gz"]
    long, obs, groups = load(files)
    assert np.nanmax(obs.value) > 1000  # 1-h PM10 above 1,000 µg/m³ at some stations
    flags = evaluate(obs, groups)
    by_rule = Counter(flags.rules())
    assert by_rule["negative"] == 0 and by_rule["zero"] == 0
    # one value out of range (1.3 million values of all 1,400 stations; the fixture keeps 142), a real fault: 1-h CO of 90 mg/m³ (2170A, 2019-01-10)
    ranged = [long.row(int(i)) for i, r in zip(flags.index, flags.rules(), strict=True) if r == "range"]
    assert [(r[2], r[3], r[4]) for r in ranged] == [("CO", "2170A", 90.0)]
    assert (by_rule["spike"] + by_rule["flatline"]) / len(obs) < 2e-4
