"""HJ 663 period evaluation of cities from their daily values — one pure definition for every engine.

Input: city daily values ``{key: array (n_cities, n_days)}`` for the keys ``so2, no2, co, pm10, pm25, o3_8h``
(the mean of the city's valid station values, ``hj663.city_daily``; NaN = not valid) over the Beijing days
``days``. Per city (row):

* period means of SO2, NO2, PM10, PM2.5; the 95th percentile of CO daily means and the 90th percentile of O3
  daily max 8-h (HJ 663-2013 Appendix A, ``hj663.percentile``), each rounded as published
  (``hj663.round_stat``, GB/T 8170);
* the comprehensive index I_sum (``hj663.comprehensive_index``, 城市环境空气质量排名技术规定, GB 3095-2012
  class 2 limits), rounded to 0.01, and its primary pollutant(s); the rank over the cities is
  ``hj663.rank`` of the index (a cross-city step: the caller applies it to all cities of the period);
* with ``with_aqi``: the city daily AQI (``aqi_cn.aqi_daily``, HJ 633, edition by date) and the day statistics of
  ``hj663.aqi_day_statistics`` — days per level, valid days, good days (优良天数, levels I–II: the compliance
  days), their share, and heavy-pollution days (levels V–VI).

The embedded path (``analytics.rankings``, ``reports.figures``) calls it with all cities at once, the Spark job
(``ecohub.lake.spark_jobs.hj663``) with one city per group: the functions are row-wise, so the numbers agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import numpy as np

from ecohub.domain.timeutil import BEIJING
from ecohub.standards import aqi_cn, hj663

KEYS = ("so2", "no2", "co", "pm10", "pm25", "o3_8h")
#: published statistics: output key → (daily key, statistic)
STATS = {"so2": ("so2", "mean"), "no2": ("no2", "mean"), "pm10": ("pm10", "mean"), "pm25": ("pm25", "mean"),
         "co_p95": ("co", 95), "o3_8h_p90": ("o3_8h", 90)}


def day_starts(days: Sequence[date]) -> np.ndarray:
    """UTC instants (datetime64[s]) of the Beijing days' starts (the AQI edition is chosen by them)."""
    return np.array([np.datetime64(int(datetime(d.year, d.month, d.day, tzinfo=BEIJING).astimezone(UTC)
                                       .timestamp()), "s") for d in days])


def city_daily_aqi(city: dict[str, np.ndarray], days: Sequence[date]) -> tuple[np.ndarray, np.ndarray]:
    """Daily AQI (float, NaN = none) and level (0 = none) of each city and day, shape (n_cities, n_days)."""
    n, nd = np.asarray(city["pm25"]).shape
    times = np.tile(day_starts(days), n)
    flat = {k: np.asarray(city[k], dtype=float).reshape(-1) for k in KEYS}
    res = aqi_cn.aqi_daily(times=times, **flat)
    return np.asarray(res.aqi, dtype=float).reshape(n, nd), np.asarray(res.level).reshape(n, nd)


def city_period(city: dict[str, np.ndarray], days: Sequence[date], *, with_aqi: bool = True) -> dict[str, np.ndarray]:
    """The period evaluation of each city (module doc): arrays of length n_cities keyed by the :data:`STATS`
    keys (rounded), ``index``, ``primary``, ``I_<p>``, ``valid_days`` (days with a valid PM2.5) and, with
    ``with_aqi``, ``days_level_1`` … ``days_level_6``, ``aqi_valid_days``, ``good_days``, ``good_share``,
    ``heavy_days``."""
    stats: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for out_key, (k, stat) in STATS.items():
            a = np.asarray(city[k], dtype=float)
            if stat == "mean":
                n = np.sum(~np.isnan(a), axis=1)
                stats[out_key] = np.where(n > 0, np.nansum(a, axis=1) / np.where(n > 0, n, 1), np.nan)
            else:
                stats[out_key] = hj663.percentile(a, stat, axis=1)
    rounded = {p: hj663.round_stat(v, "co" if p == "co_p95" else p) for p, v in stats.items()}
    idx = hj663.comprehensive_index(so2=rounded["so2"], no2=rounded["no2"], pm10=rounded["pm10"],
                                    pm25=rounded["pm25"], co_p95=rounded["co_p95"], o3_8h_p90=rounded["o3_8h_p90"])
    out: dict[str, np.ndarray] = dict(rounded)
    out["index"] = np.round(np.asarray(idx["index"], dtype=float), 2)
    out["primary"] = np.asarray(idx["primary"])
    out.update({k: np.asarray(v) for k, v in idx.items() if k.startswith("I_")})
    out["valid_days"] = np.sum(~np.isnan(np.asarray(city["pm25"], dtype=float)), axis=1)
    if with_aqi:
        _aqi, levels = city_daily_aqi(city, days)
        st = hj663.aqi_day_statistics(levels, axis=1)
        out.update({f"days_level_{k}": st[f"days_level_{k}"] for k in range(1, 7)})
        out["aqi_valid_days"] = st["valid_days"]
        out["good_days"] = st["good_days"]
        out["good_share"] = st["good_share"]
        out["heavy_days"] = st["days_level_5"] + st["days_level_6"]
    return out


def ranks(index: np.ndarray) -> np.ndarray:
    """Rank of each city by its (already rounded) index: ``hj663.rank``, 0 = unranked (no index)."""
    return hj663.rank(np.asarray(index, dtype=float))
