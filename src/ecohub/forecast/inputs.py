"""Inputs of the operational run read from the store: the meteorology and the hourly air-quality history of a
city (every site of it, hour by hour averaged) or of one station, as imported through the ordinary paths."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

import numpy as np

from ecohub.domain.timeutil import BEIJING
from ecohub.forecast.hourly import HOURLY_OF_DAILY, PROFILE_DAYS, HourlyHistory, from_hourly_series
from ecohub.forecast.met import RANGES, DailyMet, daily_from_hourly
from ecohub.store.db import Store
from ecohub.store.queries import SYSTEM, SeriesFilter, observations, region_prefix

HISTORY_DAYS = 730


def _day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=BEIJING)


def _hourly_means(store: Store, city: str, site: str | None, params: dict[str, tuple[str, float]], start: datetime,
                  end: datetime, *, kinds: tuple[str, ...] = ()) -> dict[str, dict[np.datetime64, list[float]]]:
    """``{quantity: {Beijing hour: [values of the sites]}}`` of the hourly series of ``params`` (stored name →
    (quantity, unit factor)) at the city's sites (or one ``site``), ``start`` ≤ time < ``end``."""
    flt = SeriesFilter(sites=[site] if site else (), region_prefix=None if site else region_prefix(city),
                       parameters=list(params), interval="hour", kinds=kinds)
    out: dict[str, dict[np.datetime64, list[float]]] = defaultdict(dict)
    for r in observations(store, flt, start, end, scope=SYSTEM):
        v = r["value"]
        if v is None:
            continue
        q, f = params[r["parameter"]]
        t = np.datetime64(r["time"].astimezone(BEIJING).replace(tzinfo=None), "h")
        out[q].setdefault(t, []).append(float(v) * f)
    return out


def stored_hourly(store: Store, city: str, until: date, *, site: str | None = None) -> HourlyHistory | None:
    """The hourly history of the six pollutants (air stations of the city averaged hour by hour, or one
    station) over the ``PROFILE_DAYS`` days up to ``until`` — the diurnal profiles of ``forecast.hourly``. None
    when nothing is stored."""
    d0 = until - timedelta(days=PROFILE_DAYS - 1)
    by = _hourly_means(store, city, site, {p: (p, 1.0) for p in HOURLY_OF_DAILY}, _day_start(d0),
                       _day_start(until + timedelta(days=1)), kinds=("air_station",))
    if not by:
        return None
    means = {p: {t: float(np.mean(v)) for t, v in hours.items()} for p, hours in by.items()}
    return from_hourly_series(np.datetime64(d0.isoformat(), "D"), means, PROFILE_DAYS)


#: Stored meteorological parameters (``domain.parameters``, group ``meteo``) → the met module's quantity and the
#: factor to its unit (pressure kPa → hPa).
STORED_MET = {"temp": ("temp", 1.0), "humidity": ("rh", 1.0), "pressure": ("pres", 10.0),
              "wind_speed": ("wspm", 1.0), "wind_dir": ("wd", 1.0)}
MET_LEAD_DAYS = 4  # a forecast feed stored ahead of time is read up to D+3


def stored_met(store: Store, city: str, until: date, *, days: int = HISTORY_DAYS, site: str | None = None
               ) -> DailyMet | None:
    """The meteorology stored for a city (every site of it with met parameters, hour by hour averaged) or one
    station, hourly series, reduced to Beijing days (``forecast.met.daily_from_hourly``) from ``days`` before
    ``until`` to ``until`` + 3 days (values stored for days ahead — a met bureau forecast feed imported as any
    series — are forecasts of the target days). None when nothing is stored. Values outside the plausible
    ranges of ``forecast.met.RANGES`` are missing."""
    d0 = until - timedelta(days=days - 1)
    sums = _hourly_means(store, city, site, STORED_MET, _day_start(d0),
                         _day_start(until + timedelta(days=MET_LEAD_DAYS)))
    if not sums:
        return None
    stamps = np.array(sorted({t for by in sums.values() for t in by}), dtype="datetime64[h]")
    hourly: dict[str, np.ndarray] = {}
    for q, by in sums.items():
        vals = np.array([_mean_dir(by[t]) if q == "wd" and t in by else float(np.mean(by[t])) if t in by
                         else np.nan for t in stamps])
        if q in RANGES:
            lo, hi = RANGES[q]
            vals[(vals < lo) | (vals > hi)] = np.nan
        hourly[q] = vals
    return daily_from_hourly(stamps, hourly, f"stored:{site or city}", "hourly")


def _mean_dir(deg: list[float]) -> float:
    """Mean of wind directions (degrees) as the direction of the mean unit vector."""
    r = np.deg2rad(np.asarray(deg))
    return float(np.rad2deg(np.arctan2(np.sin(r).mean(), np.cos(r).mean())) % 360)
