"""A dispersion scenario: validated inputs → screening result (maximum, isopleths, receptors, GeoJSON).

The scenario is what the CLI (``ecohub plume``), the API (``POST /api/v1/dispersion``) and the incident page
send; :func:`run` is pure (no database): receptors come in as a list. Every result carries
:data:`~ecohub.emergency.SCREENING_NOTICE`.

Wind at release height: the 10-m wind (``wind_height_m``) is extrapolated to the physical release height with
the ISC3 power law u = u_ref·(h/z_ref)^p (EPA-454/B-95-003b vol. II §1.1.3; p rural A–F = 0.07, 0.07, 0.10,
0.15, 0.35, 0.55, urban = 0.15, 0.15, 0.20, 0.25, 0.30, 0.30); below the anemometer height the reference
wind is used. Winds under 0.5 m/s are refused (calm: the Gaussian models are not valid — ISC3 excludes calm
hours). Plume rise is added only when the stack exit parameters (velocity, temperature, diameter) are all
given; buoyancy-induced dispersion (Δh/3.5 in quadrature, ISC3 eq. 1-45/1-46) comes with it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.polygon import orient

from ecohub.domain.errors import InputError
from ecohub.domain.timeutil import parse_time
from ecohub.emergency import SCREENING_NOTICE, localgeo, stability
from ecohub.emergency.plume import (
    Dispersion,
    centerline_maximum,
    halfwidth_area,
    isopleth_halfwidths,
    plume_concentration,
    puff_peak,
)
from ecohub.emergency.plume_rise import briggs_rise
from ecohub.emergency.sigmas import SCHEMES

KINDS = ("plume", "puff")
WIND_EXPONENT = {
    "rural": {"A": 0.07, "B": 0.07, "C": 0.10, "D": 0.15, "E": 0.35, "F": 0.55},
    "urban": {"A": 0.15, "B": 0.15, "C": 0.20, "D": 0.25, "E": 0.30, "F": 0.30},
}
MIN_WIND_MS = 0.5
MAX_DISTANCE_M = 100_000.0
SIMPLIFY_M = 2.0


@dataclass
class Receptor:
    id: str
    name: str
    type: str
    lon: float
    lat: float
    population: int | None = None


@dataclass
class Scenario:
    lon: float
    lat: float
    wind_ms: float
    wind_from_deg: float
    thresholds_mg_m3: list[float]
    kind: str = "plume"
    rate_gs: float | None = None  # plume
    mass_kg: float | None = None  # puff
    height_m: float = 0.0  # physical release height
    stability: str = "D"  # A … F, A-B, B-C, C-D, or auto
    cloud: int | None = None  # total cloud, tenths (auto)
    low_cloud: int | None = None
    time: str | None = None  # ISO-8601 (auto); naive = Beijing time
    exit_velocity_ms: float | None = None
    exit_temp_c: float | None = None
    diameter_m: float | None = None
    ambient_temp_c: float = 20.0
    wind_height_m: float = 10.0
    scheme: str = "pg"
    terrain: str = "rural"
    mixing_height_m: float | None = None
    ground_reflection: bool = True
    x_max_m: float = 50_000.0
    substance: str | None = None
    receptors: list[Receptor] = field(default_factory=list)


def _num(name: str, v, *, lo: float | None = None, hi: float | None = None, strict_lo: bool = False) -> float:
    if isinstance(v, bool):
        raise InputError(name, v, "a number")
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InputError(name, v, "a number") from None
    if not math.isfinite(f):
        raise InputError(name, v, "a finite number")
    if lo is not None and (f < lo or (strict_lo and f == lo)):
        raise InputError(name, v, f"must be {'>' if strict_lo else '≥'} {lo:g}")
    if hi is not None and f > hi:
        raise InputError(name, v, f"must be ≤ {hi:g}")
    return f


def validate(s: Scenario) -> Scenario:
    """Check every field; raises :class:`InputError` naming the first bad one."""
    if s.kind not in KINDS:
        raise InputError("kind", s.kind, "plume (continuous release) or puff (instantaneous release)")
    s.lon = _num("lon", s.lon, lo=-180, hi=180)
    s.lat = _num("lat", s.lat, lo=-85, hi=85)
    s.wind_ms = _num("wind_ms", s.wind_ms)
    if s.wind_ms < MIN_WIND_MS:
        raise InputError("wind_ms", s.wind_ms, f"calm or near-calm wind (< {MIN_WIND_MS} m/s): the Gaussian "
                         "plume/puff is not valid; use a calm-wind model or a measured trajectory")
    s.wind_from_deg = _num("wind_from_deg", s.wind_from_deg, lo=0, hi=360)
    if s.kind == "plume":
        if s.rate_gs is None:
            raise InputError("rate_gs", None, "a continuous release needs its emission rate in g/s")
        s.rate_gs = _num("rate_gs", s.rate_gs, lo=0, strict_lo=True)
    else:
        if s.mass_kg is None:
            raise InputError("mass_kg", None, "an instantaneous release needs the released mass in kg")
        s.mass_kg = _num("mass_kg", s.mass_kg, lo=0, strict_lo=True)
    s.height_m = _num("height_m", s.height_m, lo=0, hi=1000)
    s.wind_height_m = _num("wind_height_m", s.wind_height_m, lo=0, strict_lo=True, hi=500)
    s.ambient_temp_c = _num("ambient_temp_c", s.ambient_temp_c, lo=-60, hi=60)
    s.x_max_m = _num("x_max_m", s.x_max_m, lo=100, hi=MAX_DISTANCE_M)
    if s.scheme not in SCHEMES:
        raise InputError("scheme", s.scheme, f"one of {', '.join(SCHEMES)}")
    if s.terrain not in WIND_EXPONENT:
        raise InputError("terrain", s.terrain, "rural or urban")
    if s.mixing_height_m is not None:
        s.mixing_height_m = _num("mixing_height_m", s.mixing_height_m, lo=10, hi=5000)
    if not s.thresholds_mg_m3:
        raise InputError("threshold", None, "at least one threshold concentration in mg/m³ (e.g. a toxic "
                         "end-point of HJ 169-2018 Appendix H)")
    s.thresholds_mg_m3 = sorted({_num("threshold", t, lo=0, strict_lo=True) for t in s.thresholds_mg_m3},
                                reverse=True)
    stack = [s.exit_velocity_ms, s.exit_temp_c, s.diameter_m]
    if any(v is not None for v in stack) and not all(v is not None for v in stack):
        raise InputError("exit_velocity_ms/exit_temp_c/diameter_m", stack,
                         "plume rise needs all three stack exit parameters (or none)")
    if all(v is not None for v in stack):
        if s.kind == "puff":
            raise InputError("exit_velocity_ms", s.exit_velocity_ms, "plume rise applies to continuous stack "
                             "releases, not to an instantaneous puff")
        s.exit_velocity_ms = _num("exit_velocity_ms", s.exit_velocity_ms, lo=0, strict_lo=True, hi=200)
        s.exit_temp_c = _num("exit_temp_c", s.exit_temp_c, lo=-60, hi=2000)
        s.diameter_m = _num("diameter_m", s.diameter_m, lo=0, strict_lo=True, hi=50)
    st = (s.stability or "").strip().upper()
    if st == "AUTO":
        if s.cloud is None or s.time is None:
            raise InputError("stability", s.stability, "auto needs --cloud (total cloud cover, tenths) and --time")
        s.cloud = int(_num("cloud", s.cloud, lo=0, hi=10))
        if s.low_cloud is not None:
            s.low_cloud = int(_num("low_cloud", s.low_cloud, lo=0, hi=10))
        parse_time(str(s.time), "time")
    elif st not in stability.ALL_CLASSES:
        raise InputError("stability", s.stability, "A … F, A-B, B-C, C-D, or auto")
    s.stability = st
    for i, r in enumerate(s.receptors):
        _num(f"receptors[{i}].lon", r.lon, lo=-180, hi=180)
        _num(f"receptors[{i}].lat", r.lat, lo=-90, hi=90)
    return s


def _wind_at(s: Scenario, cls: str, height: float) -> float:
    if height <= s.wind_height_m:
        return s.wind_ms
    p = WIND_EXPONENT[s.terrain][cls.split("-")[-1]]
    return s.wind_ms * (height / s.wind_height_m) ** p


def run(s: Scenario) -> dict:
    """Validate and compute. Returns a JSON-ready dict with ``geojson`` (FeatureCollection)."""
    s = validate(s)
    notes: list[str] = []
    if s.stability == "AUTO":
        when = parse_time(str(s.time), "time")
        est = stability.estimate(s.wind_ms, s.cloud, s.low_cloud, when, s.lon, s.lat)
        cls = est.stability
        stab_info = {"stability": cls, "method": est.method, "solar_altitude_deg": est.solar_altitude_deg,
                     "radiation_grade": est.radiation_grade, "time": when.isoformat()}
    else:
        cls = s.stability
        stab_info = {"stability": cls, "method": "given"}
    u = _wind_at(s, cls, s.height_m)
    if u < 1.0:
        notes.append("wind speed below 1 m/s: Gaussian estimates are unreliable (ISC3 uses ≥ 1 m/s)")
    rise = None
    extra = 0.0
    h_eff = s.height_m
    if s.exit_velocity_ms is not None:
        rise = briggs_rise(diameter_m=s.diameter_m, exit_velocity_ms=s.exit_velocity_ms,
                           exit_temp_k=s.exit_temp_c + 273.15, ambient_temp_k=s.ambient_temp_c + 273.15,
                           wind_ms=u, stability=cls)
        h_eff = s.height_m + rise.rise_m
        extra = rise.rise_m / 3.5
    if s.mixing_height_m is not None and h_eff > s.mixing_height_m and cls[-1] in "ABCD":
        notes.append("effective height above the mixing height: no ground-level concentration (ISC3 §1.1.6.1)")
    d = Dispersion(stability=cls, wind_ms=u, height_m=h_eff, scheme=s.scheme, mixing_height_m=s.mixing_height_m,
                   ground_reflection=s.ground_reflection, extra_sigma_m=extra)
    if s.kind == "plume":
        strength = s.rate_gs

        def field_fn(x, y):
            return plume_concentration(d, strength, x, y) * 1000.0  # mg/m³
        unit = "mg/m3"
    else:
        strength = s.mass_kg * 1000.0

        def field_fn(x, y):
            return puff_peak(d, strength, x, y) * 1000.0
        unit = "mg/m3 (peak)"

    def centre(x):
        return field_fn(x, np.zeros_like(x))

    cmax, xmax = centerline_maximum(centre, s.x_max_m)
    isopleths = []
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                 "properties": {"kind": "source", "screening": SCREENING_NOTICE}}]
    for t in s.thresholds_mg_m3:
        stretches = isopleth_halfwidths(centre, lambda x: d.sigmas(x)[0], t, s.x_max_m)
        area = sum(halfwidth_area(x, w) for x, w in stretches)
        polys = []
        for x, w in stretches:
            xs = np.concatenate([x, x[::-1][1:]])
            ys = np.concatenate([-w, w[::-1][1:]])
            p = Polygon(np.column_stack(localgeo.from_wind(xs, ys, s.wind_from_deg)))
            p = shapely.make_valid(p.simplify(SIMPLIFY_M))
            polys.extend(g for g in getattr(p, "geoms", [p]) if isinstance(g, Polygon) and not g.is_empty)
        iso = {"threshold_mg_m3": t, "area_m2": round(area, 1), "area_km2": round(area / 1e6, 6),
               "downwind_extent_m": round(max((float(x[-1]) for x, _ in stretches), default=0.0), 1),
               "max_halfwidth_m": round(max((float(w.max()) for _, w in stretches), default=0.0), 1),
               "reaches_model_edge": any(float(x[-1]) >= s.x_max_m * 0.999 for x, _ in stretches)}
        isopleths.append(iso)
        if polys:
            geo = MultiPolygon([orient(p, 1.0) for p in polys])
            geo = shapely.transform(geo, lambda c: np.column_stack(localgeo.to_lonlat(s.lon, s.lat, c[:, 0],
                                                                                      c[:, 1])))
            geom = mapping(geo.geoms[0] if len(geo.geoms) == 1 else geo)
            features.append({"type": "Feature", "geometry": _rounded(geom),
                             "properties": {"kind": "isopleth", **iso, "screening": SCREENING_NOTICE}})
    receptors = _receptors(s, d, field_fn)
    for r in receptors:
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                         "properties": {"kind": "receptor", **{k: v for k, v in r.items()
                                                                if k not in ("lon", "lat")}}})
    result = {
        "screening": SCREENING_NOTICE,
        "kind": s.kind,
        "unit": unit,
        "inputs": {k: v for k, v in asdict(s).items() if k != "receptors"},
        "stability": stab_info,
        "wind_at_release_ms": round(u, 3),
        "effective_height_m": round(h_eff, 2),
        "plume_rise": None if rise is None else {
            "rise_m": round(rise.rise_m, 2), "regime": rise.regime,
            "buoyancy_flux_m4s3": round(rise.buoyancy_flux, 4), "momentum_flux_m4s2": round(rise.momentum_flux, 4),
            "distance_to_final_rise_m": round(rise.distance_to_final_m, 1), "method": "Briggs (ISC3 §1.1.4)"},
        "max_concentration_mg_m3": _sig(cmax),
        "max_distance_m": round(xmax, 1),
        "isopleths": isopleths,
        "receptors": receptors,
        "notes": notes,
    }
    result["geojson"] = {"type": "FeatureCollection", "features": features,
                         "properties": {"screening": SCREENING_NOTICE}}
    return result


def _receptors(s: Scenario, d: Dispersion, field_fn) -> list[dict]:
    if not s.receptors:
        return []
    lon = np.array([r.lon for r in s.receptors], dtype=float)
    lat = np.array([r.lat for r in s.receptors], dtype=float)
    e, n = localgeo.to_local(s.lon, s.lat, lon, lat)
    x, y = localgeo.to_wind(e, n, s.wind_from_deg)
    c = field_fn(x, y)
    dist = localgeo.haversine_m(s.lon, s.lat, lon, lat)
    low = min(s.thresholds_mg_m3)
    out = []
    for i, r in enumerate(s.receptors):
        if not (x[i] > 0 and c[i] >= low):
            continue
        out.append({"id": r.id, "name": r.name, "type": r.type, "population": r.population,
                    "lon": r.lon, "lat": r.lat, "distance_m": round(float(dist[i]), 1),
                    "downwind_m": round(float(x[i]), 1), "crosswind_m": round(float(y[i]), 1),
                    "arrival_min": round(float(x[i]) / d.wind_ms / 60.0, 1),
                    "concentration_mg_m3": _sig(float(c[i])),
                    "thresholds_exceeded": [t for t in s.thresholds_mg_m3 if c[i] >= t]})
    out.sort(key=lambda r: r["arrival_min"])
    return out


def _sig(v: float, digits: int = 4) -> float:
    return float(f"{v:.{digits}g}") if v else 0.0


def _rounded(geom: dict) -> dict:
    def rnd(c):
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
            return [round(float(c[0]), 6), round(float(c[1]), 6)]
        return [rnd(v) for v in c]

    return {"type": geom["type"], "coordinates": rnd(geom["coordinates"])}


def concentration_grid(s: Scenario, n: int = 500, half_extent_m: float | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground-level concentration (mg/m³) on an n × n grid centred on the source (east, north in m)."""
    s = validate(s)
    if s.stability == "AUTO":
        raise InputError("stability", "auto", "the grid needs a resolved class (run() first)")
    half = half_extent_m or s.x_max_m / 5
    axis = np.linspace(-half, half, n)
    ee, nn = np.meshgrid(axis, axis)
    x, y = localgeo.to_wind(ee, nn, s.wind_from_deg)
    d = Dispersion(stability=s.stability, wind_ms=_wind_at(s, s.stability, s.height_m), height_m=s.height_m,
                   scheme=s.scheme, mixing_height_m=s.mixing_height_m, ground_reflection=s.ground_reflection)
    if s.kind == "plume":
        c = plume_concentration(d, s.rate_gs, x, y) * 1000.0
    else:
        c = puff_peak(d, s.mass_kg * 1000.0, x, y) * 1000.0
    return axis, axis, c


def shapely_point(lon: float, lat: float):
    """A shapely point (helper for callers that should not import shapely themselves)."""
    return shapely.Point(lon, lat)


def parse_receptors(items: list[dict]) -> list[Receptor]:
    """Receptors from JSON-like dicts (id, name, type, lon, lat, population)."""
    out = []
    for i, it in enumerate(items):
        if not isinstance(it, dict):
            raise InputError(f"receptors[{i}]", it, "an object with lon, lat (and id, name, type, population)")
        out.append(Receptor(id=str(it.get("id", i)), name=str(it.get("name", "")), type=str(it.get("type", "")),
                            lon=_num(f"receptors[{i}].lon", it.get("lon"), lo=-180, hi=180),
                            lat=_num(f"receptors[{i}].lat", it.get("lat"), lo=-90, hi=90),
                            population=None if it.get("population") in (None, "") else
                            int(_num(f"receptors[{i}].population", it.get("population"), lo=0))))
    return out


