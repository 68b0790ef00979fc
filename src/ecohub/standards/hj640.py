"""HJ 640-2012 urban environmental noise routine monitoring (环境噪声监测技术规范 城市声环境常规监测):
day/night levels, functional-zone compliance, regional and road-traffic noise grades. Levels in dB(A).

* Energy (logarithmic) mean of equivalent levels — GB 3096-2008 §3.3 / HJ 640-2012 §6.4.1: L = 10·lg(1/n·Σ10^(0.1·Li)).
  Day level Ld and night level Ln of a functional-zone point are the energy means of its hourly Leq over the day
  (06–22 h) and night (22–06 h) periods (GB 3096-2008 Appendix C.2). Completeness: HJ 640 does not state a
  minimum for automatic stations; ecohub requires ≥ 75 % of the period's hours (12 of 16 day, 6 of 8 night) and
  reports the hours used — a decision (UNCONFIRMED as a rule), see docs/assessments.md.
* Statistical levels L10, L50, L90 — GB 3096-2008 §3.4: the levels exceeded 10 %, 50 %, 90 % of the time, i.e.
  the 90th, 50th and 10th percentiles of the instantaneous (or short-Leq) samples; Lmax the largest.
* Functional-zone compliance (HJ 640-2012 §6.4.2): a point-period complies when Ld (Ln) ≤ the GB 3096 class
  limit; the compliance rate = compliant point-periods / assessed point-periods × 100 %, day and night apart.
* Regional environmental noise (HJ 640-2012 §4.4): the city's day (night) mean S = arithmetic mean of the grid
  points' Leq (formula (1)); grade by **Table 1** (day ≤50.0 | 50.1–55.0 | 55.1–60.0 | 60.1–65.0 | >65.0;
  night ≤40.0 | 40.1–45.0 | 45.1–50.0 | 50.1–55.0 | >55.0).
* Road traffic noise (HJ 640-2012 §5.4): the length-weighted mean L = Σ(l_i·L_i)/Σl_i (formula (2)); grade by
  **Table 2** (day ≤68.0 | 68.1–70.0 | 70.1–72.0 | 72.1–74.0 | >74.0; night ≤58.0 | 58.1–60.0 | 60.1–62.0 |
  62.1–64.0 | >64.0).
* Grades 一级 … 五级 = 好, 较好, 一般, 较差, 差 (HJ 640-2012 §4.4.2). Means are rounded to 0.1 dB (GB/T 8170)
  before grading, as the tables are given to 0.1 dB.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .aqi_cn import round_gbt8170

#: Upper bounds of grades 1–4 (grade 5 above the last), dB(A). HJ 640-2012 Table 1 (regional) and Table 2 (road).
REGIONAL_BOUNDS = {"day": (50.0, 55.0, 60.0, 65.0), "night": (40.0, 45.0, 50.0, 55.0)}
ROAD_BOUNDS = {"day": (68.0, 70.0, 72.0, 74.0), "night": (58.0, 60.0, 62.0, 64.0)}
GRADE_ZH = {1: "好", 2: "较好", 3: "一般", 4: "较差", 5: "差"}
GRADE_EN = {1: "good", 2: "fairly good", 3: "fair", 4: "fairly poor", 5: "poor"}
#: Hours needed for a valid day / night level (ours, 75 % of 16 and 8 hours — UNCONFIRMED as a rule).
MIN_HOURS = {"day": 12, "night": 6}


def energy_mean(levels: Any, axis: int | None = None) -> np.ndarray:
    """Energy mean 10·lg(mean 10^(0.1·L)) of levels in dB, ignoring NaN; NaN where none (GB 3096-2008 §3.3)."""
    a = np.asarray(levels, dtype=float)
    n = np.sum(~np.isnan(a), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.nansum(np.power(10.0, 0.1 * a), axis=axis)
        return np.where(n > 0, 10.0 * np.log10(s / np.where(n > 0, n, 1)), np.nan)


def statistical_levels(samples: Any) -> dict[str, float]:
    """L10, L50, L90 (percent of time exceeded) and Lmax, Lmin of a sample of levels (GB 3096-2008 §3.4)."""
    a = np.asarray(samples, dtype=float)
    a = a[~np.isnan(a)]
    if a.size == 0:
        return {"l10": np.nan, "l50": np.nan, "l90": np.nan, "lmax": np.nan, "lmin": np.nan}
    return {"l10": float(np.percentile(a, 90)), "l50": float(np.percentile(a, 50)),
            "l90": float(np.percentile(a, 10)), "lmax": float(a.max()), "lmin": float(a.min())}


def period_level(hourly_leq: Any, period: str) -> tuple[float, int, bool]:
    """Ld or Ln from the period's hourly Leq: (energy mean, hours used, valid per :data:`MIN_HOURS`)."""
    a = np.asarray(hourly_leq, dtype=float)
    n = int(np.sum(~np.isnan(a)))
    if n == 0:
        return float("nan"), 0, False
    return float(energy_mean(a)), n, n >= MIN_HOURS[period]


def _grade(mean: Any, bounds: tuple[float, ...]) -> np.ndarray:
    m = round_gbt8170(np.asarray(mean, dtype=float), 1)
    g = np.searchsorted(np.asarray(bounds), m, side="left") + 1
    return np.where(np.isnan(m), 0, g)


def regional_grade(mean_leq: Any, period: str = "day") -> np.ndarray:
    """Grade 1–5 of regional environmental noise (HJ 640-2012 Table 1); 0 where the mean is NaN."""
    return _grade(mean_leq, REGIONAL_BOUNDS[_period(period)])


def road_traffic_grade(mean_leq: Any, period: str = "day") -> np.ndarray:
    """Grade 1–5 of road traffic noise (HJ 640-2012 Table 2); 0 where the mean is NaN."""
    return _grade(mean_leq, ROAD_BOUNDS[_period(period)])


def regional_mean(point_leq: Any) -> float:
    """Arithmetic mean of the grid points' Leq (HJ 640-2012 §4.4.1 formula (1))."""
    a = np.asarray(point_leq, dtype=float)
    return float(np.nanmean(a)) if np.any(~np.isnan(a)) else float("nan")


def road_length_weighted_mean(leq: Any, length_km: Any) -> float:
    """Σ(l_i·L_i)/Σl_i over road sections with a level (HJ 640-2012 §5.4.1 formula (2))."""
    lv, ln = np.asarray(leq, dtype=float), np.asarray(length_km, dtype=float)
    if np.any(ln < 0):
        raise ValueError("length_km: negative road length")
    ok = ~np.isnan(lv) & ~np.isnan(ln)
    if not np.any(ok) or ln[ok].sum() == 0:
        return float("nan")
    return float(np.sum(lv[ok] * ln[ok]) / ln[ok].sum())


def compliance_rate(complies: Any) -> float:
    """Compliant point-periods / assessed point-periods × 100 (HJ 640-2012 §6.4.2); NaN when none assessed.
    ``complies``: bool per point-period, or NaN / None for not assessed."""
    a = np.asarray([np.nan if c is None else float(c) for c in np.ravel(np.asarray(complies, dtype=object))])
    n = int(np.sum(~np.isnan(a)))
    return float(100.0 * np.nansum(a) / n) if n else float("nan")


def _period(period: str) -> str:
    if period not in ("day", "night"):
        raise ValueError(f"period: {period!r} is not day or night")
    return period
