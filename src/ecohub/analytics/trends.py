"""Trends per site and parameter (Mann–Kendall, Sen's slope; seasonal Kendall for monthly series) and the
pollutant–meteorology correlation, from stored observations within the caller's scope.

* Daily values: hourly series → Beijing-day means with ≥ 20 hours (GB 3095-2012 Table 4); a stored daily series
  is taken as it is. Monthly values: means of the valid days, valid with ≥ 27 days (February ≥ 25;
  GB 3095-2012 Table 4, ``gb3095.MIN_DAYS_MONTH``). Missing periods stay NaN (gaps, not shifts).
* ``interval="month"`` → seasonal Kendall (period 12), slope per year; ``interval="day"`` → plain
  Mann–Kendall, slope per day (:mod:`ecohub.analytics.mannkendall`, checked against pymannkendall).
* Correlation: hourly pairs of the pollutant and each meteorological parameter at the same site and hour;
  Pearson r and Spearman ρ with their two-sided p-values (scipy.stats).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

import numpy as np

from ecohub.analytics.aqi_service import day_bounds
from ecohub.analytics.mannkendall import mann_kendall, seasonal_mann_kendall
from ecohub.standards import gb3095
from ecohub.store.db import Store
from ecohub.store.queries import Scope, SeriesFilter, aggregate, observations
from ecohub.store.queries import sites as list_sites

METEO = ("temp", "humidity", "wind_speed", "pressure")


class NoData(ValueError):
    """The request is well-formed but the store holds too little data for it (the message says what)."""


def _months(d0: date, d1: date) -> list[tuple[int, int]]:
    out, y, m = [], d0.year, d0.month
    while (y, m) <= (d1.year, d1.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def daily_values(store: Store, site: str, parameter: str, d0: date, d1: date, *,
                 scope: Scope | None = None) -> tuple[list[date], np.ndarray]:
    """Valid daily means (see the module doc) for every Beijing day d0 … d1; NaN where invalid."""
    start, end = day_bounds(d0, d1)
    n = (d1 - d0).days + 1
    days = [date.fromordinal(d0.toordinal() + i) for i in range(n)]
    vals = np.full(n, np.nan)
    for r in aggregate(store, SeriesFilter(sites=[site], parameters=[parameter]), "day", start, end, scope=scope):
        j = (date.fromisoformat(r["window"][:10]) - d0).days
        if not 0 <= j < n or r["mean"] is None:
            continue
        need = gb3095.MIN_HOURS_DAY if r["interval"] in ("hour", "minute", "rt") else 1
        if r["count"] >= need and np.isnan(vals[j]):
            vals[j] = float(r["mean"])
    return days, vals


def monthly_from_daily(days: list[date], vals: np.ndarray) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Monthly means of valid days; NaN where fewer than 27 (February 25) valid days (GB 3095 Table 4)."""
    if not days:
        return [], np.array([])
    months = _months(days[0], days[-1])
    index = {ym: i for i, ym in enumerate(months)}
    acc: dict[int, list[float]] = defaultdict(list)
    for d, v in zip(days, vals, strict=True):
        if not np.isnan(v):
            acc[index[(d.year, d.month)]].append(float(v))
    out = np.full(len(months), np.nan)
    for i, (_y, m) in enumerate(months):
        need = gb3095.MIN_DAYS_FEBRUARY if m == 2 else gb3095.MIN_DAYS_MONTH
        if len(acc[i]) >= need:
            out[i] = float(np.mean(acc[i]))
    return months, out


def trend_of_series(values: np.ndarray, interval: str, alpha: float = 0.05) -> dict:
    if interval == "month":
        res = seasonal_mann_kendall(values, 12, alpha)
        unit = "per year"
    elif interval == "day":
        res = mann_kendall(values, alpha)
        unit = "per day"
    else:
        raise ValueError(f"interval: {interval!r} is not month or day")
    return {**res.to_dict(), "slope_unit": unit, "alpha": alpha}


def site_trend(store: Store, site: str, parameter: str, d0: date, d1: date, *, interval: str = "month",
               alpha: float = 0.05, scope: Scope | None = None) -> dict:
    """Trend of one site's parameter over Beijing days d0 … d1 (see the module doc). Raises :class:`NoData`
    when the site is unknown to the scope or has too few valid values, ``ValueError`` for bad arguments."""
    if d1 < d0:
        raise ValueError("from: the first day is after the last day")
    st = list_sites(store, codes=[site], scope=scope)
    if not st:
        raise NoData(f"site: {site!r} is not a site you may see")
    days, dv = daily_values(store, site, parameter, d0, d1, scope=scope)
    if interval == "month":
        months, series = monthly_from_daily(days, dv)
        labels = [f"{y:04d}-{m:02d}" for y, m in months]
    else:
        series, labels = dv, [d.isoformat() for d in days]
    valid = int(np.sum(~np.isnan(series)))
    need = 24 if interval == "month" else 10
    if valid < need:
        raise NoData(f"{site} {parameter}: {valid} valid {interval}ly values from {d0} to {d1}; "
                     f"the {'seasonal ' if interval == 'month' else ''}Mann–Kendall test here needs at least {need}")
    res = trend_of_series(series, interval, alpha)
    return {"site": site, "name": st[0]["name"], "parameter": parameter, "interval": interval,
            "from": d0.isoformat(), "to": d1.isoformat(), "valid": valid, **res,
            "series": [{"period": lab, "value": None if np.isnan(v) else round(float(v), 3)}
                       for lab, v in zip(labels, series, strict=True)]}


def correlation(store: Store, site: str, parameter: str, start: datetime, end: datetime, *,
                meteo: tuple[str, ...] = METEO, scope: Scope | None = None) -> list[dict]:
    """Pearson and Spearman correlation of hourly ``parameter`` with each meteorological parameter."""
    from scipy import stats

    by: dict[str, dict[int, float]] = defaultdict(dict)
    flt = SeriesFilter(sites=[site], parameters=[parameter, *meteo], interval="hour")
    for r in observations(store, flt, start, end, scope=scope):
        if r["value"] is not None:
            by[r["parameter"]][int(r["time"].timestamp())] = float(r["value"])
    out = []
    base = by.get(parameter, {})
    for m in meteo:
        common = sorted(set(base) & set(by.get(m, {})))
        row: dict = {"site": site, "parameter": parameter, "with": m, "n": len(common)}
        if len(common) >= 10:
            x = np.array([base[t] for t in common])
            y = np.array([by[m][t] for t in common])
            pr, pp = stats.pearsonr(x, y)
            sr, sp = stats.spearmanr(x, y)
            row.update(pearson_r=round(float(pr), 4), pearson_p=float(pp), spearman_rho=round(float(sr), 4),
                       spearman_p=float(sp))
        else:
            row.update(pearson_r=None, pearson_p=None, spearman_rho=None, spearman_p=None)
        out.append(row)
    return out
