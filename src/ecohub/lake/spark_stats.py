"""PySpark jobs over the lake for the statistics that grow with history: the HJ 663 period evaluation of cities and
their ranking, completeness per site and day, emissions per outlet, pollutant and day.

Each job reads the lake's committed files of the days asked (partitions pruned by path), groups the rows the
way the statistic needs (a city and period, a site, an outlet) and hands each group to the same pure function
the embedded path uses (``applyInPandas``):

* ``hj663`` / ``rankings``: station daily values (:func:`ecohub.lake.spark_jobs.daily_aqi`, i.e.
  :func:`ecohub.lake.daily.station_daily`), city daily values (``hj663.city_daily``), then
  :func:`ecohub.analytics.period.city_period` per city and period; the rank over the cities of each period
  (:func:`ecohub.analytics.period.ranks`) in a second grouping by period. A station's city is
  ``aqi_service.city_of`` of its region code (the newest received row's);
* ``completeness``: :func:`ecohub.quality.completeness.slot_counts` per series and Beijing day, summed per site
  and day, :func:`ecohub.quality.completeness.rates`;
* ``emissions``: per outlet the hours of each parameter (``quality.outlets.hours_of``; hourly series preferred,
  else minute, else real-time), :func:`ecohub.supervision.permits.hourly.pollutant_emission` over the whole
  period's hour grid (so the HJ 75 gap substitution is that of the period), cut into Beijing days
  (:func:`ecohub.supervision.permits.rollup.day_totals`).

What the lake does not carry (``docs/scale.md``): QC flags stored by the quality worker (``qc_flag``) — validity
here is the device flag's (``quality.valid.validity_levels`` without QC levels), equal to the embedded path's
where QC flagged nothing; series that have no row in the period (the embedded completeness counts them with 0
received); the source id (repeated times of a series from several sources: the smallest source *name* is kept,
the embedded path keeps the smallest source id).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ecohub.lake.layout import OBSERVATIONS
from ecohub.lake.sync import committed_files

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession

PERIOD_STATS = ("so2", "no2", "pm10", "pm25", "co_p95", "o3_8h_p90")
HJ663_COLUMNS = ("city", "period", "first", "last", "stations", "days", "valid_days", *PERIOD_STATS, "index",
                 "primary", *(f"days_level_{k}" for k in range(1, 7)), "aqi_valid_days", "good_days", "good_share",
                 "heavy_days", "rank")
HJ663_SCHEMA = ("city string, period string, first string, last string, stations int, days int, valid_days int, "
                + ", ".join(f"{k} double" for k in PERIOD_STATS) + ", index double, primary string, "
                + ", ".join(f"days_level_{k} int" for k in range(1, 7))
                + ", aqi_valid_days int, good_days int, good_share double, heavy_days int, rank int")
COMPLETENESS_COLUMNS = ("site", "period", "expected", "received", "valid", "transmission_rate", "effective_rate",
                        "effective_transmission_rate")
COMPLETENESS_SCHEMA = ("site string, period string, expected long, received long, valid long, "
                       "transmission_rate double, effective_rate double, effective_transmission_rate double")
EMISSION_COLUMNS = ("site", "kind", "pollutant", "date", "kg", "hours_cou", "hours_cxq", "hours_stopped",
                    "hours_substituted", "missing_hours")
EMISSION_SCHEMA = ("site string, kind string, pollutant string, date string, kg double, hours_cou int, "
                   "hours_cxq int, hours_stopped int, hours_substituted int, missing_hours int")
OUTLET_KINDS = ("gas_outlet", "water_outlet")


def _days(d0: date, d1: date) -> list[date]:
    return [d0 + timedelta(days=i) for i in range((d1 - d0).days + 1)]


def read_rows(spark: SparkSession, lake: Path, d0: date, d1: date, *, kinds: Iterable[str] | None = None,
              intervals: Iterable[str] | None = None) -> DataFrame:
    """Every observation row of the lake's committed files for the Beijing days d0 … d1 (optionally only some site
    kinds and intervals), with the partition columns ``interval`` and ``kind``; one row per
    (site, parameter, interval, time): the smallest source name."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    wanted = {d.isoformat() for d in _days(d0, d1)}
    ks, ivs = set(kinds or ()), set(intervals or ())
    files = []
    for p in committed_files(lake):
        parts = dict(x.split("=", 1) for x in p.relative_to(Path(lake) / OBSERVATIONS).parts[:-1] if "=" in x)
        if parts.get("date") in wanted and (not ks or parts.get("kind") in ks) and \
                (not ivs or parts.get("interval") in ivs):
            files.append(str(p))
    if not files:
        raise ValueError(f"the lake at {lake} holds no {'/'.join(sorted(ks)) or 'observation'} data of "
                         f"{'/'.join(sorted(ivs)) or 'any'} interval for {d0} … {d1}: run 'ecohub lake sync'")
    df = (spark.read.option("basePath", str(Path(lake) / OBSERVATIONS)).parquet(*files)
          .select("site", "parameter", "interval", "kind", "region_code", "time", "value", "flag", "source",
                  "received_at"))
    w = Window.partitionBy("site", "parameter", "interval", "time").orderBy("source")
    return df.withColumn("_n", F.row_number().over(w)).where("_n = 1").drop("_n")


