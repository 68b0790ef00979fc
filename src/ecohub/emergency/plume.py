"""Gaussian plume (continuous release) and Gaussian puff (instantaneous release): pure, vectorised functions.

Plume (Turner 1970, *Workbook of Atmospheric Dispersion Estimates*, AP-26, eq. 3.1 with ground reflection;
ISC3 vol. II eq. 1-1 and 1-50)::

    C(x, y, z) = Q / (2π·u·σy·σz) · exp(−y²/(2σy²)) · V(z)

    V = exp(−(z−H)²/(2σz²)) + exp(−(z+H)²/(2σz²))                                  (ground reflection)
        + Σ_{i=1..k} [exp(−(z−H−2iL)²/2σz²) + exp(−(z+H−2iL)²/2σz²)
                      + exp(−(z−H+2iL)²/2σz²) + exp(−(z+H+2iL)²/2σz²)]              (mixing lid at L)

Without ground reflection V keeps only the first term. The lid is applied for A–D only (ISC3 treats E and F
as unlimited mixing); once σz > 1.6·L the plume is uniformly mixed: V = √(2π)·σz/L (Turner eq. 3.5); a plume
whose effective height is above the lid contributes nothing at the ground (ISC3 §1.1.6.1).
Units: Q in g/s, u in m/s, σ in m → C in g/m³ (the services report mg/m³).

Puff (Turner 1970 eq. 3.21 with reflection; Slade 1968)::

    C(x, y, z, t) = 2·M / ((2π)^(3/2)·σx·σy·σz) · exp(−(x−u·t)²/(2σx²)) · exp(−y²/(2σy²)) · V(z)/2

with σx = σy and the σ of :mod:`sigmas` evaluated at the travel distance u·t — a screening assumption (puff
σ's differ from plume σ's; Slade 1968 gives separate instantaneous curves, not used here). The ground
footprint used for isopleths is the peak concentration at each point, taken at the arrival time t = x/u,
and the dose (time-integrated concentration) is M/(2π·u·σy·σz)·exp(−y²/2σy²)·V.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ecohub.emergency.sigmas import sigmas

IMAGES = 5  # reflections at the lid: |i| ≤ 5 (terms beyond are < 1e-20 of the first once σz ≤ 1.6 L)
UNIFORM_FACTOR = 1.6


def vertical_term(z, h: float, sz, *, mixing_height: float | None = None, ground_reflection: bool = True,
                  stability: str = "D") -> np.ndarray:
    """V(z) of the Gaussian plume (dimensionless); vectorised over ``z`` and ``sz``."""
    z = np.asarray(z, dtype=float)
    sz = np.asarray(sz, dtype=float)
    lid = mixing_height is not None and stability[-1] in "ABCD"
    if lid and h > mixing_height:
        return np.zeros(np.broadcast(z, sz).shape)
    v = np.exp(-0.5 * ((z - h) / sz) ** 2)
    if ground_reflection:
        v = v + np.exp(-0.5 * ((z + h) / sz) ** 2)
    if lid and ground_reflection:
        L = float(mixing_height)
        for i in range(1, IMAGES + 1):
            v = v + (np.exp(-0.5 * ((z - h - 2 * i * L) / sz) ** 2) + np.exp(-0.5 * ((z + h - 2 * i * L) / sz) ** 2)
                     + np.exp(-0.5 * ((z - h + 2 * i * L) / sz) ** 2) + np.exp(-0.5 * ((z + h + 2 * i * L) / sz) ** 2))
        uniform = math.sqrt(2 * math.pi) * sz / L
        v = np.where(sz > UNIFORM_FACTOR * L, uniform, v)
    return v


@dataclass(frozen=True)
class Dispersion:
    """What the concentration formulas need besides the source strength."""
    stability: str
    wind_ms: float  # wind speed at release height (m/s)
    height_m: float  # effective release height H (physical height + plume rise)
    scheme: str = "pg"
    mixing_height_m: float | None = None
    ground_reflection: bool = True
    extra_sigma_m: float = 0.0  # buoyancy-induced dispersion Δh/3.5 (ISC3 eq. 1-45/1-46), added in quadrature

    def sigmas(self, x) -> tuple[np.ndarray, np.ndarray]:
        sy, sz = sigmas(self.stability, x, self.scheme)
        if self.extra_sigma_m:
            e2 = self.extra_sigma_m ** 2
            sy, sz = np.sqrt(sy * sy + e2), np.sqrt(sz * sz + e2)
        return sy, sz

    def vertical(self, z, sz) -> np.ndarray:
        return vertical_term(z, self.height_m, sz, mixing_height=self.mixing_height_m,
                             ground_reflection=self.ground_reflection, stability=self.stability)


def plume_concentration(d: Dispersion, q_gs: float, x, y, z=0.0) -> np.ndarray:
    """Continuous release: concentration (g/m³) at (x downwind, y crosswind, z height) in m; 0 upwind."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    sy, sz = d.sigmas(x)
    c = q_gs / (2 * math.pi * d.wind_ms * sy * sz) * np.exp(-0.5 * (y / sy) ** 2) * d.vertical(z, sz)
    return np.where(x > 0, c, 0.0)


