"""The naive forecasts every forecast is verified against: persistence and climatology.

* **Persistence** — the day's AQI (and level) will be the last observed day's: D+h forecast issued after day D
  = the AQI of D (if D has no AQI, the latest AQI of the ``PERSIST_LOOKBACK`` days before; otherwise none).
* **Climatology** (same calendar period) — from the years before the forecast's issue: the AQI values of the
  days within ±``CLIM_WINDOW`` calendar days of the target day's day of year. The level forecast is the most
  frequent level of those days (mode; ties → the lower level), the AQI forecast their median, the range their
  25th–75th percentiles.

Both are the usual reference forecasts of forecast verification (Jolliffe & Stephenson, *Forecast
Verification*, 2nd ed., 2012, §2.7 "reference forecasts"); the window of ±15 days is our choice (documented in
docs/forecast.md) and gives 53 % exact level on Tianjin 2021-01 … 2022-05, as the issue quotes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecohub.forecast.calendar import day_of_year
from ecohub.standards.aqi_cn import level_of

CLIM_WINDOW = 15
PERSIST_LOOKBACK = 3
#: Minimum number of valid days in a calendar window for a climatology value.
CLIM_MIN_DAYS = 10


def persistence(aqi: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """AQI of the origin day (or the latest within ``PERSIST_LOOKBACK`` days before it); NaN if none."""
    aqi = np.asarray(aqi, float)
    origin = np.asarray(origin, int)
    out = np.full(origin.size, np.nan)
    for back in range(PERSIST_LOOKBACK + 1):
        k = origin - back
        ok = np.isnan(out) & (k >= 0)
        out[ok] = aqi[k[ok]]
    return out


@dataclass
class Climatology:
    """Per day of year (index 1 … 366): median AQI, 25/75 % quantiles, modal level, number of days used."""

    median: np.ndarray
    q25: np.ndarray
    q75: np.ndarray
    mode_level: np.ndarray
    count: np.ndarray
    extra: dict[str, np.ndarray]  # median per pollutant (log-free, same units), for the model's features

    def at(self, days: np.ndarray) -> dict[str, np.ndarray]:
        d = day_of_year(days)
        return {"aqi": self.median[d], "q25": self.q25[d], "q75": self.q75[d], "level": self.mode_level[d],
                **{k: v[d] for k, v in self.extra.items()}}


def climatology(days: np.ndarray, aqi: np.ndarray, extra: dict[str, np.ndarray] | None = None,
                window: int = CLIM_WINDOW) -> Climatology:
    """Climatology of the given (training) days; doys with fewer than ``CLIM_MIN_DAYS`` valid days are NaN."""
    doy = day_of_year(days)
    aqi = np.asarray(aqi, float)
    med, q25, q75 = (np.full(367, np.nan) for _ in range(3))
    mode = np.zeros(367, dtype=np.int8)
    cnt = np.zeros(367, dtype=int)
    extra = extra or {}
    ext = {k: np.full(367, np.nan) for k in extra}
    lv = level_of(aqi)
    for d in range(1, 367):
        dist = np.abs(doy - d)
        dist = np.minimum(dist, 366 - dist)
        m = dist <= window
        a = aqi[m]
        ok = ~np.isnan(a)
        cnt[d] = int(ok.sum())
        if cnt[d] < CLIM_MIN_DAYS:
            continue
        med[d], q25[d], q75[d] = np.percentile(a[ok], [50, 25, 75])
        mode[d] = int(np.bincount(lv[m][ok], minlength=7)[1:].argmax() + 1)
        for k, v in extra.items():
            vv = np.asarray(v, float)[m]
            vv = vv[~np.isnan(vv)]
            if vv.size >= CLIM_MIN_DAYS:
                ext[k][d] = np.median(vv)
    return Climatology(med, q25, q75, mode, cnt, ext)
