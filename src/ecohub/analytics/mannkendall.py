"""Mann–Kendall trend test and Sen's slope, plain and seasonal (numpy only).

* Mann–Kendall — Mann (1945), Kendall (1975), Gilbert (1987) §16.4: S = Σ_{i<j} sgn(x_j − x_i) over the valid
  values; Var(S) = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)]/18 with tie groups t; Z = (S − sgn S)/√Var(S);
  two-sided p = 2(1 − Φ(|Z|)); significant when |Z| > Φ⁻¹(1 − α/2); τ = S / (n(n−1)/2).
* Sen's slope — Theil (1950), Sen (1968): median of (x_j − x_i)/(j − i) over pairs i < j at their time
  positions (missing values leave gaps, not shifts); intercept after Conover (1980):
  median(x) − median(t) · slope.
* Seasonal Kendall — Hirsch, Slack & Smith (1982): S and Var(S) summed over the seasons (columns of the
  series reshaped to years × period); slope = median of the within-season pair slopes (unit: per period,
  i.e. per year for monthly data); intercept median(x) − median(t)/period · slope.

Results follow pymannkendall's ``original_test`` / ``seasonal_test`` (the reference implementation the tests
compare with); this version is vectorised so that many sites' series run quickly.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any

import numpy as np


@dataclass
class TrendResult:
    trend: str  # increasing | decreasing | no trend
    h: bool
    p: float
    z: float
    tau: float
    s: float
    var_s: float
    slope: float
    intercept: float
    n: int
    seasonal: bool

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}


def _s_var(x: np.ndarray) -> tuple[float, float, int]:
    v = x[~np.isnan(x)]
    n = v.size
    if n < 2:
        return 0.0, 0.0, n
    diff = np.sign(v[None, :] - v[:, None])
    s = float(np.sum(np.triu(diff, 1)))
    _, t = np.unique(v, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - float(np.sum(t * (t - 1) * (2 * t + 5)))) / 18.0
    return s, var, n


def _pair_slopes(x: np.ndarray) -> np.ndarray:
    n = x.size
    i, j = np.triu_indices(n, 1)
    return (x[j] - x[i]) / (j - i)


def _decide(s: float, var: float, alpha: float) -> tuple[float, float, bool, str]:
    if var <= 0:
        z = 0.0
    else:
        z = (s - 1) / math.sqrt(var) if s > 0 else (s + 1) / math.sqrt(var) if s < 0 else 0.0
    p = math.erfc(abs(z) / math.sqrt(2))
    h = abs(z) > NormalDist().inv_cdf(1 - alpha / 2)
    trend = "increasing" if h and z > 0 else "decreasing" if h and z < 0 else "no trend"
    return z, p, h, trend


def mann_kendall(values: Any, alpha: float = 0.05) -> TrendResult:
    """Mann–Kendall test with Sen's slope (per time step) of a regularly spaced series (NaN = missing)."""
    x = np.asarray(values, dtype=float).ravel()
    s, var, n = _s_var(x)
    if n < 3:
        raise ValueError(f"values: {n} valid values; the Mann–Kendall test needs at least 3")
    z, p, h, trend = _decide(s, var, alpha)
    with np.errstate(invalid="ignore"):
        slope = float(np.nanmedian(_pair_slopes(x)))
    t = np.arange(x.size)[~np.isnan(x)]
    intercept = float(np.nanmedian(x) - np.median(t) * slope)
    return TrendResult(trend, bool(h), p, z, s / (0.5 * n * (n - 1)), s, var, slope, intercept, n, False)


def seasonal_mann_kendall(values: Any, period: int = 12, alpha: float = 0.05) -> TrendResult:
    """Seasonal Kendall test with the seasonal Sen's slope (per cycle: per year for monthly data)."""
    x_old = np.asarray(values, dtype=float).ravel()
    x = x_old
    if x.size % period:
        x = np.pad(x, (0, period - x.size % period), constant_values=np.nan)
    m = x.reshape(-1, period)
    s = var = denom = 0.0
    n_total = 0
    slopes = []
    for k in range(period):
        sk, vk, nk = _s_var(m[:, k])
        s, var, denom, n_total = s + sk, var + vk, denom + 0.5 * nk * (nk - 1), n_total + nk
        if m.shape[0] > 1:
            slopes.append(_pair_slopes(m[:, k]))
    if denom == 0:
        raise ValueError(f"values: too few values for the seasonal test (period {period}: at least two cycles)")
    z, p, h, trend = _decide(s, var, alpha)
    with np.errstate(invalid="ignore"):
        slope = float(np.nanmedian(np.concatenate(slopes))) if slopes else float("nan")
    t = np.arange(x_old.size)[~np.isnan(x_old)]
    intercept = float(np.nanmedian(x_old) - np.median(t) / period * slope)
    return TrendResult(trend, bool(h), p, z, s / denom, s, var, slope, intercept, n_total, True)
