"""Hourly values for the 72 hours of D+1 … D+3, where hourly history exists — consistent with the daily forecast.

The daily model forecasts each pollutant's daily value; the hours get their **shape** from the target's own
diurnal profile and their **level** from that daily forecast:

* profile (per pollutant, per hour of the Beijing day): over the last ``PROFILE_DAYS`` days with at least
  ``MIN_DAY_HOURS`` valid hours, the hourly value divided by the day's reference value, median per hour; the
  reference is the day's 24-h mean (SO2, NO2, CO, PM10, PM2.5) or, for O3 (1-h values), the day's maximum 8-h
  mean (windows of 8 consecutive hours within the day; the daily O3 forecast is the daily max 8-h, GB 3095-2012
  Table 1 note / HJ 633). At least ``MIN_PROFILE_DAYS`` such days are needed, else no hourly values for it;
* hours of a target day = profile × daily forecast / reference(profile), so **the day's mean of the hourly
  values equals the daily forecast** (O3: the day's max 8-h of the hourly values equals the daily O3_8h
  forecast) — the hourly and the daily forecast never disagree;
* hourly AQI, level and primary pollutant from the hourly values by HJ 633 (``aqi_cn.aqi_hourly``, CNEMC's
  real-time practice, the edition in force at each hour).

This is a disaggregation of the daily forecast, not a separate hourly model: its skill within the day is
that of a climatological diurnal cycle (stated in docs/forecast.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecohub.domain.timeutil import BEIJING
from ecohub.standards import aqi_cn

#: Hourly quantities (o3 = 1-h O3) and the daily forecast value each is scaled to.
HOURLY_OF_DAILY = {"so2": "so2", "no2": "no2", "co": "co", "o3": "o3_8h", "pm10": "pm10", "pm25": "pm25"}
PROFILE_DAYS = 28
MIN_PROFILE_DAYS = 7
MIN_DAY_HOURS = 18
HOURS = 72


@dataclass
class HourlyHistory:
    """Hourly values on whole Beijing days from ``first_day`` (``values[p]`` shape days × 24, NaN missing)."""

    first_day: np.datetime64
    values: dict[str, np.ndarray]

    @property
    def n_days(self) -> int:
        return next(iter(self.values.values())).shape[0] if self.values else 0


def _reference(x: np.ndarray, p: str) -> np.ndarray:
    """The day's reference value of rows of 24 hours: mean, or (O3) the maximum 8-h mean within the day."""
    with np.errstate(all="ignore"):
        if p != "o3":
            return np.nanmean(x, axis=-1)
        c = np.nancumsum(np.concatenate([np.zeros(x.shape[:-1] + (1,)), x], axis=-1), axis=-1)
        m8 = (c[..., 8:] - c[..., :-8]) / 8.0  # 17 windows: hours 0–7 … 16–23
        return np.max(m8, axis=-1)


def diurnal_profile(hh: HourlyHistory, p: str) -> np.ndarray | None:
    """The median ratio hour / day's reference over the last ``PROFILE_DAYS`` complete-enough days (24 values),
    or None when fewer than ``MIN_PROFILE_DAYS`` days qualify."""
    x = hh.values.get(p)
    if x is None or x.shape[0] == 0:
        return None
    x = x[-PROFILE_DAYS:]
    ok = np.count_nonzero(~np.isnan(x), axis=1) >= MIN_DAY_HOURS
    if int(ok.sum()) < MIN_PROFILE_DAYS:
        return None
    x = x[ok]
    filled = np.where(np.isnan(x), np.nanmean(x, axis=1, keepdims=True), x)  # a missing hour: the day's mean
    ref = _reference(filled, p)
    good = ref > 0
    if int(good.sum()) < MIN_PROFILE_DAYS:
        return None
    prof = np.nanmedian(x[good] / ref[good, None], axis=0)
    return np.where(np.isnan(prof), 1.0, prof)


def hourly_forecast(hh: HourlyHistory, days: list[dict]) -> list[dict]:
    """The hours of the forecast days (each ``{"day": ISO, "lead": 1…3, <daily pollutants>}``), 24 per day:
    ``{"time": UTC datetime, "lead_hour": 1…72, <pollutant>: value, "aqi", "level", "primary_pollutant"}``.
    Empty when no pollutant has a profile."""
    profiles = {p: diurnal_profile(hh, p) for p in HOURLY_OF_DAILY}
    if all(v is None for v in profiles.values()):
        return []
    rows: list[dict] = []
    out: dict[str, list[float]] = {p: [] for p in HOURLY_OF_DAILY}
    for d in sorted(days, key=lambda r: r["day"]):
        day = np.datetime64(str(d["day"])[:10], "D")
        for p, daily_key in HOURLY_OF_DAILY.items():
            prof, f = profiles[p], d.get(daily_key)
            if prof is None or f is None or not np.isfinite(f):
                out[p].extend([np.nan] * 24)
                continue
            ref = float(_reference(prof[None, :], p)[0])
            out[p].extend(list(prof * float(f) / ref) if ref > 0 else [np.nan] * 24)
        for h in range(24):
            local = (day + np.timedelta64(h, "h")).astype("datetime64[s]").astype(object)
            rows.append({"time": local.replace(tzinfo=BEIJING), "lead_hour": (int(d["lead"]) - 1) * 24 + h + 1})
    vals = {p: np.array(v, dtype=float) for p, v in out.items()}
    times = np.array([np.datetime64(int(r["time"].timestamp()), "s") for r in rows])
    res = aqi_cn.aqi_hourly(times=times, so2=vals["so2"], no2=vals["no2"], co=vals["co"], o3=vals["o3"],
                            pm10=vals["pm10"], pm25=vals["pm25"])
    for i, r in enumerate(rows):
        for p in HOURLY_OF_DAILY:
            r[p] = None if np.isnan(vals[p][i]) else round(float(vals[p][i]), 3)
        a = float(res.aqi[i])
        ok = np.isfinite(a) and not np.isnan(vals["pm25"][i])  # an hour's AQI only with its PM2.5 there
        r["aqi"] = a if ok else None
        r["level"] = int(aqi_cn.level_of([a])[0]) if ok else None
        r["primary_pollutant"] = (str(res.primary_pollutant[i]).replace("O3_1h", "O3") or None) if ok else None
    return rows


def from_hourly_series(first_day: np.datetime64, hours: dict[str, dict[np.datetime64, float]], n_days: int
                       ) -> HourlyHistory:
    """Arrange ``{p: {Beijing hour (datetime64[h]): value}}`` on ``n_days`` whole days from ``first_day``."""
    day0 = np.datetime64(str(first_day)[:10], "D")
    first = day0.astype("datetime64[h]")
    values = {}
    for p in HOURLY_OF_DAILY:
        a = np.full(n_days * 24, np.nan)
        for t, v in hours.get(p, {}).items():
            k = int((t - first).astype(int))
            if 0 <= k < a.size:
                a[k] = v
        values[p] = a.reshape(n_days, 24)
    return HourlyHistory(day0, values)
