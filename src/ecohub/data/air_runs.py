"""The shipped real hourly air data (``data/demo/air_hourly.csv.gz``) as one contiguous run of hours per station
— read by the demo's replay and by the HJ 212 simulator's air devices (a reader of this package's own data,
so neither has to import the other)."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from importlib import resources

import numpy as np
import polars as pl

HOUR = 3600


@dataclass
class StationRun:
    start_h: int  # first source hour (epoch hours, UTC)
    period_h: int  # run length in hours, a multiple of 24
    values: dict[str, np.ndarray]  # parameter → float array of length period_h (NaN = missing)


def load_runs() -> dict[str, StationRun]:
    """Per station: the contiguous run of source hours and the value arrays per pollutant."""
    with resources.files("ecohub.data.demo").joinpath("air_hourly.csv.gz").open("rb") as f:
        df = pl.read_csv(gzip.decompress(f.read()), schema_overrides={"value": pl.Float64})
    df = df.with_columns(
        (pl.col("time").str.to_datetime("%Y-%m-%dT%H:%M:%S%z").dt.epoch("s") // HOUR).alias("h"))
    runs: dict[str, StationRun] = {}
    for (code,), g in df.group_by(["site"], maintain_order=True):
        hs = g["h"].to_numpy()
        # the longest run: the winter part (January–February); the summer week is used only if alone
        winter = hs[hs < hs.min() + 120 * 24]
        start = int(winter.min())
        period = int(((winter.max() - start) // 24 + 1) * 24)
        sub = g.filter((pl.col("h") >= start) & (pl.col("h") < start + period))
        values = {}
        for (param,), gp in sub.group_by(["parameter"]):
            arr = np.full(period, np.nan)
            arr[gp["h"].to_numpy() - start] = gp["value"].to_numpy()
            values[param] = arr
        runs[code] = StationRun(start, period, values)
    return runs
