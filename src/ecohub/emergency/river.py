"""River spill (screening): one-dimensional advection–dispersion with first-order decay, instantaneous release.

The model is the analytical solution for a slug of mass M released at x = 0, t = 0 into a uniform reach of
cross-section A, mean velocity u, longitudinal dispersion coefficient D and first-order decay rate k
(Fischer et al. 1979, *Mixing in Inland and Coastal Waters*, eq. 2.17 with decay; Chapra 1997, *Surface
Water-Quality Modeling*, Lecture 9/14)::

    C(x, t) = M / (A·√(4π·D·t)) · exp(−(x − u·t)²/(4·D·t)) · exp(−k·t)

M in g and A in m² give C in g/m³ = mg/L. It assumes complete cross-sectional mixing (valid beyond the mixing
length), a uniform reach, and an infinite domain (the part of the cloud that would disperse upstream of the
release is kept, negligible when u·x/D ≫ 1).

Peak time at a section x (set d ln C/dt = 0, worked below): t_peak = (√(D² + (u² + 4Dk)·x²) − D)/(u² + 4Dk).
d ln C/dt = −1/(2t) + x²/(4Dt²) − u²/(4D) − k has one positive root, so ln C rises before t_peak and falls
after; arrival and pass times (C = threshold) are found by bisection on each side.

Default dispersion coefficient when none is given (Fischer 1975, ASCE J. Env. Eng. Div. 101:453; Chapra 1997
eq. 14.19): D = 0.011·u²·W²/(h·u*), shear velocity u* = √(g·h·S) from width W, depth h and slope S. Decay
defaults to 0 (a conservative substance: the worst case for arrival and peak).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ecohub.domain.errors import InputError

G = 9.81
ARRIVAL_FRACTION = 0.01  # without a threshold, arrival/pass = 1 % of the section's own peak


def fischer_dispersion(velocity_ms: float, width_m: float, depth_m: float, slope: float) -> float:
    """Longitudinal dispersion coefficient (m²/s) by Fischer (1975): 0.011·u²·W²/(h·√(g·h·S))."""
    return 0.011 * velocity_ms ** 2 * width_m ** 2 / (depth_m * math.sqrt(G * depth_m * slope))


def concentration(mass_g: float, area_m2: float, velocity_ms: float, dispersion_m2s: float, decay_per_s: float,
                  x_m, t_s):
    """C(x, t) in mg/L (g/m³); 0 for t ≤ 0. Works on floats and numpy arrays."""
    import numpy as np

    t = np.asarray(t_s, dtype=float)
    x = np.asarray(x_m, dtype=float)
    tt = np.where(t > 0, t, 1.0)
    c = (mass_g / (area_m2 * np.sqrt(4 * math.pi * dispersion_m2s * tt))
         * np.exp(-((x - velocity_ms * tt) ** 2) / (4 * dispersion_m2s * tt)) * np.exp(-decay_per_s * tt))
    out = np.where(t > 0, c, 0.0)
    return float(out) if out.ndim == 0 else out


def peak_time(x_m: float, velocity_ms: float, dispersion_m2s: float, decay_per_s: float) -> float:
    """Time (s) of the peak at distance x (> 0) downstream."""
    a = velocity_ms ** 2 + 4 * dispersion_m2s * decay_per_s
    return (math.sqrt(dispersion_m2s ** 2 + a * x_m ** 2) - dispersion_m2s) / a


@dataclass
class Section:
    name: str
    km: float  # distance downstream of the reach origin (km)
    type: str = "section"  # section | intake
    code: str | None = None
    lon: float | None = None
    lat: float | None = None


@dataclass
class Reach:
    name: str
    velocity_ms: float
    area_m2: float
    dispersion_m2s: float
    decay_per_day: float = 0.0
    sections: list[Section] = field(default_factory=list)
    dispersion_source: str = "given"


def _num(name: str, v, lo: float, strict: bool = True) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InputError(name, v, "a number") from None
    if not math.isfinite(f) or f < lo or (strict and f == lo):
        raise InputError(name, v, f"a finite number {'>' if strict else '≥'} {lo:g}")
    return f


def reach_from_dict(d: dict) -> Reach:
    """A reach from its JSON description (see ``docs/emergency.md``); every field checked by name."""
    if not isinstance(d, dict):
        raise InputError("reach", d, "a JSON object")
    u = _num("velocity_ms", d.get("velocity_ms"), 0)
    if d.get("area_m2") is not None:
        area = _num("area_m2", d.get("area_m2"), 0)
    elif d.get("width_m") is not None and d.get("depth_m") is not None:
        area = _num("width_m", d["width_m"], 0) * _num("depth_m", d["depth_m"], 0)
    elif d.get("discharge_m3s") is not None:
        area = _num("discharge_m3s", d["discharge_m3s"], 0) / u
    else:
        raise InputError("area_m2", None, "give area_m2, width_m and depth_m, or discharge_m3s")
    source = "given"
    if d.get("dispersion_m2s") is not None:
        disp = _num("dispersion_m2s", d["dispersion_m2s"], 0)
    else:
        missing = [k for k in ("width_m", "depth_m", "slope") if d.get(k) is None]
        if missing:
            raise InputError("dispersion_m2s", None, "give the dispersion coefficient, or width_m, depth_m and slope "
                             f"for Fischer's formula (missing: {', '.join(missing)})")
        disp = fischer_dispersion(u, _num("width_m", d["width_m"], 0), _num("depth_m", d["depth_m"], 0),
                                  _num("slope", d["slope"], 0))
        source = "Fischer (1975): 0.011·u²·W²/(h·u*)"
    decay = _num("decay_per_day", d.get("decay_per_day", 0.0), 0, strict=False)
    secs = []
    for i, s in enumerate(d.get("sections") or []):
        if not isinstance(s, dict):
            raise InputError(f"sections[{i}]", s, "an object with name and km")
        typ = str(s.get("type", "section"))
        if typ not in ("section", "intake"):
            raise InputError(f"sections[{i}].type", typ, "section or intake (drinking-water intake)")
        secs.append(Section(name=str(s.get("name") or f"#{i + 1}"), km=_num(f"sections[{i}].km", s.get("km"), 0,
                                                                         strict=False),
                            type=typ, code=s.get("code"), lon=s.get("lon"), lat=s.get("lat")))
    return Reach(name=str(d.get("name", "")), velocity_ms=u, area_m2=area, dispersion_m2s=disp,
                 decay_per_day=decay, sections=secs, dispersion_source=source)


def _bisect(f, lo: float, hi: float, n: int = 200) -> float:
    flo = f(lo)
    for _ in range(n):
        mid = 0.5 * (lo + hi)
        fm = f(mid)
        if (fm > 0) == (flo > 0):
            lo, flo = mid, fm
        else:
            hi = mid
        if hi - lo < 1e-6 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def section_times(mass_g: float, reach: Reach, x_m: float, threshold_mg_l: float | None) -> dict:
    """Arrival, peak and pass times (s) and the peak concentration (mg/L) at x metres below the release."""
    k = reach.decay_per_day / 86400.0
    u, d, a = reach.velocity_ms, reach.dispersion_m2s, reach.area_m2
    tp = peak_time(x_m, u, d, k)
    cp = concentration(mass_g, a, u, d, k, x_m, tp)
    level = threshold_mg_l if threshold_mg_l is not None else cp * ARRIVAL_FRACTION
    out = {"peak_time_s": tp, "peak_mg_l": cp, "level_mg_l": level, "exceeds": cp >= level,
           "arrival_time_s": None, "pass_time_s": None}
    if cp < level or cp <= 0:
        return out

    def g(t):
        return math.log(max(concentration(mass_g, a, u, d, k, x_m, t), 1e-300)) - math.log(level)
    lo = tp
    while g(lo) > 0 and lo > 1e-3:
        lo /= 2
    out["arrival_time_s"] = _bisect(g, lo, tp) if g(lo) <= 0 else 0.0
    hi = tp * 2
    while g(hi) > 0:
        hi *= 2
    out["pass_time_s"] = _bisect(g, tp, hi)
    return out


def spill(mass_kg: float, reach: Reach, release_km: float = 0.0, threshold_mg_l: float | None = None) -> dict:
    """Screening result for every section below the release: times in minutes/hours, peaks in mg/L."""
    from ecohub.emergency import SCREENING_NOTICE

    m = _num("mass_kg", mass_kg, 0)
    rk = _num("release_km", release_km, 0, strict=False)
    if threshold_mg_l is not None:
        threshold_mg_l = _num("threshold", threshold_mg_l, 0)
    rows = []
    for s in sorted(reach.sections, key=lambda s: s.km):
        x = (s.km - rk) * 1000.0
        row = {"name": s.name, "type": s.type, "code": s.code, "km": s.km, "distance_m": round(x, 1)}
        if x <= 0:
            row.update({"upstream": True})
            rows.append(row)
            continue
        t = section_times(m * 1000.0, reach, x, threshold_mg_l)
        row.update({
            "upstream": False,
            "peak_mg_l": float(f"{t['peak_mg_l']:.4g}"),
            "peak_time_h": round(t["peak_time_s"] / 3600, 3),
            "arrival_time_h": None if t["arrival_time_s"] is None else round(t["arrival_time_s"] / 3600, 3),
            "pass_time_h": None if t["pass_time_s"] is None else round(t["pass_time_s"] / 3600, 3),
            "exceeds_threshold": bool(t["exceeds"]) if threshold_mg_l is not None else None,
        })
        if row["arrival_time_h"] is not None and row["pass_time_h"] is not None:
            row["duration_h"] = round(row["pass_time_h"] - row["arrival_time_h"], 3)
        rows.append(row)
    return {
        "screening": SCREENING_NOTICE,
        "model": "1-D advection–dispersion, instantaneous release (analytical; Fischer et al. 1979)",
        "reach": {"name": reach.name, "velocity_ms": reach.velocity_ms, "area_m2": reach.area_m2,
                  "dispersion_m2s": round(reach.dispersion_m2s, 4), "dispersion_source": reach.dispersion_source,
                  "decay_per_day": reach.decay_per_day},
        "mass_kg": m, "release_km": rk, "threshold_mg_l": threshold_mg_l,
        "arrival_definition": ("first/last time the concentration reaches the threshold" if threshold_mg_l is not None
                               else f"first/last time the concentration reaches {ARRIVAL_FRACTION:.0%} of the "
                                    "section's peak"),
        "sections": rows,
    }
