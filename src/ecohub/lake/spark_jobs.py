"""PySpark jobs over the lake: the statistics that grow with history, defined once (:mod:`ecohub.lake.daily`).

Spark reads the committed Parquet files of the lake (partitions pruned by interval, kind and date), drops
repeated keys, and hands each station's hours to the same pure function the embedded path is checked against
(``applyInPandas``): the numbers are those of the embedded path by construction, the work is spread over the
executors. ``local[2]`` here and in CI; on a cluster, ``spark-submit`` with ``--master`` (``docs/scale.md``).
"""

from __future__ import annotations

import os
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ecohub.lake.daily import COLUMNS, MEANS, station_daily
from ecohub.lake.layout import KEY, OBSERVATIONS
from ecohub.lake.sync import committed_files

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

DAILY_SCHEMA = ("site string, date string, so2 double, no2 double, co double, pm10 double, pm25 double, "
                "o3_8h double, aqi int, level int, primary_pollutant string")


def session(master: str = "local[2]", app_name: str = "ecohub") -> SparkSession:
    """A Spark session; local ones bind to 127.0.0.1 and start no web UI."""
    from pyspark.sql import SparkSession

    b = SparkSession.builder.master(master).appName(app_name)
    # the workers run this interpreter (with ecohub, numpy and pandas), not whatever python3 is on PATH
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    b = b.config("spark.pyspark.python", os.environ["PYSPARK_PYTHON"])
    if master.startswith("local"):
        b = (b.config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").config("spark.sql.shuffle.partitions", "4"))
    return b.config("spark.sql.session.timeZone", "UTC").getOrCreate()


def read_hours(spark: SparkSession, lake: Path, d0: date, d1: date, kind: str = "air_station") -> DataFrame:
    """Hourly observations of ``kind`` for the Beijing days d0 … d1 from the lake's committed files."""
    from pyspark.sql import functions as F

    root = Path(lake) / OBSERVATIONS
    wanted = {(d0 + timedelta(days=i)).isoformat() for i in range((d1 - d0).days + 1)}
    files = [str(p) for p in committed_files(lake)
             if f"interval=hour/kind={kind}/" in p.as_posix() and p.parent.name.removeprefix("date=") in wanted]
    if not files:
        raise ValueError(f"the lake at {lake} holds no hourly {kind} data for {d0} … {d1}: run 'ecohub lake sync'")
    df = spark.read.option("basePath", str(root)).parquet(*files)
    return (df.where(F.col("parameter").isin(*MEANS, "o3")).dropDuplicates(list(KEY))
            .select("site", "parameter", "time", "value"))


def daily_aqi(spark: SparkSession, lake: Path, d0: date, d1: date) -> DataFrame:
    """Station daily values and daily AQI (columns :data:`ecohub.lake.daily.COLUMNS`) for d0 … d1."""
    import pandas as pd
    from pyspark.sql import functions as F

    hours = read_hours(spark, lake, d0, d1).withColumn("t", F.col("time").cast("long"))

    def per_station(pdf: pd.DataFrame) -> pd.DataFrame:
        out = station_daily(str(pdf["site"].iloc[0]), pdf["t"].to_numpy(np.int64), pdf["parameter"].to_numpy(),
                            pdf["value"].astype(float).to_numpy(), d0, d1)
        frame = pd.DataFrame(out, columns=list(COLUMNS))
        return frame.astype({"aqi": "Int32", "level": "Int32"})

    return hours.select("site", "parameter", "t", "value").groupBy("site").applyInPandas(per_station, DAILY_SCHEMA)
