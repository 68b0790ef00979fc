"""Pasquill–Gifford stability class (A … F) from wind speed, cloud cover and time of day.

Method: the revised Pasquill classification of GB/T 3840-91 Appendix B (修订的帕斯奎尔分类法, P·S), which
China's air-quality guidelines recommend:

1. Solar declination δ (Spencer's series, GB/T 3840-91 eq. B2), with θ0 = 360·dn/365 and dn the day of the
   year counted from 0::

       δ = [0.006918 − 0.399912 cos θ0 + 0.070257 sin θ0 − 0.006758 cos 2θ0 + 0.000907 sin 2θ0
            − 0.002697 cos 3θ0 + 0.001480 sin 3θ0] · 180/π

2. Solar altitude h0 (eq. B1), φ latitude, λ longitude (°E), t Beijing time in hours::

       h0 = arcsin[sin φ sin δ + cos φ cos δ cos(15 t + λ − 300)]

3. Solar radiation grade (太阳辐射等级数, Table B1) from total/low cloud cover in tenths (全天空十分制) and h0
   (night = sun below the horizon).
4. Stability class (Table B2) from the radiation grade and the 10-min mean wind speed at 10 m.

Table B1 is confirmed against a published reproduction (see ``docs/emergency.md``); Table B2 is from the
standard as widely reproduced in Chinese EIA textbooks and is marked UNCONFIRMED in the docs (no primary copy
could be read). Intermediate classes ("A-B", "B-C", "C-D") are returned as such; :mod:`sigmas` averages the
σ of the two classes (Pasquill's note: "for A-B take the average of values for A and B").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ecohub.domain.errors import InputError

CLASSES = ("A", "B", "C", "D", "E", "F")
INTERMEDIATE = ("A-B", "B-C", "C-D")
ALL_CLASSES = CLASSES + INTERMEDIATE
_BEIJING = timezone(timedelta(hours=8))

# Table B1: rows by (total, low) cloud cover; columns night, h0≤15, 15<h0≤35, 35<h0≤65, h0>65
_RADIATION = {
    "≤4/≤4": (-2, -1, 1, 2, 3),
    "5~7/≤4": (-1, 0, 1, 2, 3),
    "≥8/≤4": (-1, 0, 0, 1, 1),
    "≥5/5~7": (0, 0, 0, 0, 1),
    "≥8/≥8": (0, 0, 0, 0, 0),
}
# Table B2: rows by wind speed (upper bounds, m/s), columns radiation grade +3 +2 +1 0 −1 −2
_WIND_ROWS = (2.0, 3.0, 5.0, 6.0, math.inf)
_STABILITY = (
    ("A", "A-B", "B", "D", "E", "F"),   # u ≤ 1.9
    ("A-B", "B", "C", "D", "E", "F"),   # 2 ~ 2.9
    ("B", "B-C", "C", "D", "D", "E"),   # 3 ~ 4.9
    ("C", "C-D", "D", "D", "D", "D"),   # 5 ~ 5.9
    ("D", "D", "D", "D", "D", "D"),     # ≥ 6
)


def solar_declination_deg(day_of_year0: int) -> float:
    """Solar declination δ in degrees (GB/T 3840-91 eq. B2); ``day_of_year0`` = 0 … 365."""
    t = math.radians(360.0 * day_of_year0 / 365.0)
    d = (0.006918 - 0.399912 * math.cos(t) + 0.070257 * math.sin(t) - 0.006758 * math.cos(2 * t)
         + 0.000907 * math.sin(2 * t) - 0.002697 * math.cos(3 * t) + 0.001480 * math.sin(3 * t))
    return math.degrees(d)


def solar_altitude_deg(lon: float, lat: float, when: datetime) -> float:
    """Solar altitude h0 in degrees (GB/T 3840-91 eq. B1); ``when`` aware (a naive time is Beijing time)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=_BEIJING)
    bj = when.astimezone(_BEIJING)
    dn = bj.timetuple().tm_yday - 1
    t = bj.hour + bj.minute / 60.0 + bj.second / 3600.0
    d = math.radians(solar_declination_deg(dn))
    phi = math.radians(lat)
    s = math.sin(phi) * math.sin(d) + math.cos(phi) * math.cos(d) * math.cos(math.radians(15.0 * t + lon - 300.0))
    return math.degrees(math.asin(max(-1.0, min(1.0, s))))


def _cloud_row(total: int, low: int) -> str:
    if low <= 4:
        return "≤4/≤4" if total <= 4 else "5~7/≤4" if total <= 7 else "≥8/≤4"
    if low <= 7:
        return "≥5/5~7"
    return "≥8/≥8"


def radiation_grade(total_cloud: int, low_cloud: int, solar_altitude: float) -> int:
    """太阳辐射等级数 (GB/T 3840-91 Table B1): −2 … +3."""
    for name, v in (("cloud", total_cloud), ("low_cloud", low_cloud)):
        if not isinstance(v, int) or not 0 <= v <= 10:
            raise InputError(name, v, "cloud cover in tenths of the sky (0 … 10)")
    if low_cloud > total_cloud:
        raise InputError("low_cloud", low_cloud, f"low cloud cannot exceed the total cloud cover ({total_cloud})")
    row = _RADIATION[_cloud_row(total_cloud, low_cloud)]
    if solar_altitude <= 0:
        col = 0
    elif solar_altitude <= 15:
        col = 1
    elif solar_altitude <= 35:
        col = 2
    elif solar_altitude <= 65:
        col = 3
    else:
        col = 4
    return row[col]


def class_from_grade(wind_ms: float, grade: int) -> str:
    """Stability class (GB/T 3840-91 Table B2) from the 10-m wind speed and the radiation grade."""
    if not math.isfinite(wind_ms) or wind_ms < 0:
        raise InputError("wind_ms", wind_ms, "a wind speed in m/s (≥ 0)")
    if grade not in (3, 2, 1, 0, -1, -2):
        raise InputError("radiation_grade", grade, "one of +3 … −2")
    row = next(i for i, upper in enumerate(_WIND_ROWS) if wind_ms < upper)
    return _STABILITY[row][3 - grade]


@dataclass(frozen=True)
class StabilityEstimate:
    stability: str
    solar_altitude_deg: float
    radiation_grade: int
    method: str = "GB/T 3840-91 Appendix B (revised Pasquill)"


def estimate(wind_ms: float, total_cloud: int, low_cloud: int | None, when: datetime, lon: float,
             lat: float) -> StabilityEstimate:
    """Stability class from wind speed (10 m), cloud cover (tenths; low cloud defaults to the total) and time."""
    low = total_cloud if low_cloud is None else low_cloud
    h0 = solar_altitude_deg(lon, lat, when)
    grade = radiation_grade(total_cloud, low, h0)
    return StabilityEstimate(class_from_grade(wind_ms, grade), round(h0, 2), grade)
