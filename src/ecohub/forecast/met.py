"""Meteorology as model input: read an hourly or daily file, reduce it to Beijing-day features.

A met bureau feed is a data source like any other; this module accepts the common shapes:

* **hourly** — either ``year, month, day, hour`` columns (the UCI Beijing Multi-Site layout, Beijing local
  time) or one ``time`` column (ISO-8601, Beijing time when no offset); several stations in one file are
  averaged hour by hour;
* **daily** — a ``date`` (or ``time_point`` / ``day``) column with YYYY-MM-DD.

Recognised quantities (case-insensitive names): temperature ``temp``/``temperature``/``t2m`` (°C), dew point
``dewp``/``dew_point``/``td`` (°C), relative humidity ``rh``/``humidity`` (%), pressure ``pres``/``pressure``
(hPa), precipitation ``rain``/``precip``/``prcp`` (mm), wind speed ``wspm``/``wind_speed``/``ws`` (m/s), wind
direction ``wd``/``wind_dir`` (16-point compass text or degrees, the direction the wind blows **from**),
boundary-layer height ``blh``/``pblh`` (m). Anything else is ignored.

Daily reduction (hourly input): means of temperature, dew point, humidity, pressure, wind speed, BLH;
precipitation summed; wind as the mean of the vector components ``u = −ws·sin θ``, ``v = −ws·cos θ``
(meteorological convention, θ = direction the wind comes from; WMO-No. 8, Part I, ch. 5). A day needs at least
``MIN_HOURS`` valid hours of a quantity, else that quantity is missing for the day. Relative humidity, when not
given, is computed from temperature and dew point with the Magnus formula of Alduchov & Eskridge (1996,
J. Appl. Meteor. 35, 601–609): e_s(T) = 6.1094·exp(17.625·T / (T + 243.04)) hPa, RH = 100·e_s(Td)/e_s(T).
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from ecohub.forecast.history import Problem

MIN_HOURS = 12
QUANTITIES = ("temp", "dewp", "rh", "pres", "rain", "wspm", "u", "v", "blh")
ALIASES = {
    "temp": ("temp", "temperature", "t2m", "tem", "air_temperature"),
    "dewp": ("dewp", "dew_point", "dewpoint", "td"),
    "rh": ("rh", "humidity", "relative_humidity"),
    "pres": ("pres", "pressure", "prs", "psfc"),
    "rain": ("rain", "precip", "precipitation", "prcp", "pre"),
    "wspm": ("wspm", "wind_speed", "ws", "wspd"),
    "wd": ("wd", "wind_dir", "wdir", "wind_direction"),
    "blh": ("blh", "pblh", "boundary_layer_height"),
}
COMPASS = {name: i * 22.5 for i, name in enumerate(
    "N NNE NE ENE E ESE SE SSE S SSW SW WSW W WNW NW NNW".split())}
#: Physically plausible ranges; values outside are missing (reported).
RANGES = {"temp": (-60, 60), "dewp": (-80, 40), "rh": (0, 100), "pres": (500, 1100), "rain": (0, 500),
          "wspm": (0, 75), "blh": (0, 6000)}


@dataclass
class DailyMet:
    """Daily meteorology on the calendar ``days``; ``values[q]`` NaN where missing."""

    days: np.ndarray
    values: dict[str, np.ndarray]
    source: str = ""
    kind: str = "daily"  # hourly | daily (what the file held)
    problems: list[Problem] = field(default_factory=list)
    #: ``target``: the values cover the days forecast (a weather forecast — or observed weather used as a perfect
    #: forecast in backtests): features of the target day and the day before. ``origin``: observed weather only
    #: (what a stored station feed gives at issue time): features of the origin day and the day before it.
    use: str = "target"

    def on(self, days: np.ndarray) -> dict[str, np.ndarray]:
        """The values on other days (NaN where this file has none)."""
        days = np.asarray(days, dtype="datetime64[D]")
        out = {q: np.full(days.size, np.nan) for q in self.values}
        if self.days.size == 0:
            return out
        k = (days - self.days[0]).astype(int)
        ok = (k >= 0) & (k < self.days.size)
        for q, v in self.values.items():
            out[q][ok] = v[k[ok]]
        return out

    def covers(self, days: np.ndarray) -> bool:
        """True when every one of ``days`` has at least one quantity."""
        vals = self.on(days)
        if not vals:
            return False
        have = np.zeros(np.asarray(days).size, dtype=bool)
        for v in vals.values():
            have |= ~np.isnan(v)
        return bool(have.all())

    def span(self) -> tuple[str, str] | None:
        return (str(self.days[0]), str(self.days[-1])) if self.days.size else None


def magnus_rh(temp: np.ndarray, dewp: np.ndarray) -> np.ndarray:
    """Relative humidity (%) from temperature and dew point (°C), Alduchov & Eskridge (1996) Magnus form."""
    def es(t: np.ndarray) -> np.ndarray:
        return 6.1094 * np.exp(17.625 * t / (t + 243.04))

    with np.errstate(invalid="ignore"):
        return np.clip(100.0 * es(np.asarray(dewp, float)) / es(np.asarray(temp, float)), 0.0, 100.0)


def wind_components(speed: np.ndarray, direction_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """u (towards east) and v (towards north), m/s, of a wind blowing from ``direction_deg``."""
    th = np.deg2rad(direction_deg)
    return -speed * np.sin(th), -speed * np.cos(th)


def _direction(col: pl.Series) -> np.ndarray:
    txt = col.cast(pl.Utf8).str.strip_chars().str.to_uppercase().to_list()
    out = np.full(len(txt), np.nan)
    for i, t in enumerate(txt):
        if t is None or t == "" or t == "NA":
            continue
        if t in COMPASS:
            out[i] = COMPASS[t]
        else:
            try:
                v = float(t)
            except ValueError:
                continue
            if 0 <= v <= 360:
                out[i] = v % 360
    return out


def _num(df: pl.DataFrame, col: str) -> np.ndarray:
    return df[col].cast(pl.Utf8).str.strip_chars().cast(pl.Float64, strict=False).to_numpy().astype(float)


def read_met_file(path: str | Path) -> DailyMet:
    """Read an hourly or daily meteorology file (CSV, optionally gzip) into daily features."""
    from ecohub.domain.errors import InputError

    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise InputError("met", str(path), f"cannot read the file: {e.strerror or e}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise InputError("met", str(path), f"unreadable gzip: {e}") from None
    try:
        df = pl.read_csv(io.BytesIO(raw), infer_schema=False, encoding="utf8-lossy", null_values=["NA", ""])
    except pl.exceptions.PolarsError as e:
        raise InputError("met", str(path), f"not a CSV file: {e}") from None
    df = df.rename({c: c.strip().lstrip("\ufeff").lower() for c in df.columns})
    cols = set(df.columns)
    found = {q: next((a for a in names if a in cols), None) for q, names in ALIASES.items()}
    if not any(found.values()):
        raise InputError("met", str(path), "no meteorological column found (expected e.g. temp, dewp, pres, "
                         "rain, wspm, wd, rh, blh)")
    problems: list[Problem] = []
    if {"year", "month", "day", "hour"} <= cols:
        y, m, d, h = (_num(df, c) for c in ("year", "month", "day", "hour"))
        ok = ~(np.isnan(y) | np.isnan(m) | np.isnan(d) | np.isnan(h))
        stamps = np.full(len(df), np.datetime64("NaT"), dtype="datetime64[h]")
        for i in np.flatnonzero(ok):  # plain loop over valid rows; dates built once per row
            try:
                stamps[i] = np.datetime64(f"{int(y[i]):04d}-{int(m[i]):02d}-{int(d[i]):02d}", "h") + int(h[i])
            except ValueError:
                pass
        kind = "hourly"
    else:
        tcol = next((c for c in ("time", "datetime", "date", "time_point", "day") if c in cols), None)
        if tcol is None:
            raise InputError("met", str(path), "no time column (year/month/day/hour, time, date or time_point)")
        txt = df[tcol].cast(pl.Utf8).str.strip_chars()
        kind = "hourly" if (txt.str.len_chars().fill_null(0) > 10).any() else "daily"
        parsed = txt.str.slice(0, 16).str.replace("T", " ").str.to_datetime("%Y-%m-%d %H:%M", strict=False) \
            if kind == "hourly" else txt.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime)
        stamps = parsed.to_numpy().astype("datetime64[h]")
    bad = np.isnat(stamps)
    if bad.any():
        problems.append(Problem(int(np.flatnonzero(bad)[0]) + 2, "time", None,
                                f"{int(bad.sum())} row(s) without a valid time; rejected"))
    if bad.all():
        raise InputError("met", str(path), "no row with a valid time")
    hourly: dict[str, np.ndarray] = {}
    for q, col in found.items():
        if col is None:
            continue
        v = _direction(df[col]) if q == "wd" else _num(df, col)
        if q in RANGES:
            lo, hi = RANGES[q]
            out = ~np.isnan(v) & ((v < lo) | (v > hi))
            if out.any():
                problems.append(Problem(None, col, None, f"{int(out.sum())} value(s) outside {lo}…{hi}; "
                                                         "taken as missing"))
                v[out] = np.nan
        hourly[q] = v[~bad]
    return daily_from_hourly(stamps[~bad], hourly, p.name, kind, problems)


def daily_from_hourly(stamps: np.ndarray, hourly: dict[str, np.ndarray], source: str = "", kind: str = "hourly",
                      problems: list[Problem] | None = None, *, use: str = "target") -> DailyMet:
    """Reduce timed values (``stamps`` Beijing local, ``datetime64``; ``hourly[q]`` per stamp, NaN missing; wind
    direction as ``wd`` degrees) to Beijing-day features (the module's rules). ``kind`` ``daily`` takes the
    values as daily ones."""
    problems = list(problems or [])
    hourly = dict(hourly)
    stamps = np.asarray(stamps).astype("datetime64[h]")
    if "wspm" in hourly and "wd" in hourly:
        hourly["u"], hourly["v"] = wind_components(hourly["wspm"], hourly.pop("wd"))
    hourly.pop("wd", None)
    if "rh" not in hourly and "temp" in hourly and "dewp" in hourly:
        hourly["rh"] = magnus_rh(hourly["temp"], hourly["dewp"])
    days_of = stamps.astype("datetime64[D]")
    d0, d1 = days_of.min(), days_of.max()
    grid = np.arange(d0, d1 + np.timedelta64(1, "D"), dtype="datetime64[D]")
    k = (days_of - d0).astype(int)
    values: dict[str, np.ndarray] = {}
    for q, v in hourly.items():
        ok = ~np.isnan(v)
        cnt = np.bincount(k[ok], minlength=grid.size).astype(float)
        tot = np.bincount(k[ok], weights=v[ok], minlength=grid.size)
        if kind == "hourly":
            # several stations in one file: count station-hours; the day needs MIN_HOURS distinct hours' worth
            hours = np.bincount(k[ok] * 24 + (stamps[ok] - days_of[ok]).astype(int), minlength=grid.size * 24)
            nh = (hours.reshape(grid.size, 24) > 0).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = tot / cnt
            if q == "rain":
                mean = mean * nh  # station-mean hourly precipitation summed over the day
            mean[nh < MIN_HOURS] = np.nan
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = tot / cnt
        values[q] = mean
    return DailyMet(grid, values, source, kind, problems, use)
