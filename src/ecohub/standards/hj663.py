"""HJ 663 ambient air quality evaluation (HJ 663-2013, HJ 663-2026): percentiles, annual/period evaluation,
AQI day statistics, the comprehensive index (环境空气质量综合指数) and city ranking.

Units: µg/m³ (CO mg/m³). Inputs are *daily* values on the last axis (NaN = not valid), e.g. an array
``(n_sites, n_days)``; build them with :mod:`ecohub.standards.gb3095` (validity rules).

* Percentile — HJ 663-2013 Appendix A (formula (A.1)/(A.2)): sort the n valid values, k = 1 + (n − 1)·p/100,
  s = ⌊k⌋, m_p = X(s) + (X(s+1) − X(s))·(k − s). Numerically Hyndman–Fan type 7 (numpy ``linear``).
  Worked check (STANDARDS.md §2.3): {3,4,8,2,5,4}, p = 90 → 6.5.
* Annual statistics and the limits they are compared with — HJ 663-2013 annual-evaluation table / HJ 663-2026 (same
  percentiles): SO2, NO2: annual mean and 98th percentile of daily means; PM10, PM2.5: annual mean and
  95th percentile; CO: 95th percentile of daily means; O3: 90th percentile of daily max 8-h means.
* Statistics are rounded per GB/T 8170 (µg/m³ to integers, CO to 0.1 mg/m³) before comparison with the
  limits — decision (HJ 663 rounding rules are UNCONFIRMED, see docs/standards.md).
* Comprehensive index — 城市环境空气质量排名技术规定 (MEP 2014): I_sum = Σ C_i/S_i over the six pollutants,
  S_i = GB 3095-2012 class-2 limits (annual: SO2 60, NO2 40, PM10 70, PM2.5 35; CO 24-h 4 mg/m³ on the
  95th percentile; O3 8-h 160 on the 90th percentile). Optional weights (PM2.5 3, NO2 2, O3 2) — UNCONFIRMED.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .aqi_cn import round_gbt8170
from .gb3095 import MIN_DAYS_YEAR, limit

#: Percentile used for the annual evaluation of each pollutant (HJ 663-2013 annual-evaluation table; HJ 663-2026 same; STANDARDS.md §2.3).
PERCENTILE = {"so2": 98, "no2": 98, "pm10": 95, "pm25": 95, "co": 95, "o3_8h": 90}
#: Whether the annual mean is evaluated (against the annual limit).
HAS_ANNUAL_MEAN = {"so2": True, "no2": True, "pm10": True, "pm25": True, "co": False, "o3_8h": False}
_LIMIT_KEY = {"so2": "so2", "no2": "no2", "pm10": "pm10", "pm25": "pm25", "co": "co", "o3_8h": "o3"}

#: Comprehensive-index denominators S_i (GB 3095-2012 class 2): annual limits; CO 24-h; O3 8-h.
INDEX_LIMITS_2012 = {"so2": 60.0, "no2": 40.0, "pm10": 70.0, "pm25": 35.0, "co": 4.0, "o3_8h": 160.0}
#: Same with the GB 3095-2026 transition class-2 limits (PM10 60, PM2.5 30) — whether the ranking rules
#: adopted them is UNCONFIRMED.
INDEX_LIMITS_2026 = {**INDEX_LIMITS_2012, "pm10": 60.0, "pm25": 30.0}
#: Weights of the weighted index seen in one implementation (PM2.5 3, NO2 2, O3 2) — UNCONFIRMED.
WEIGHTS_PM25_NO2_O3 = {"so2": 1.0, "no2": 2.0, "pm10": 1.0, "pm25": 3.0, "co": 1.0, "o3_8h": 2.0}
INDEX_NAMES = {"so2": "SO2", "no2": "NO2", "pm10": "PM10", "pm25": "PM2.5", "co": "CO", "o3_8h": "O3_8h"}


def percentile(values: Any, p: float, axis: int = -1) -> np.ndarray:
    """HJ 663-2013 Appendix A percentile of the valid (non-NaN) values along ``axis``; NaN if none.

    ``p`` in percent (0–100). Vectorised over all other axes; each row may have its own number of values.
    """
    a = np.sort(np.moveaxis(np.asarray(values, dtype=float), axis, -1), axis=-1)  # NaN sort last
    n = np.sum(~np.isnan(a), axis=-1)
    k = np.round(1.0 + (n - 1) * (p / 100.0), 9)
    s = np.floor(k).astype(np.int64)
    s_idx = np.clip(s - 1, 0, a.shape[-1] - 1)
    s1_idx = np.clip(np.minimum(s, n - 1), 0, a.shape[-1] - 1)
    lo = np.take_along_axis(a, s_idx[..., None], axis=-1)[..., 0]
    hi = np.take_along_axis(a, s1_idx[..., None], axis=-1)[..., 0]
    out = lo + (hi - lo) * (k - s)
    return np.where(n > 0, out, np.nan)


def round_stat(x: Any, pollutant: str) -> np.ndarray:
    """Round a statistic for publication and comparison: CO to 0.1 mg/m³, others to 1 µg/m³ (GB/T 8170)."""
    return round_gbt8170(x, 1 if pollutant == "co" else 0)


def city_daily(site_daily: Any, axis: int = 0) -> np.ndarray:
    """City daily concentration = arithmetic mean of the valid site values, µg/m³ (CO mg/m³); NaN if none.

    HJ 663-2013 city evaluation (clause number not verified, see docs/standards.md).
    """
    a = np.asarray(site_daily, dtype=float)
    n = np.sum(~np.isnan(a), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nansum(a, axis=axis) / np.where(n > 0, n, np.nan)


def evaluate(daily: dict[str, Any], *, zone_class: int = 2, edition: int = 2012,
             min_days: int = MIN_DAYS_YEAR, rounding: bool = True) -> dict[str, np.ndarray]:  # fmt: skip
    """Annual (or period) evaluation per site or city — HJ 663-2013 / HJ 663-2026 annual evaluation (STANDARDS.md §2.3).

    Parameters
    ----------
    daily : dict pollutant → array (..., n_days)
        Keys among ``so2, no2, pm10, pm25, co`` (daily means) and ``o3_8h`` (daily max 8-h). NaN = not valid.
    zone_class : 1 or 2
    edition : GB 3095 limits: 2012, 2026 (transition) or 2031 (final).
    min_days : valid days required for the statistics (324 for a year, GB 3095 Table 4).
    rounding : round the statistics (GB/T 8170) before comparing with the limits.

    Returns
    -------
    dict of arrays: ``<p>_n`` valid days; ``<p>_mean`` (where evaluated); ``<p>_p<pct>`` percentile;
    ``<p>_attains`` int8 (1 attains, 0 exceeds, -1 not enough valid days); ``attains`` over the pollutants
    given (1 all attain, 0 any exceeds, -1 otherwise); ``<p>_mean_multiple`` / ``<p>_p<pct>_multiple``
    = (C − L)/L.
    """
    out: dict[str, np.ndarray] = {}
    overall: np.ndarray | None = None
    for pol, values in daily.items():
        if pol not in PERCENTILE:
            raise ValueError(f"unknown pollutant {pol!r}; expected one of {sorted(PERCENTILE)}")
        a = np.asarray(values, dtype=float)
        n = np.sum(~np.isnan(a), axis=-1)
        enough = n >= min_days
        pct = PERCENTILE[pol]
        key = _LIMIT_KEY[pol]
        p_val = percentile(a, pct)
        if rounding:
            p_val = round_stat(p_val, pol)
        short = "8h" if pol == "o3_8h" else "24h"
        lim_short = limit(key, short, zone_class, edition=edition)
        ok = p_val <= lim_short
        out[f"{pol}_n"] = n
        out[f"{pol}_p{pct}"] = p_val
        out[f"{pol}_p{pct}_multiple"] = (p_val - lim_short) / lim_short
        if HAS_ANNUAL_MEAN[pol]:
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.nansum(a, axis=-1) / np.where(n > 0, n, np.nan)
            if rounding:
                mean = round_stat(mean, pol)
            lim_annual = limit(key, "annual", zone_class, edition=edition)
            ok = ok & (mean <= lim_annual)
            out[f"{pol}_mean"] = mean
            out[f"{pol}_mean_multiple"] = (mean - lim_annual) / lim_annual
        status = np.where(enough, ok.astype(np.int8), np.int8(-1)).astype(np.int8)
        out[f"{pol}_attains"] = status
        if overall is None:
            overall = status.copy()
        else:
            overall = np.where(
                (overall == 0) | (status == 0), 0, np.where((overall == 1) & (status == 1), 1, -1)
            )
    if overall is not None:
        out["attains"] = overall.astype(np.int8)
    return out


def aqi_day_statistics(levels: Any, axis: int = -1) -> dict[str, np.ndarray]:
    """Days per AQI level and the share of good days (优良天数比例) — HJ 663 day statistics on HJ 633 levels.

    ``levels``: daily AQI level 1…6 (0 = no valid AQI that day). Returns ``days_level_1`` … ``days_level_6``,
    ``valid_days``, ``good_days`` (levels I+II) and ``good_share`` (good_days / valid_days, NaN if none).
    """
    lv = np.moveaxis(np.asarray(levels), axis, -1)
    out = {f"days_level_{k}": np.sum(lv == k, axis=-1) for k in range(1, 7)}
    valid = np.sum((lv >= 1) & (lv <= 6), axis=-1)
    good = out["days_level_1"] + out["days_level_2"]
    out["valid_days"] = valid
    out["good_days"] = good
    with np.errstate(invalid="ignore", divide="ignore"):
        out["good_share"] = np.where(valid > 0, good / np.where(valid > 0, valid, 1), np.nan)
    return out


def comprehensive_index(*, so2: Any, no2: Any, pm10: Any, pm25: Any, co_p95: Any, o3_8h_p90: Any,
                        limits: dict[str, float] | None = None,
                        weights: dict[str, float] | None = None) -> dict[str, np.ndarray]:  # fmt: skip
    """Ambient air quality comprehensive index I_sum = Σ w_i · C_i / S_i (城市环境空气质量排名技术规定).

    ``so2, no2, pm10, pm25``: period means, µg/m³; ``co_p95``: 95th percentile of CO daily means, mg/m³;
    ``o3_8h_p90``: 90th percentile of O3 daily max 8-h, µg/m³. ``limits`` default :data:`INDEX_LIMITS_2012`;
    ``weights`` default all 1 (:data:`WEIGHTS_PM25_NO2_O3` for the weighted variant, UNCONFIRMED).

    Returns ``index`` (I_sum), ``I_<p>`` per pollutant, and ``primary`` (name(s) of the largest I_i).
    """
    lims = INDEX_LIMITS_2012 if limits is None else limits
    w = weights or {}
    conc = {"so2": so2, "no2": no2, "pm10": pm10, "pm25": pm25, "co": co_p95, "o3_8h": o3_8h_p90}
    sub = {k: w.get(k, 1.0) * np.asarray(v, dtype=float) / lims[k] for k, v in conc.items()}
    total = sum(sub.values())
    stack = np.stack(list(sub.values()), axis=-1)
    mx = np.max(stack, axis=-1)
    keys = list(sub)
    mask = np.zeros(mx.shape, dtype=np.uint8)
    for i, k in enumerate(keys):
        mask |= (np.round(sub[k], 9) == np.round(mx, 9)).view(np.uint8) << np.uint8(i)
    table = np.array(
        [",".join(INDEX_NAMES[keys[i]] for i in range(6) if m >> i & 1) for m in range(64)], dtype=object
    )
    out = {"index": np.asarray(total), "primary": table[mask]}
    out.update({f"I_{k}": v for k, v in sub.items()})
    return out


def rank(values: Any, decimals: int | None = 2) -> np.ndarray:
    """City ranking by the comprehensive index (城市环境空气质量排名技术规定): ascending (1 = best/lowest),
    equal values share the lowest rank ("1, 2, 2, 4"); NaN → 0.

    Values are rounded to ``decimals`` first (the published precision of the index; None: no rounding).
    """
    v = np.asarray(values, dtype=float)
    if decimals is not None:
        v = np.round(v, decimals)
    ok = ~np.isnan(v)
    out = np.zeros(v.shape, dtype=np.int64)
    vv = v[ok]
    srt = np.sort(vv)
    out[ok] = np.searchsorted(srt, vv, side="left") + 1
    return out