# --- HJ 663 period evaluation and ranking ------------------------------------------------------------------------
def _periods(d0: date, d1: date, by: str) -> dict[str, tuple[date, date]]:
    if by not in ("period", "month"):
        raise ValueError(f"by: {by!r} is not period or month")
    if by == "period":
        return {f"{d0.isoformat()}/{d1.isoformat()}": (d0, d1)}
    out: dict[str, tuple[date, date]] = {}
    for d in _days(d0, d1):
        a, b = out.get(d.strftime("%Y-%m"), (d, d))
        out[d.strftime("%Y-%m")] = (min(a, d), max(b, d))
    return out


def site_cities(spark: SparkSession, lake: Path, d0: date, d1: date) -> DataFrame:
    """(site, city) of the air stations with hourly data in d0 … d1: ``aqi_service.city_of`` of the region code
    of each station's newest received row."""
    from pyspark.sql import functions as F

    from ecohub.analytics.aqi_service import city_of

    rows = (read_rows(spark, lake, d0, d1, kinds=["air_station"], intervals=["hour"])
            .groupBy("site").agg(F.max_by("region_code", "received_at").alias("region_code")).collect())
    return spark.createDataFrame([(r["site"], city_of(r["region_code"])) for r in rows], "site string, city string")


def hj663(spark: SparkSession, lake: Path, d0: date, d1: date, *, by: str = "period") -> DataFrame:
    """The period evaluation of every city (columns :data:`HJ663_COLUMNS`), per whole period d0 … d1
    (``by="period"``) or per calendar month (``by="month"``), with the rank of the city among the period's."""
    import pandas as pd
    from pyspark.sql import functions as F

    from ecohub.analytics import period
    from ecohub.lake.spark_jobs import daily_aqi
    from ecohub.standards import hj663 as std

    periods = _periods(d0, d1, by)
    daily = daily_aqi(spark, lake, d0, d1).join(site_cities(spark, lake, d0, d1), "site")
    label = F.lit(next(iter(periods))) if by == "period" else F.substring("date", 1, 7)
    daily = daily.withColumn("period", label).select("city", "period", "site", "date", *period.KEYS)

    def per_city(pdf: pd.DataFrame) -> pd.DataFrame:
        lab = str(pdf["period"].iloc[0])
        a, b = periods[lab]
        days = _days(a, b)
        sites = sorted(pdf["site"].unique())
        i = pdf["site"].map({s: k for k, s in enumerate(sites)}).to_numpy()
        j = pdf["date"].map({d.isoformat(): k for k, d in enumerate(days)}).to_numpy()
        city = {}
        for k in period.KEYS:
            grid = np.full((len(sites), len(days)), np.nan)
            grid[i, j] = pdf[k].astype(float).to_numpy()
            city[k] = std.city_daily(grid, axis=0)[None, :]
        ev = period.city_period(city, days)
        row = {"city": str(pdf["city"].iloc[0]), "period": lab, "first": a.isoformat(), "last": b.isoformat(),
               "stations": len(sites), "days": len(days), **{k: ev[k][0] for k in ev if k in HJ663_COLUMNS}}
        row["primary"] = (str(row["primary"]) or None) if not np.isnan(row["index"]) else None
        return pd.DataFrame([row], columns=list(HJ663_COLUMNS[:-1]))

    cities = daily.groupBy("city", "period").applyInPandas(per_city, HJ663_SCHEMA.rsplit(", rank int", 1)[0])

    def rank_period(pdf: pd.DataFrame) -> pd.DataFrame:
        r = period.ranks(pdf["index"].astype(float).to_numpy())
        return pdf.assign(rank=pd.Series(r, index=pdf.index, dtype="Int32").mask(r <= 0))

    return cities.groupBy("period").applyInPandas(rank_period, HJ663_SCHEMA)


def rankings(spark: SparkSession, lake: Path, d0: date, d1: date) -> DataFrame:
    """The city ranking of the period d0 … d1 (the fields of ``analytics.rankings.ranking_from_daily``)."""
    return (hj663(spark, lake, d0, d1).select("city", "stations", "days", "valid_days", "index", "rank", "primary",
                                                *PERIOD_STATS)
            .orderBy("rank", "city"))


