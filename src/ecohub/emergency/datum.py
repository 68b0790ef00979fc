"""GCJ-02 ↔ WGS-84 (the published GCJ-02 formula; the inverse by fixed-point iteration to < 1e-7°).

The same formula and iteration as ``tools/build_reference_data.py`` (which converted the shipped boundaries);
a run-time copy because ``tools`` is not part of the package. ecohub stores WGS-84; polygons that arrive in
GCJ-02 (data digitised on amap/高德 or Tencent basemaps) are converted on import (``--datum gcj02``).
The offset applies inside China only (the formula is defined for the Chinese mainland); outside it the
coordinates are returned unchanged, as the reference implementations do.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

_A = 6378245.0
_EE = 0.00669342162296594323


def _outside_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    s = np.sqrt(np.abs(x))
    common = (20 * np.sin(6 * pi * x) + 20 * np.sin(2 * pi * x)) * 2 / 3
    dlat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * s + common
    dlat += (20 * np.sin(pi * y) + 40 * np.sin(pi * y / 3)) * 2 / 3
    dlat += (160 * np.sin(pi * y / 12) + 320 * np.sin(pi * y / 30)) * 2 / 3
    dlon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * s + common
    dlon += (20 * np.sin(pi * x) + 40 * np.sin(pi * x / 3)) * 2 / 3
    dlon += (150 * np.sin(pi * x / 12) + 300 * np.sin(pi * x / 30)) * 2 / 3
    rad = lat / 180 * pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sq = np.sqrt(magic)
    dlat = dlat * 180 / ((_A * (1 - _EE)) / (magic * sq) * pi)
    dlon = dlon * 180 / (_A / sq * np.cos(rad) * pi)
    out = _outside_china(lon, lat)
    return np.where(out, 0.0, dlon), np.where(out, 0.0, dlat)


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat, iterations: int = 6) -> tuple[np.ndarray, np.ndarray]:
    g_lon, g_lat = np.asarray(lon, float), np.asarray(lat, float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(iterations):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        w_lon = w_lon - (f_lon - g_lon)
        w_lat = w_lat - (f_lat - g_lat)
    return w_lon, w_lat


def geom_gcj02_to_wgs84(geom):
    def _tx(coords: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, _tx)