def puff_concentration(d: Dispersion, mass_g: float, x, y, z, t_s) -> np.ndarray:
    """Instantaneous release at t = 0: concentration (g/m³) at (x, y, z) and time t (s)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    t = np.asarray(t_s, dtype=float)
    travel = np.maximum(d.wind_ms * t, 0.0)
    sy, sz = d.sigmas(travel)
    sx = sy
    c = (mass_g / ((2 * math.pi) ** 1.5 * sx * sy * sz) * np.exp(-0.5 * ((x - d.wind_ms * t) / sx) ** 2)
         * np.exp(-0.5 * (y / sy) ** 2) * d.vertical(z, sz))
    return np.where(t > 0, c, 0.0)


def puff_peak(d: Dispersion, mass_g: float, x, y, z=0.0) -> np.ndarray:
    """Peak concentration (g/m³) of a puff passing (x, y, z): the puff formula at t = x/u (screening)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    sy, sz = d.sigmas(x)
    c = mass_g / ((2 * math.pi) ** 1.5 * sy * sy * sz) * np.exp(-0.5 * (y / sy) ** 2) * d.vertical(z, sz)
    return np.where(x > 0, c, 0.0)


def puff_dose(d: Dispersion, mass_g: float, x, y, z=0.0) -> np.ndarray:
    """Time-integrated concentration (g·s/m³) of a puff at (x, y, z): the plume formula with Q → M."""
    return plume_concentration(d, mass_g, x, y, z)


# --- ground-level maximum and isopleths ----------------------------------------------------------------------
def distance_grid(x_max_m: float = 50_000.0, n: int = 3000) -> np.ndarray:
    """Log-spaced downwind distances 1 m … x_max (for maxima and isopleths)."""
    return np.geomspace(X_START, x_max_m, n)


X_START = 1.0


def centerline_maximum(f: Callable[[np.ndarray], np.ndarray], x_max_m: float = 50_000.0) -> tuple[float, float]:
    """(max value, distance of the max) of a centre-line function f(x) on 1 m … x_max, refined locally."""
    x = distance_grid(x_max_m)
    c = f(x)
    i = int(np.argmax(c))
    lo, hi = x[max(i - 1, 0)], x[min(i + 1, len(x) - 1)]
    xf = np.linspace(lo, hi, 401)
    cf = f(xf)
    j = int(np.argmax(cf))
    return float(cf[j]), float(xf[j])


def isopleth_halfwidths(f0: Callable[[np.ndarray], np.ndarray], sy: Callable[[np.ndarray], np.ndarray],
                        threshold: float, x_max_m: float = 50_000.0, n: int = 3000
                        ) -> list[tuple[np.ndarray, np.ndarray]]:
    """The isopleth C = threshold of a field separable as C(x, y) = f0(x)·exp(−y²/(2σy(x)²)).

    For each x where the centre-line value f0(x) exceeds the threshold the half-width is
    w(x) = σy(x)·√(2·ln(f0/threshold)) (exact for the Gaussian crosswind profile). Returns one (x, w) pair of
    arrays per contiguous stretch; each starts and ends on the centre line (w = 0) at the interpolated
    crossing, or at the source (x = 0) when the first grid point already exceeds the threshold.
    """
    x = distance_grid(x_max_m, n)
    c = f0(x)
    above = c > threshold
    out: list[tuple[np.ndarray, np.ndarray]] = []
    if not above.any():
        return out
    edges = np.flatnonzero(np.diff(np.concatenate([[0], above.astype(np.int8), [0]])))
    for start, stop in zip(edges[0::2], edges[1::2], strict=True):  # stretch = x[start:stop]
        xs = x[start:stop]
        ws = sy(xs) * np.sqrt(2.0 * np.log(c[start:stop] / threshold))
        if start == 0:
            x0 = 0.0
        else:
            x0 = _cross(x[start - 1], x[start], c[start - 1], c[start], threshold)
        if stop == len(x):
            x1 = float(x[-1])
        else:
            x1 = _cross(x[stop - 1], x[stop], c[stop - 1], c[stop], threshold)
        out.append((np.concatenate([[x0], xs, [x1]]), np.concatenate([[0.0], ws, [0.0]])))
    return out


def _cross(xa: float, xb: float, ca: float, cb: float, t: float) -> float:
    """x where the centre line crosses t between two grid points (interpolated in log space)."""
    la, lb, lt = math.log(max(ca, 1e-300)), math.log(max(cb, 1e-300)), math.log(t)
    if la == lb:
        return float(xa)
    return float(xa + (xb - xa) * (lt - la) / (lb - la))


def halfwidth_area(x: np.ndarray, w: np.ndarray) -> float:
    """Area (m²) enclosed by an isopleth given as half-widths: ∫ 2·w dx (trapezoid rule)."""
    return float(np.sum((w[1:] + w[:-1]) * np.diff(x)))