# --- completeness --------------------------------------------------------------------------------------------------
def completeness(spark: SparkSession, lake: Path, d0: date, d1: date) -> DataFrame:
    """Per site and Beijing day: expected, received and valid values summed over the site's series with a fixed
    interval (real-time left out) and the three rates (columns :data:`COMPLETENESS_COLUMNS`)."""
    import pandas as pd

    from ecohub.analytics.aqi_service import day_bounds
    from ecohub.quality.completeness import rates, slot_counts
    from ecohub.quality.valid import is_valid, validity_levels

    start, end = (int(t.timestamp()) for t in day_bounds(d0, d1))
    days = _days(d0, d1)
    rows = read_rows(spark, lake, d0, d1).selectExpr("site", "parameter", "interval", "cast(time as long) as t",
                                                     "value", "flag")

    def per_site(pdf: pd.DataFrame) -> pd.DataFrame:
        acc = np.zeros((len(days), 3), dtype=np.int64)
        for (_p, iv), g in pdf.groupby(["parameter", "interval"], sort=False):
            if iv == "rt":
                continue
            t = g["t"].to_numpy(np.int64)
            v = g["value"].astype(float).to_numpy()
            ok = is_valid(v, validity_levels(g["flag"].to_numpy(object)))
            for k in range(len(days)):
                lo = start + 86400 * k
                exp, rec, val = slot_counts(str(iv), t, ok, lo, lo + 86400, end)
                acc[k] += (exp or 0, rec, val)
        site = str(pdf["site"].iloc[0])
        out = [{"site": site, "period": d.isoformat(), "expected": int(e), "received": int(r), "valid": int(v),
                **rates(int(e), int(r), int(v))} for d, (e, r, v) in zip(days, acc.tolist(), strict=True)]
        return pd.DataFrame(out, columns=list(COMPLETENESS_COLUMNS))

    return rows.groupBy("site").applyInPandas(per_site, COMPLETENESS_SCHEMA)


# --- emissions -----------------------------------------------------------------------------------------------------
def emissions(spark: SparkSession, lake: Path, d0: date, d1: date) -> DataFrame:
    """Per outlet, pollutant and Beijing day: kg and hours by method (columns :data:`EMISSION_COLUMNS`), every
    pollutant whose mass the outlet kind's formula gives (``rollup.pollutant_of``)."""
    import pandas as pd

    from ecohub.analytics.aqi_service import day_bounds
    from ecohub.domain.timeutil import BEIJING
    from ecohub.quality.outlets import PREFERENCE, hours_of
    from ecohub.quality.valid import SeriesValues, is_valid, validity_levels
    from ecohub.supervision.permits import rollup
    from ecohub.supervision.permits.hourly import HOUR, pollutant_emission

    start, end = (int(t.timestamp()) for t in day_bounds(d0, d1))
    rows = read_rows(spark, lake, d0, d1, kinds=OUTLET_KINDS, intervals=list(PREFERENCE)).selectExpr(
        "site", "kind", "parameter", "interval", "cast(time as long) as t", "value", "flag")

    def per_outlet(pdf: pd.DataFrame) -> pd.DataFrame:
        from datetime import datetime

        site, kind = str(pdf["site"].iloc[0]), str(pdf["kind"].iloc[0])
        grid = np.arange(start, end, HOUR, dtype=np.int64)
        hours = {}
        for par, g in pdf.groupby("parameter", sort=False):
            iv = min(g["interval"].unique(), key=lambda x: PREFERENCE[x])
            g = g[g["interval"] == iv].sort_values("t")
            v = g["value"].astype(float).to_numpy()
            flags = g["flag"].to_numpy(object)
            lv = validity_levels(flags)
            hours[str(par)] = hours_of(SeriesValues(0, g["t"].to_numpy(np.int64), v, is_valid(v, lv), lv, flags),
                                       str(iv))
        out = []
        for par in sorted(hours):
            f = rollup.factor(kind, par) if rollup.pollutant_of(kind, par) else None
            if f is None:
                continue
            e = pollutant_emission(grid, kind, par, hours, f)
            for d, t in sorted(rollup.day_totals(e).items()):
                out.append({"site": site, "kind": kind, "pollutant": par,
                            "date": datetime.fromtimestamp(d, BEIJING).date().isoformat(), "kg": t.kg,
                            **{f"hours_{m}": t.hours[m] for m in ("cou", "cxq", "stopped", "substituted")},
                            "missing_hours": t.missing})
        return pd.DataFrame(out, columns=list(EMISSION_COLUMNS))

    return rows.groupBy("site", "kind").applyInPandas(per_outlet, EMISSION_SCHEMA)
