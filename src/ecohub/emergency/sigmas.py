"""Dispersion parameters σy and σz (m) as functions of downwind distance x (m), vectorised (numpy).

Schemes:

* ``pg`` — Pasquill–Gifford curves as fitted for the point-source programs PTDIS/PTMTP and used by ISC3
  (rural mode): σy = 465.11628·x·tan(TH), TH = 0.017453293·(c − d·ln x), and σz = a·x^b by distance segment,
  x in km (EPA-454/B-95-003b, ISC3 User's Guide vol. II, §1.1.5.1, Tables 1-1 and 1-2; the same tables are
  Tables 19-4 and 19-5 of Boubel, Fox, Turner & Stern, *Fundamentals of Air Pollution*, 3rd ed., 1994).
  σz is capped at 5000 m (A beyond 3.11 km, B beyond 35 km).
* ``briggs-rural`` / ``briggs-urban`` — Briggs' formulas as given by Gifford (1976) for 100 m < x < 10 km
  (Tables 19-7 and 19-6 of *Fundamentals of Air Pollution*; ISC3 urban mode uses the urban set).
  Outside 100 m … 10 km they are extrapolated (a screening model; stated in every output).

An intermediate class ("A-B", "B-C", "C-D") gets the mean of the σ values of its two classes (Pasquill's
note to his table, Table 19-3 of *Fundamentals*). Distances below 1 m are evaluated at 1 m.
"""

from __future__ import annotations

import numpy as np

from ecohub.domain.errors import InputError

SCHEMES = ("pg", "briggs-rural", "briggs-urban")
X_MIN_M = 1.0

# ISC3 Table 1-1: σy coefficients (c, d)
_PG_Y = {"A": (24.1670, 2.5334), "B": (18.3330, 1.8096), "C": (12.5000, 1.0857), "D": (8.3330, 0.72382),
         "E": (6.2500, 0.54287), "F": (4.1667, 0.36191)}
# ISC3 Table 1-2: σz segments (upper bound of x in km, a, b); the last segment has upper bound ∞
_PG_Z = {
    "A": ((0.10, 122.800, 0.94470), (0.15, 158.080, 1.05420), (0.20, 170.220, 1.09320), (0.25, 179.520, 1.12620),
          (0.30, 217.410, 1.26440), (0.40, 258.890, 1.40940), (0.50, 346.750, 1.72830),
          (np.inf, 453.850, 2.11660)),
    "B": ((0.20, 90.673, 0.93198), (0.40, 98.483, 0.98332), (np.inf, 109.300, 1.09710)),
    "C": ((np.inf, 61.141, 0.91465),),
    "D": ((0.30, 34.459, 0.86974), (1.00, 32.093, 0.81066), (3.00, 32.093, 0.64403), (10.00, 33.504, 0.60486),
          (30.00, 36.650, 0.56589), (np.inf, 44.053, 0.51179)),
    "E": ((0.10, 24.260, 0.83660), (0.30, 23.331, 0.81956), (1.00, 21.628, 0.75660), (2.00, 21.628, 0.63077),
          (4.00, 22.534, 0.57154), (10.00, 24.703, 0.50527), (20.00, 26.970, 0.46713), (40.00, 35.420, 0.37615),
          (np.inf, 47.618, 0.29592)),
    "F": ((0.20, 15.209, 0.81558), (0.70, 14.457, 0.78407), (1.00, 13.953, 0.68465), (2.00, 13.953, 0.63227),
          (3.00, 14.823, 0.54503), (7.00, 16.187, 0.46490), (15.00, 17.836, 0.41507), (30.00, 22.651, 0.32681),
          (60.00, 27.074, 0.27436), (np.inf, 34.219, 0.21716)),
}
_PG_Z_ARRAYS = {k: tuple(np.array(col, dtype=float) for col in zip(*v, strict=True)) for k, v in _PG_Z.items()}
SIGMA_Z_CAP_M = 5000.0


def _pg(cls: str, x_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xk = np.maximum(x_m, X_MIN_M) / 1000.0
    c, d = _PG_Y[cls]
    sy = 465.11628 * xk * np.tan(0.017453293 * (c - d * np.log(xk)))
    upper, a, b = _PG_Z_ARRAYS[cls]
    i = np.searchsorted(upper, xk, side="left")  # segment whose upper bound is ≥ x
    sz = np.minimum(a[i] * xk ** b[i], SIGMA_Z_CAP_M)
    return sy, sz


def _briggs(cls: str, x_m: np.ndarray, urban: bool) -> tuple[np.ndarray, np.ndarray]:
    x = np.maximum(x_m, X_MIN_M)
    if urban:
        k = {"A": "AB", "B": "AB", "C": "C", "D": "D", "E": "EF", "F": "EF"}[cls]
        if k == "AB":
            return 0.32 * x / np.sqrt(1 + 0.0004 * x), 0.24 * x * np.sqrt(1 + 0.001 * x)
        if k == "C":
            return 0.22 * x / np.sqrt(1 + 0.0004 * x), 0.20 * x
        if k == "D":
            return 0.16 * x / np.sqrt(1 + 0.0004 * x), 0.14 * x / np.sqrt(1 + 0.0003 * x)
        return 0.11 * x / np.sqrt(1 + 0.0004 * x), 0.08 * x / np.sqrt(1 + 0.0015 * x)
    sy_k = {"A": 0.22, "B": 0.16, "C": 0.11, "D": 0.08, "E": 0.06, "F": 0.04}[cls]
    sy = sy_k * x / np.sqrt(1 + 0.0001 * x)
    if cls == "A":
        sz = 0.20 * x
    elif cls == "B":
        sz = 0.12 * x
    elif cls == "C":
        sz = 0.08 * x / np.sqrt(1 + 0.0002 * x)
    elif cls == "D":
        sz = 0.06 * x / np.sqrt(1 + 0.0015 * x)
    elif cls == "E":
        sz = 0.03 * x / (1 + 0.0003 * x)
    else:
        sz = 0.016 * x / (1 + 0.0003 * x)
    return sy, sz


def sigmas(stability: str, x_m, scheme: str = "pg") -> tuple[np.ndarray, np.ndarray]:
    """(σy, σz) in m at downwind distances ``x_m`` (m) for a stability class (A … F or A-B, B-C, C-D)."""
    if scheme not in SCHEMES:
        raise InputError("sigma_scheme", scheme, f"one of {', '.join(SCHEMES)}")
    x = np.asarray(x_m, dtype=float)
    parts = stability.split("-")
    if not parts or any(p not in _PG_Y for p in parts) or len(parts) > 2:
        raise InputError("stability", stability, "a Pasquill–Gifford class A … F (or A-B, B-C, C-D)")
    out = []
    for p in parts:
        out.append(_pg(p, x) if scheme == "pg" else _briggs(p, x, scheme == "briggs-urban"))
    if len(out) == 1:
        return out[0]
    return (out[0][0] + out[1][0]) / 2.0, (out[0][1] + out[1][1]) / 2.0
