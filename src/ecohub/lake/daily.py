"""Station daily values and daily AQI from hourly observations — one pure definition for every engine.

Per Beijing natural day (GB 3095-2012 §3.10 / GB 3095-2026): the 24-h means of SO2, NO2, CO, PM10 and PM2.5
with at least :data:`ecohub.standards.gb3095.MIN_HOURS_DAY` valid hours (GB 3095 Table 4 / HJ 663 §6.1), the
O3 daily maximum 8-h mean of :func:`ecohub.standards.gb3095.daily_max_8h_o3`, then the daily AQI of
:func:`ecohub.standards.aqi_cn.aqi_daily` (HJ 633; edition by date; inputs rounded as published). The Spark
job (:mod:`ecohub.lake.spark_jobs`) applies :func:`station_daily` to each station's hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np

from ecohub.domain.timeutil import BEIJING
from ecohub.standards import aqi_cn, gb3095

MEANS = ("so2", "no2", "co", "pm10", "pm25")
COLUMNS = ("site", "date", "so2", "no2", "co", "pm10", "pm25", "o3_8h", "aqi", "level", "primary_pollutant")


def station_daily(site: str, times_epoch: np.ndarray, parameters: np.ndarray, values: np.ndarray,
                  d0: date, d1: date) -> dict[str, list]:
    """Daily values and AQI of one station for the Beijing days ``d0 … d1``.

    ``times_epoch``: hour starts (UTC epoch seconds); ``parameters``: names (``so2 … pm25``, ``o3``);
    ``values``: µg/m³ (CO mg/m³), NaN = missing. Hours outside the days are ignored. Returns columns
    :data:`COLUMNS` (one element per day; ``None`` where not valid).
    """
    n_days = (d1 - d0).days + 1
    start = int(datetime(d0.year, d0.month, d0.day, tzinfo=BEIJING).timestamp())
    h = (np.asarray(times_epoch, dtype=np.int64) - start) // 3600
    inside = (h >= 0) & (h < n_days * 24)
    grids: dict[str, np.ndarray] = {}
    for p in (*MEANS, "o3"):
        g = np.full(n_days * 24, np.nan)
        sel = inside & (np.asarray(parameters) == p)
        g[h[sel]] = np.asarray(values, dtype=float)[sel]
        grids[p] = g
    daily: dict[str, np.ndarray] = {}
    for p in MEANS:
        days = grids[p].reshape(n_days, 24)
        n_valid = np.sum(~np.isnan(days), axis=1)
        with np.errstate(invalid="ignore"):
            mean = np.nanmean(np.where(n_valid[:, None] > 0, days, 0.0), axis=1)
        daily[p] = np.where(n_valid >= gb3095.MIN_HOURS_DAY, mean, np.nan)
    daily["o3_8h"], _ = gb3095.daily_max_8h_o3(grids["o3"])
    day_list = [d0 + timedelta(days=i) for i in range(n_days)]
    t = np.array([np.datetime64(int(datetime(d.year, d.month, d.day, tzinfo=BEIJING).astimezone(UTC).timestamp()),
                                "s") for d in day_list])
    res = aqi_cn.aqi_daily(times=t, **{k: daily[k] for k in (*MEANS, "o3_8h")})
    ok = ~np.isnan(res.aqi)
    primary = res.primary_pollutant
    out: dict[str, list] = {c: [] for c in COLUMNS}
    for i, d in enumerate(day_list):
        out["site"].append(site)
        out["date"].append(d.isoformat())
        for k in (*MEANS, "o3_8h"):
            v = daily[k][i]
            out[k].append(None if np.isnan(v) else float(v))
        out["aqi"].append(int(res.aqi[i]) if ok[i] else None)
        out["level"].append(int(res.level[i]) if ok[i] else None)
        out["primary_pollutant"].append((str(primary[i]) or None) if ok[i] else None)
    return out
