"""Interpolated pollution surfaces: inverse-distance weighting and ordinary kriging, clipped to a province,
with leave-one-out cross-validation, as GeoJSON contour bands for the map.

* Coordinates: WGS-84 lon/lat projected to km on a local equirectangular plane (x = R·Δλ·cos φ₀, y = R·Δφ,
  φ₀ = mean station latitude) — adequate at provincial scale (distortion < 1 % over ±3° of latitude).
* IDW — Shepard (1968): ẑ(s) = Σ w_i z_i / Σ w_i, w_i = d_i^−p (p = 2), all stations; a cell on a station
  takes its value.
* Ordinary kriging — the variogram model (spherical by default) fitted by pykrige's least squares to the
  empirical semivariogram; the kriging system solved here once for all cells (Cressie 1993, §3.2),
  checked against pykrige's own prediction.
* Leave-one-out cross-validation: each station predicted from the others (kriging refits the variogram each
  time); RMSE = √(mean (ẑ₋ᵢ − z_i)²), reported for both methods beside each other.
* Clipping: grid cells whose centre is outside the province polygons (``ecohub/data/boundaries``) are NaN.
* Bands: the HJ 633-2012 IAQI concentration breakpoints of the pollutant (24-h for PM2.5/PM10/SO2/NO2/CO,
  1-h O3) with the HJ 633 level colours; rings of a band are one polygon drawn with the even-odd rule.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources

import numpy as np

from ecohub.standards import aqi_cn

EARTH_KM = 6371.0088
MIN_STATIONS = 5
BAND_KEYS = {"pm25": "pm25_24h", "pm10": "pm10_24h", "so2": "so2_24h", "no2": "no2_24h", "co": "co_24h",
             "o3": "o3_1h"}


class NoData(ValueError):
    """Too few stations with a value for the requested surface (the message says how many)."""


@dataclass
class Grid:
    lon: np.ndarray  # (nx,)
    lat: np.ndarray  # (ny,)
    values: np.ndarray  # (ny, nx), NaN outside the boundary


def project(lon, lat, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat (degrees) → x/y (km) on the local equirectangular plane at latitude ``lat0``."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (np.radians(lon) * EARTH_KM * math.cos(math.radians(lat0)), np.radians(lat) * EARTH_KM)


def idw(xs, ys, zs, gx, gy, power: float = 2.0, chunk: int = 65536) -> np.ndarray:
    """IDW estimate at points (gx, gy) from stations (xs, ys, zs); same shape as gx."""
    xs, ys, zs = (np.asarray(a, dtype=float) for a in (xs, ys, zs))
    gx, gy = np.asarray(gx, dtype=float), np.asarray(gy, dtype=float)
    px, py = gx.ravel(), gy.ravel()
    out = np.empty(px.size)
    from scipy.spatial.distance import cdist

    st = np.column_stack([xs, ys])
    for a in range(0, px.size, chunk):
        d2 = cdist(np.column_stack([px[a:a + chunk], py[a:a + chunk]]), st, "sqeuclidean")
        with np.errstate(divide="ignore"):
            w = 1.0 / d2 if power == 2.0 else np.power(d2, -power / 2.0)
        hit = d2 == 0
        w = np.where(hit.any(axis=1, keepdims=True), hit.astype(float), w)
        out[a:a + chunk] = (w @ zs) / w.sum(axis=1)
    return out.reshape(gx.shape)


def fit_variogram(xs, ys, zs, variogram: str = "spherical"):
    """Variogram model fitted by pykrige (least squares on the empirical semivariogram): (function of the
    lag in km, parameters)."""
    from pykrige.ok import OrdinaryKriging

    ok = OrdinaryKriging(np.asarray(xs, float), np.asarray(ys, float), np.asarray(zs, float),
                         variogram_model=variogram, coordinates_type="euclidean", enable_plotting=False)
    params = [float(p) for p in ok.variogram_model_parameters]
    return (lambda h: ok.variogram_function(params, h)), params


def kriging(xs, ys, zs, gx, gy, variogram: str = "spherical", chunk: int = 50000) -> np.ndarray:
    """Ordinary kriging estimate at points (gx, gy) with the fitted ``variogram`` model.

    The system (Cressie 1993, eq. 3.2.12): [Γ 1; 1ᵀ 0]·[λ; μ] = [γ₀; 1], Γ_ij = γ(|s_i − s_j|), γ₀_i = γ(|s_i − s₀|);
    ẑ(s₀) = λᵀz. As the matrix A = [Γ 1; 1ᵀ 0] is symmetric, ẑ(s₀) = [z; 0]ᵀA⁻¹[γ₀; 1] = cᵀ[γ₀; 1] with
    c = A⁻¹[z; 0] solved once — each cell is then one dot product. A point on a station takes its value
    (γ₀ = 0 there, as pykrige does). Checked against pykrige's own ``execute`` in the tests.
    """
    from scipy.linalg import solve

    xs, ys, zs = (np.asarray(a, dtype=float) for a in (xs, ys, zs))
    gamma, _ = fit_variogram(xs, ys, zs, variogram)
    n = xs.size
    d = np.hypot(xs[:, None] - xs[None, :], ys[:, None] - ys[None, :])
    a = np.ones((n + 1, n + 1))
    a[:n, :n] = gamma(d)
    np.fill_diagonal(a[:n, :n], 0.0)
    a[n, n] = 0.0
    c = solve(a, np.r_[zs, 0.0], assume_a="sym")
    from scipy.spatial.distance import cdist

    px, py = np.asarray(gx, float).ravel(), np.asarray(gy, float).ravel()
    st = np.column_stack([xs, ys])
    out = np.empty(px.size)
    for s in range(0, px.size, chunk):
        bd = cdist(np.column_stack([px[s:s + chunk], py[s:s + chunk]]), st)
        g = gamma(bd)
        g[bd <= 1e-10] = 0.0
        out[s:s + chunk] = g @ c[:n] + c[n]
    return out.reshape(np.shape(gx))


def loo_rmse(xs, ys, zs, method: str, variogram: str = "spherical") -> float:
    """Leave-one-out RMSE of ``method`` (idw | kriging) at the stations."""
    xs, ys, zs = (np.asarray(a, dtype=float) for a in (xs, ys, zs))
    err = np.empty(xs.size)
    for i in range(xs.size):
        m = np.arange(xs.size) != i
        f = idw if method == "idw" else (lambda *a: kriging(*a, variogram=variogram))
        err[i] = float(f(xs[m], ys[m], zs[m], xs[i:i + 1], ys[i:i + 1])[0]) - zs[i]
    return float(np.sqrt(np.mean(err * err)))


def province_polygons(region: str) -> list[np.ndarray]:
    """Outer rings (lon, lat) of the province's city polygons shipped in ``ecohub/data/boundaries``."""
    name = f"{region}_cities.geojson"
    try:
        with resources.files("ecohub.data").joinpath("boundaries", name).open(encoding="utf-8") as f:
            gj = json.load(f)
    except FileNotFoundError:
        raise ValueError(f"region: no boundary file for {region!r} (data/boundaries/{name})") from None
    rings = []
    for ft in gj["features"]:
        g = ft["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        rings += [np.asarray(p[0], dtype=float) for p in polys]
    return rings


def inside(rings: list[np.ndarray], lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    from matplotlib.path import Path

    pts = np.column_stack([lon.ravel(), lat.ravel()])
    m = np.zeros(pts.shape[0], dtype=bool)
    for r in rings:
        m |= Path(r).contains_points(pts)
    return m.reshape(lon.shape)


def surface(lon, lat, values, *, method: str = "idw", region: str = "130000", cells: int = 200,
            variogram: str = "spherical", cross_validate: bool = True) -> tuple[Grid, dict]:
    """Interpolate station values onto a grid over the province; returns the grid and the metadata."""
    if method not in ("idw", "kriging"):
        raise ValueError(f"method: {method!r} is not idw or kriging")
    if not 10 <= cells <= 1000:
        raise ValueError(f"cells: {cells} is not between 10 and 1000")
    lon, lat, v = (np.asarray(a, dtype=float) for a in (lon, lat, values))
    ok = ~np.isnan(lon) & ~np.isnan(lat) & ~np.isnan(v)
    lon, lat, v = lon[ok], lat[ok], v[ok]
    if v.size < MIN_STATIONS:
        raise NoData(f"{v.size} stations with a value; a surface needs at least {MIN_STATIONS}")
    rings = province_polygons(region)
    allpts = np.concatenate(rings)
    x0, y0 = allpts.min(axis=0)
    x1, y1 = allpts.max(axis=0)
    lat0 = float(np.mean(lat))
    aspect = (x1 - x0) * math.cos(math.radians(lat0)) / (y1 - y0)
    nx, ny = (cells, max(2, round(cells / aspect))) if aspect >= 1 else (max(2, round(cells * aspect)), cells)
    glon = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    glat = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
    LON, LAT = np.meshgrid(glon, glat)
    mask = inside(rings, LON, LAT)
    xs, ys = project(lon, lat, lat0)
    gx, gy = project(LON[mask], LAT[mask], lat0)
    vals = np.full(LON.shape, np.nan)
    vals[mask] = idw(xs, ys, v, gx, gy) if method == "idw" else kriging(xs, ys, v, gx, gy, variogram)
    meta = {"method": method, "stations": int(v.size), "grid": [int(nx), int(ny)], "cells_inside": int(mask.sum()),
            "bbox": [float(x0), float(y0), float(x1), float(y1)], "min": float(np.nanmin(vals)),
            "max": float(np.nanmax(vals))}
    if method == "kriging":
        meta["variogram"] = variogram
    if cross_validate:
        meta["loo_rmse"] = {"idw": round(loo_rmse(xs, ys, v, "idw"), 3),
                            "kriging": round(loo_rmse(xs, ys, v, "kriging", variogram), 3)}
    return Grid(glon, glat, vals), meta


def band_levels(parameter: str, vmax: float) -> tuple[list[float], list[str]]:
    """Band edges and colours: the HJ 633-2012 breakpoints of the pollutant up to the first above ``vmax``."""
    key = BAND_KEYS.get(parameter)
    if key is None:
        raise ValueError(f"parameter: {parameter!r} has no surface bands; expected one of {list(BAND_KEYS)}")
    bp = [float(b) for b in aqi_cn.BREAKPOINTS[2012][key]]
    colours = [lv[4] for lv in aqi_cn.LEVELS]
    edges = [bp[0]]
    for b in bp[1:len(colours) + 1]:
        edges.append(b)
        if b >= vmax:
            break
    return edges, colours[:len(edges) - 1]


def to_geojson(grid: Grid, parameter: str, meta: dict) -> dict:
    """Contour bands of the grid as GeoJSON (one feature per band; its rings drawn with the even-odd rule)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    vmax = float(np.nanmax(grid.values))
    edges, colours = band_levels(parameter, vmax)
    fig, ax = plt.subplots()
    try:
        cs = ax.contourf(grid.lon, grid.lat, np.ma.masked_invalid(grid.values), levels=edges)
        features = []
        for k, path in enumerate(cs.get_paths()):
            rings = [np.round(p, 5).tolist() for p in path.to_polygons() if len(p) >= 4]
            if not rings:
                continue
            features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": rings},
                             "properties": {"value_min": edges[k], "value_max": edges[k + 1],
                                            "color": colours[k], "fill_rule": "evenodd"}})
    finally:
        plt.close(fig)
    return {"type": "FeatureCollection", "features": features,
            "properties": {"parameter": parameter, **meta,
                           "legend": [{"from": edges[k], "to": edges[k + 1], "color": colours[k]}
                                      for k in range(len(colours))]}}


def surface_from_store(store, parameter: str, time: str, *, method: str = "idw", region: str = "130000",
                       cells: int = 200, variogram: str = "spherical", scope=None,
                       cross_validate: bool = True) -> dict:
    """Station values of ``parameter`` at a Beijing hour (``YYYY-MM-DDTHH[:MM]``) or day (``YYYY-MM-DD``,
    daily means with ≥ 20 hours) within the caller's scope, interpolated (see :func:`surface`)."""
    from ecohub.analytics.aqi_service import day_bounds
    from ecohub.domain.timeutil import BEIJING
    from ecohub.standards import gb3095
    from ecohub.store.queries import SeriesFilter, aggregate, observations, region_prefix, sites

    if parameter not in BAND_KEYS:
        raise ValueError(f"parameter: {parameter!r} is not one of {', '.join(BAND_KEYS)}")
    st = {s["code"]: s for s in sites(store, kinds=["air_station"], region=region, scope=scope)}
    flt = SeriesFilter(parameters=[parameter], kinds=["air_station"], interval="hour",
                       region_prefix=region_prefix(region))
    vals: dict[str, float] = {}
    try:
        if "T" in time or " " in time:
            t = datetime.fromisoformat(time.replace(" ", "T"))
            t = (t if t.tzinfo else t.replace(tzinfo=BEIJING)).replace(minute=0, second=0, microsecond=0)
            for r in observations(store, flt, t, t + timedelta(hours=1), scope=scope):
                if r["value"] is not None:
                    vals[r["site"]] = float(r["value"])
            label = t.astimezone(BEIJING).isoformat()
        else:
            d = date.fromisoformat(time)
            s, e = day_bounds(d, d)
            for r in aggregate(store, flt, "day", s, e, scope=scope):
                if r["count"] >= gb3095.MIN_HOURS_DAY and r["mean"] is not None:
                    vals[r["site"]] = float(r["mean"])
            label = d.isoformat()
    except ValueError:
        raise ValueError(f"time: {time!r} is not a Beijing hour (YYYY-MM-DDTHH:MM) or day (YYYY-MM-DD)") from None
    codes = [c for c in vals if c in st]
    if len(codes) < MIN_STATIONS:
        raise NoData(f"{parameter} at {label}: {len(codes)} stations with a value in {region}; "
                     f"a surface needs at least {MIN_STATIONS}")
    grid, meta = surface([st[c]["lon"] for c in codes], [st[c]["lat"] for c in codes], [vals[c] for c in codes],
                         method=method, region=region, cells=cells, variogram=variogram,
                         cross_validate=cross_validate)
    meta.update(parameter=parameter, time=label, region=region)
    return {**meta, "geojson": to_geojson(grid, parameter, meta)}
