"""GB 3095 ambient air quality standard: limits by edition/date/zone class, data validity, moving means.

Units: µg/m³ (CO mg/m³). Gases at the reference state 298.15 K / 1013.25 hPa, particulates at actual
conditions (GB 3095-2012 amendment 2018; GB 3095-2026 §3.14, §4.3).

Limits — GB 3095-2012 Table 1/Table 2; GB 3095-2026 Table 1 (basic items, transition limits to 2030-12-31,
final limits from 2031-01-01) and Table 2 (other items). Edition codes: 2012, 2026 (transition), 2031
(final) — see :func:`ecohub.standards.editions.gb3095_edition`.

Data validity — GB 3095-2012 Table 4 (§8); GB 3095-2026 Table 4:
* 1-h mean: ≥ 45 min of sampling in the hour;
* 8-h O3 mean: ≥ 6 hourly values in the 8 hours;
* 24-h mean (SO2, NO2, CO, PM10, PM2.5, NOx): ≥ 20 hourly values in the natural day;
* monthly mean: ≥ 27 daily values (February ≥ 25); annual mean: ≥ 324 daily values;
* O3 daily max 8-h: ≥ 14 valid 8-h means among the 17 windows of the day ending 08:00 … 24:00; with fewer,
  the result still counts when it exceeds the limit (HJ 663-2013 §6.1.2 / HJ 663-2026 §6.1.2 as reported by
  implementations — text UNCONFIRMED, see docs/standards.md).

Hour grid convention of the functions below: an hourly array's last axis is a regular hour grid; element
``i`` is the hour **ending** at ``start + i + 1`` h (CNEMC labels, hour 1 … 24 of a natural day). Day
arrays are ``(..., n_days, 24)`` with position 0 = 00:00–01:00 of that natural day.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .editions import GB3095_2012, GB3095_2026_FINAL, GB3095_2026_TRANSITION, gb3095_edition

_E = (GB3095_2012, GB3095_2026_TRANSITION, GB3095_2026_FINAL)
#: LIMITS[(pollutant, averaging)] = {edition: (class 1, class 2)}, µg/m³ (CO mg/m³).
LIMITS: dict[tuple[str, str], dict[int, tuple[float, float]]] = {
    ("so2", "annual"): dict(zip(_E, [(20, 60), (20, 60), (20, 20)], strict=True)),
    ("so2", "24h"): dict(zip(_E, [(50, 150), (50, 150), (50, 50)], strict=True)),
    ("so2", "1h"): dict(zip(_E, [(150, 500), (150, 500), (150, 150)], strict=True)),
    ("no2", "annual"): dict(zip(_E, [(40, 40), (40, 40), (30, 30)], strict=True)),
    ("no2", "24h"): dict(zip(_E, [(80, 80), (80, 80), (50, 50)], strict=True)),
    ("no2", "1h"): dict(zip(_E, [(200, 200)] * 3, strict=True)),
    ("co", "24h"): dict(zip(_E, [(4, 4)] * 3, strict=True)),
    ("co", "1h"): dict(zip(_E, [(10, 10)] * 3, strict=True)),
    ("o3", "8h"): dict(zip(_E, [(100, 160)] * 3, strict=True)),
    ("o3", "1h"): dict(zip(_E, [(160, 200)] * 3, strict=True)),
    ("pm10", "annual"): dict(zip(_E, [(40, 70), (40, 60), (20, 50)], strict=True)),
    ("pm10", "24h"): dict(zip(_E, [(50, 150), (50, 120), (50, 100)], strict=True)),
    ("pm25", "annual"): dict(zip(_E, [(15, 35), (15, 30), (10, 25)], strict=True)),
    ("pm25", "24h"): dict(zip(_E, [(35, 75), (35, 60), (25, 50)], strict=True)),
    ("tsp", "annual"): dict(zip(_E, [(80, 200)] * 3, strict=True)),
    ("tsp", "24h"): dict(zip(_E, [(120, 300)] * 3, strict=True)),
    ("nox", "annual"): dict(zip(_E, [(50, 50), (50, 50), (40, 40)], strict=True)),
    ("nox", "24h"): dict(zip(_E, [(100, 100), (100, 100), (70, 70)], strict=True)),
    ("nox", "1h"): dict(zip(_E, [(250, 250)] * 3, strict=True)),
    ("pb", "annual"): dict(zip(_E, [(0.5, 0.5)] * 3, strict=True)),
    ("pb", "quarterly"): dict(zip(_E, [(1.0, 1.0)] * 3, strict=True)),
    ("bap", "annual"): dict(zip(_E, [(0.001, 0.001)] * 3, strict=True)),
    ("bap", "24h"): dict(zip(_E, [(0.0025, 0.0025)] * 3, strict=True)),
}

#: Minimum-data rules (GB 3095-2012 Table 4 / GB 3095-2026 Table 4; O3 daily max 8-h: HJ 663 §6.1.2).
MIN_MINUTES_PER_HOUR = 45
MIN_HOURS_8H = 6
MIN_HOURS_DAY = 20
MIN_8H_WINDOWS_DAY = 14
MIN_DAYS_MONTH = 27
MIN_DAYS_FEBRUARY = 25
MIN_DAYS_YEAR = 324


def limit(pollutant: str, averaging: str, zone_class: int = 2, *, edition: int | None = None,
          times: Any = None) -> np.ndarray | float:  # fmt: skip
    """Concentration limit of GB 3095, µg/m³ (CO mg/m³).

    ``edition``: 2012, 2026 (transition) or 2031 (final); or give ``times`` (UTC datetime64 / tz-aware) to get
    the limit in force at each time (array). ``zone_class``: 1 (一类区) or 2 (二类区). GB 3095-2012 Table 1;
    GB 3095-2026 Table 1/2.
    """
    if zone_class not in (1, 2):
        raise ValueError("zone_class must be 1 or 2")
    table = LIMITS[(pollutant, averaging)]
    if times is None:
        return float(table[edition if edition is not None else GB3095_2012][zone_class - 1])
    ed = gb3095_edition(times)
    out = np.full(ed.shape, np.nan)
    for e, lims in table.items():
        out[ed == e] = lims[zone_class - 1]
    return out


def moving_mean(x: Any, window: int, min_valid: int, axis: int = -1) -> np.ndarray:
    """Moving mean over the last ``window`` elements ending at each position, NaN-aware (cumulative sums).

    Position ``i`` averages ``x[i-window+1 … i]`` (fewer at the start) and is NaN unless at least
    ``min_valid`` of them are valid. Used for the 24-h (``window=24, min_valid=20``) and O3 8-h
    (``window=8, min_valid=6``) moving means of GB 3095-2012 §3.x / Table 4.
    """
    a = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    valid = ~np.isnan(a)
    csum = np.cumsum(np.where(valid, a, 0.0), axis=-1)
    ccnt = np.cumsum(valid, axis=-1)
    pad = [(0, 0)] * (a.ndim - 1) + [(window, 0)]
    csum = np.pad(csum, pad)
    ccnt = np.pad(ccnt, pad)
    s = csum[..., window:] - csum[..., :-window]
    n = ccnt[..., window:] - ccnt[..., :-window]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = s / n
    out[n < min_valid] = np.nan
    return np.moveaxis(out, -1, axis)


def rolling_24h_mean(hourly: Any, axis: int = -1) -> np.ndarray:
    """24-h moving mean from ≥ 20 valid hours (GB 3095 Table 4), on an hour grid."""
    return moving_mean(hourly, 24, MIN_HOURS_DAY, axis)


def o3_8h_moving_mean(hourly_o3: Any, axis: int = -1) -> np.ndarray:
    """O3 8-h moving mean (mean of the 8 hourly values ending at each hour) from ≥ 6 valid hours (Table 4)."""
    return moving_mean(hourly_o3, 8, MIN_HOURS_8H, axis)


def daily_mean(day_hours: Any, min_hours: int = MIN_HOURS_DAY) -> np.ndarray:
    """Daily (natural-day) mean from an array ``(..., n_days, 24)``; NaN with fewer than ``min_hours`` valid.

    GB 3095-2026 §3.10 and Table 4 (≥ 20 hourly values).
    """
    a = np.asarray(day_hours, dtype=float)
    n = np.sum(~np.isnan(a), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.nansum(a, axis=-1) / n
    m[n < min_hours] = np.nan
    return m


def daily_max_8h_o3(hourly_o3: Any, limit_value: float | None = 160.0) -> tuple[np.ndarray, np.ndarray]:
    """O3 daily maximum 8-h mean of each natural day, with its validity.

    ``hourly_o3``: 1-D hour grid starting at the first hour (00:00–01:00) of a natural day, length a multiple
    of 24, µg/m³. The 17 windows of a day are those ending at 08:00 … 24:00 (8-h moving means entirely
    inside the day), each valid with ≥ 6 hours. The daily maximum is valid with ≥ 14 valid windows; with
    fewer, it still counts if it exceeds ``limit_value`` (HJ 663-2013/2026 §6.1.2, UNCONFIRMED text; pass
    ``None`` to disable the exception).

    Returns ``(max8h, valid)`` of shape ``(n_days,)``; ``max8h`` is NaN where not valid.
    """
    o3 = np.asarray(hourly_o3, dtype=float)
    if o3.size % 24:
        raise ValueError("hourly_o3 length must be a multiple of 24 (whole natural days)")
    days = o3.reshape(-1, 24)
    m8 = moving_mean(days, 8, MIN_HOURS_8H, axis=-1)[:, 7:]  # windows ending at hour 8 … 24
    n_valid = np.sum(~np.isnan(m8), axis=-1)
    with np.errstate(invalid="ignore"):
        mx = np.nanmax(np.where(np.isnan(m8), -np.inf, m8), axis=-1)
    mx[n_valid == 0] = np.nan
    valid = n_valid >= MIN_8H_WINDOWS_DAY
    if limit_value is not None:
        valid |= mx > limit_value
    mx = np.where(valid, mx, np.nan)
    return mx, valid


def min_days_for_month(year: Any, month: Any) -> np.ndarray:
    """Minimum valid daily values for a monthly mean: 27, February 25 (GB 3095 Table 4)."""
    return np.where(np.asarray(month) == 2, MIN_DAYS_FEBRUARY, MIN_DAYS_MONTH) + 0 * np.asarray(year)


def period_mean(daily: Any, min_days: int, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Mean of valid daily values over a period and its validity (≥ ``min_days`` values), GB 3095 Table 4.

    Returns ``(mean, n_valid)``; mean is NaN when fewer than ``min_days`` valid days.
    """
    a = np.asarray(daily, dtype=float)
    n = np.sum(~np.isnan(a), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.nansum(a, axis=axis) / n
    m = np.where(n >= min_days, m, np.nan)
    return m, n


def exceeds(conc: Any, pollutant: str, averaging: str, zone_class: int = 2, *, edition: int | None = None,
            times: Any = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Exceedance of the GB 3095 limit: ``(exceeds, multiple)`` with multiple = (C − L) / L (HJ 663 §3).

    NaN concentrations give ``False`` / NaN.
    """
    c = np.asarray(conc, dtype=float)
    lim = limit(pollutant, averaging, zone_class, edition=edition, times=times)
    with np.errstate(invalid="ignore"):
        return c > lim, (c - lim) / lim
