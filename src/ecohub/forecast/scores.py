"""Forecast verification scores (daily AQI and level), with the polluted-day contingency table.

Definitions (Jolliffe & Stephenson, *Forecast Verification*, 2nd ed. 2012, ch. 3; WMO/WWRP JWGFVR
"Forecast verification methods", https://www.cawcr.gov.au/projects/verification/):

* exact level accuracy — share of days whose forecast HJ 633 level equals the observed level (%);
* within one level — share with |forecast level − observed level| ≤ 1 (%);
* AQI MAE — mean absolute error of the AQI;
* range hit rate — share of days whose observed AQI lies in the published range [low, high] (%);
* polluted day = observed/forecast AQI > 100 (HJ 633: level III 轻度污染 and worse). With a = hits,
  b = false alarms, c = misses: POD = a/(a+c), FAR = b/(a+b), CSI = a/(a+b+c) (%); None when the denominator
  is 0 (no event to score), never 0 or 100 by convention.

Only days with an observation and a forecast are scored; ``days`` says how many.
"""

from __future__ import annotations

import numpy as np

from ecohub.standards.aqi_cn import level_of

POLLUTED = 100


def _pct(num: float, den: float) -> float | None:
    return None if den == 0 else round(100.0 * num / den, 2)


def contingency(fc_aqi: np.ndarray, obs_aqi: np.ndarray, threshold: float = POLLUTED) -> dict[str, int]:
    f, o = np.asarray(fc_aqi, float) > threshold, np.asarray(obs_aqi, float) > threshold
    return {"hits": int(np.sum(f & o)), "false_alarms": int(np.sum(f & ~o)), "misses": int(np.sum(~f & o)),
            "correct_negatives": int(np.sum(~f & ~o))}


def scores(fc_aqi, obs_aqi, *, fc_level=None, low=None, high=None, fc_primary=None, obs_primary=None) -> dict:
    """Verification scores over the days where both the forecast AQI and the observed AQI exist."""
    fa, oa = np.asarray(fc_aqi, float), np.asarray(obs_aqi, float)
    ok = ~np.isnan(fa) & ~np.isnan(oa)
    n = int(ok.sum())
    out: dict = {"days": n}
    if n == 0:
        return out | {"level_accuracy": None, "within_one_level": None, "aqi_mae": None, "range_hit_rate": None,
                      "pod_polluted": None, "far_polluted": None, "csi_polluted": None}
    fl = level_of(fa[ok]) if fc_level is None else np.asarray(fc_level)[ok]
    ol = level_of(oa[ok])
    diff = np.abs(fl.astype(int) - ol.astype(int))
    out["level_accuracy"] = _pct(np.sum(diff == 0), n)
    out["within_one_level"] = _pct(np.sum(diff <= 1), n)
    out["aqi_mae"] = round(float(np.mean(np.abs(fa[ok] - oa[ok]))), 2)
    if low is not None and high is not None:
        lo, hi = np.asarray(low, float)[ok], np.asarray(high, float)[ok]
        out["range_hit_rate"] = _pct(np.sum((oa[ok] >= lo) & (oa[ok] <= hi)), n)
    else:
        out["range_hit_rate"] = None
    c = contingency(fa[ok], oa[ok])
    a, b, m = c["hits"], c["false_alarms"], c["misses"]
    out["pod_polluted"] = _pct(a, a + m)
    out["far_polluted"] = _pct(b, a + b)
    out["csi_polluted"] = _pct(a, a + b + m)
    out["contingency"] = c
    if fc_primary is not None and obs_primary is not None:
        fp, op = np.asarray(fc_primary, dtype=object)[ok], np.asarray(obs_primary, dtype=object)[ok]
        both = np.array([bool(f) and bool(o) for f, o in zip(fp, op, strict=True)])
        hit = np.array([bool(set(str(f).split(",")) & set(str(o).split(","))) for f, o in
                        zip(fp[both], op[both], strict=True)], dtype=bool)
        out["primary_pollutant_accuracy"] = _pct(hit.sum(), both.sum())
        out["primary_pollutant_days"] = int(both.sum())
    return out


def paired_level_test(fc_level, ref_level, obs_level) -> dict:
    """Exact McNemar test of two forecasts' exact-level hits on the same days (two-sided binomial p-value).

    ``forecast_only``: days the forecast got the level and the reference did not; ``reference_only``: the
    reverse. McNemar (1947), Psychometrika 12, 153–157; exact form = binomial test of b vs b + c at 1/2.
    """
    from math import comb

    f, r, o = (np.asarray(x) for x in (fc_level, ref_level, obs_level))
    ok = (o > 0) & (f > 0) & (r > 0)
    b = int(np.sum((f == o) & (r != o) & ok))
    c = int(np.sum((f != o) & (r == o) & ok))
    n = b + c
    if n == 0:
        return {"forecast_only": 0, "reference_only": 0, "p_value": None}
    k = min(b, c)
    p = min(1.0, 2 * sum(comb(n, i) for i in range(k + 1)) / 2**n)
    return {"forecast_only": b, "reference_only": c, "p_value": round(p, 4)}
