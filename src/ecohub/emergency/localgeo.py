"""Local plane coordinates around a source, and wind-relative coordinates (pure).

A scenario is computed in metres on a plane tangent at the source: east e = R·cos(lat)·Δlon, north
n = R·Δlat (R = 6 371 008.8 m, the mean Earth radius), with the cosine taken at each point's own latitude so
that east–west distances stay exact along parallels. Over the tens of kilometres of a screening run this
differs from geodesic distances by well under 0.5 % — far inside the model's uncertainty; receptor distances
are reported as great-circle (haversine) distances.

Wind direction is meteorological: the direction the wind blows FROM, degrees clockwise from north. The plume
travels towards from + 180°: downwind x = e·sin(to) + n·cos(to); crosswind y (positive to the left of the
travel direction) = −e·cos(to) + n·sin(to).
"""

from __future__ import annotations

import math

import numpy as np

R_EARTH = 6_371_008.8


def to_local(lon0: float, lat0: float, lon, lat) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    e = np.radians(lon - lon0) * R_EARTH * np.cos(np.radians(lat))
    n = np.radians(lat - lat0) * R_EARTH
    return e, n


def to_lonlat(lon0: float, lat0: float, e, n) -> tuple[np.ndarray, np.ndarray]:
    e = np.asarray(e, dtype=float)
    n = np.asarray(n, dtype=float)
    lat = lat0 + np.degrees(n / R_EARTH)
    lon = lon0 + np.degrees(e / (R_EARTH * np.cos(np.radians(lat))))
    return lon, lat


def wind_axes(wind_from_deg: float) -> tuple[float, float]:
    """Unit vector (east, north) of the travel direction."""
    to = math.radians((wind_from_deg + 180.0) % 360.0)
    return math.sin(to), math.cos(to)


def to_wind(e, n, wind_from_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """(downwind x, crosswind y) of local points."""
    ux, uy = wind_axes(wind_from_deg)
    e = np.asarray(e, dtype=float)
    n = np.asarray(n, dtype=float)
    return e * ux + n * uy, -e * uy + n * ux


def from_wind(x, y, wind_from_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """(east, north) of wind-relative points."""
    ux, uy = wind_axes(wind_from_deg)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    return x * ux - y * uy, x * uy + y * ux


def haversine_m(lon1: float, lat1: float, lon2, lat2) -> np.ndarray:
    p1, p2 = math.radians(lat1), np.radians(np.asarray(lat2, dtype=float))
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, dtype=float) - lon1)
    a = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * R_EARTH * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
