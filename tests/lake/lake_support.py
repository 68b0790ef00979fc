"""Loading the repository's CNEMC fixture (a year of hourly data of 12 stations, one per city) into a store."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from ecohub.domain.timeutil import BEIJING
from ecohub.store import registry as R
from ecohub.store.writer import ObservationWriter

DATA = Path(__file__).resolve().parents[1] / "fixtures" / "cnemc_station_hourly_2019" / "cities_full_year"
TYPES = {"PM2.5": "pm25", "PM10": "pm10", "SO2": "so2", "NO2": "no2", "O3": "o3", "CO": "co"}


def load_months(store, months: Iterable[int], region_of: Callable[[str], str] = lambda s: "130100") -> int:
    """CNEMC hourly rows of the fixture → sites (region ``region_of(station)``) and hourly observations (hour h of
    a day: h:00 Beijing). Returns the observations written."""
    frames = [pl.read_csv(DATA / f"sites_2019-{m:02d}.csv.gz", infer_schema=False) for m in months]
    df = pl.concat(frames, how="diagonal")
    stations = [c for c in df.columns if c not in ("date", "hour", "type")]
    long = (df.filter(pl.col("type").is_in(list(TYPES)))
            .unpivot(index=["date", "hour", "type"], on=stations, variable_name="site", value_name="v")
            .with_columns(pl.col("v").cast(pl.Float64, strict=False)).drop_nulls("v"))
    with store.engine.begin() as c:
        for i, s in enumerate(stations):
            R.upsert_site(c, R.SiteInput(s, "air_station", "站" + s, 110 + i * 0.1, 35.0, region_of(s)))
        sites = R.site_index(c)
        params = R.parameter_index(c)
        res = R.SeriesResolver()
        sid = {(s, p): res.get(c, sites[s][0], params[p], "hour") for s in stations for p in TYPES.values()}
    w = ObservationWriter(store, "import", "cnemc-fixture", batch_size=100_000)
    for d, h, t, s, v in long.iter_rows():
        day = datetime.strptime(d, "%Y%m%d").replace(tzinfo=BEIJING) + timedelta(hours=int(h))
        w.add(sid[(s, TYPES[t])], int(day.timestamp()), v, "N")
    w.flush()
    return long.height
