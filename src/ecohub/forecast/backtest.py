"""Rolling-origin backtest: every test day is forecast from the days before it, never from a random split.

For each test day T (from ``test_from`` on) the forecast is issued after day T − h (the origin). The model is
refitted every ``refit_days`` on all targets up to the origin of the first forecast of the block (rolling
origin with periodic refits; ``refit_days=1`` refits before every forecast), so no forecast ever sees data
of its target day or later. Persistence and climatology are computed for the same days from the same
knowledge (climatology of the days before the block's origin) and scored on the same days.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ecohub.forecast.baselines import CLIM_WINDOW, persistence
from ecohub.forecast.history import DailyHistory
from ecohub.forecast.met import DailyMet
from ecohub.forecast.model import (
    MIN_TRAIN_DAYS,
    MODEL_VERSION,
    WEIGHT_GRID,
    ModelSettings,
    NotEnoughHistory,
    fit,
    predict,
    train_clim,
)
from ecohub.forecast.scores import paired_level_test, scores
from ecohub.standards import aqi_cn


@dataclass
class BacktestResult:
    summary: dict  # the contract's JSON object, plus detail
    days: np.ndarray
    observed: np.ndarray
    forecast: np.ndarray
    low: np.ndarray
    high: np.ndarray
    persistence: np.ndarray
    climatology_level: np.ndarray
    climatology_aqi: np.ndarray | None = None


def observed_primary(hist: DailyHistory, idx: np.ndarray) -> np.ndarray:
    """Primary pollutant(s) of the observed days, from their concentrations (HJ 633 daily sub-indices)."""
    c = {p: hist.conc[p][idx] for p in hist.conc}
    res = aqi_cn.aqi_daily(so2=c["so2"], no2=c["no2"], co=c["co"], o3_8h=c["o3_8h"], pm10=c["pm10"],
                           pm25=c["pm25"], edition=2012 if str(hist.days[idx].max()) < "2026-03-01" else 2026)
    names = np.asarray(res.primary_pollutant, dtype=object)
    return np.array([str(n).replace("O3_8h", "O3").replace("O3_1h", "O3") for n in names], dtype=object)


VALIDATION_DAYS = 730


def choose_weight(hist: DailyHistory, test_from: np.datetime64, *, horizon: int = 1, refit_days: int = 30,
                  settings: ModelSettings | None = None) -> dict:
    """The persistence weight of the history-only model for one city, chosen on its own validation period: the
    (up to) ``VALIDATION_DAYS`` days before ``test_from`` that leave a year to train on, rolling origin, best
    exact-level accuracy on :data:`WEIGHT_GRID` (ties → the smaller weight). Nothing of the test period is used."""
    from dataclasses import replace

    start = int((np.datetime64(test_from, "D") - hist.days[0]).astype(int))
    first_valid = int(np.flatnonzero(~np.isnan(hist.aqi))[0]) if hist.valid_days else start
    v0 = max(start - VALIDATION_DAYS, first_valid + MIN_TRAIN_DAYS + 30)
    if start - v0 < 90:
        return {"weight": 0.0, "reason": "under 90 validation days before the test period: no blend",
                "validation_days": max(0, start - v0)}
    s = replace(settings or ModelSettings(), pollutants=False, persistence_weight={})
    inner = backtest(hist.until(hist.days[start - 1]), hist.days[v0], horizon=horizon, refit_days=refit_days,
                     settings=s)
    obs = inner.observed
    ok = ~np.isnan(obs) & ~np.isnan(inner.forecast) & ~np.isnan(inner.persistence)
    acc = {}
    for w in WEIGHT_GRID:
        p = np.ceil((1 - w) * inner.forecast + w * inner.persistence)
        acc[w] = float(np.mean(aqi_cn.level_of(p[ok]) == aqi_cn.level_of(obs[ok]))) * 100 if ok.any() else 0.0
    best = max(WEIGHT_GRID, key=lambda w: (round(acc[w], 6), -w))
    return {"weight": best, "validation_from": str(hist.days[v0]), "validation_to": str(hist.days[start - 1]),
            "validation_days": int(ok.sum()),
            "level_accuracy_by_weight": {str(w): round(a, 2) for w, a in acc.items()}}


def backtest(hist: DailyHistory, test_from: np.datetime64, *, horizon: int = 1, met: DailyMet | None = None,
             refit_days: int = 30, settings: ModelSettings | None = None,
             test_to: np.datetime64 | None = None, persistence_weight: float | str | None = None) -> BacktestResult:
    """Rolling-origin backtest of the D+``horizon`` forecast over the days from ``test_from`` to the end.

    ``persistence_weight``: None = the settings' weights; a number = that weight; ``"auto"`` = chosen for this
    city by :func:`choose_weight` on the days before ``test_from`` (history-only model; with meteorology no
    weight is applied)."""
    t0 = time.perf_counter()
    weight_info: dict | None = None
    if persistence_weight is not None:
        from dataclasses import replace

        if persistence_weight == "auto":
            weight_info = {"weight": 0.0, "reason": "meteorology given: no blend"} if met is not None else \
                choose_weight(hist, test_from, horizon=horizon, refit_days=refit_days, settings=settings)
            w = float(weight_info["weight"])
        else:
            w = float(persistence_weight)
            weight_info = {"weight": w, "reason": "given"}
        settings = replace(settings or ModelSettings(), persistence_weight={horizon: w})
    start = int((np.datetime64(test_from, "D") - hist.days[0]).astype(int))
    if start >= len(hist):
        raise NotEnoughHistory(f"test-from {test_from} is after the last day of the history ({hist.days[-1]})")
    if start - horizon < 0:
        raise NotEnoughHistory(f"test-from {test_from} leaves no day before it to train on "
                               f"(history starts {hist.days[0]})")
    n_train = int(np.count_nonzero(~np.isnan(hist.aqi[: start - horizon + 1])))
    if n_train < MIN_TRAIN_DAYS:
        raise NotEnoughHistory(f"only {n_train} days with AQI before {test_from}; the model needs at least "
                               f"{MIN_TRAIN_DAYS} (one year, for the season and the climatology)")
    end = len(hist) if test_to is None else int((np.datetime64(test_to, "D") - hist.days[0]).astype(int)) + 1
    end = min(end, len(hist))
    if end <= start:
        raise NotEnoughHistory(f"test-to {test_to} is before test-from {test_from}")
    targets = np.arange(max(start, horizon), end)
    origins = targets - horizon
    n = targets.size
    fc = np.full(n, np.nan)
    lo, hi = np.full(n, np.nan), np.full(n, np.nan)
    fc_level = np.zeros(n, dtype=np.int8)
    fc_primary = np.full(n, "", dtype=object)
    clim_aqi, clim_level = np.full(n, np.nan), np.zeros(n, dtype=np.int8)
    refits = 0
    for b0 in range(0, n, max(1, refit_days)):
        blk = slice(b0, min(n, b0 + max(1, refit_days)))
        upto = int(origins[blk.start])
        clim = train_clim(hist, upto)
        model = fit(hist, upto, horizon, met=met, settings=settings, clim=clim)
        refits += 1
        f = predict(model, hist, origins[blk], met=met)
        fc[blk], lo[blk], hi[blk], fc_level[blk] = f.aqi, f.aqi_low, f.aqi_high, f.level
        if f.primary is not None:
            fc_primary[blk] = f.primary
        c = clim.at(hist.days[targets[blk]])
        clim_aqi[blk], clim_level[blk] = c["aqi"], c["level"]
    obs = hist.aqi[targets]
    pers = persistence(hist.aqi, origins)
    common = ~np.isnan(obs) & ~np.isnan(fc) & ~np.isnan(pers) & ~np.isnan(clim_aqi)

    def only(x):
        y = np.asarray(x, dtype=float).copy()
        y[~common] = np.nan
        return y

    obs_primary = observed_primary(hist, targets)
    model_s = scores(only(fc), obs, fc_level=fc_level, low=lo, high=hi, fc_primary=fc_primary,
                     obs_primary=obs_primary)
    pers_s = scores(only(pers), obs, low=None, high=None)
    clim_s = scores(only(clim_aqi), obs, fc_level=clim_level)
    obs_level = np.where(common, aqi_cn.level_of(obs), 0)
    pers_level = aqi_cn.level_of(pers)
    summary = {
        "days": model_s["days"],
        "level_accuracy": model_s["level_accuracy"],
        "persistence_level_accuracy": pers_s["level_accuracy"],
        "climatology_level_accuracy": clim_s["level_accuracy"],
        "within_one_level": model_s["within_one_level"],
        "aqi_mae": model_s["aqi_mae"],
        "range_hit_rate": model_s["range_hit_rate"],
        "csi_polluted": model_s["csi_polluted"],
        "pod_polluted": model_s["pod_polluted"],
        "far_polluted": model_s["far_polluted"],
        "primary_pollutant_accuracy": model_s.get("primary_pollutant_accuracy"),
        "mean_range_width": round(float(np.nanmean((hi - lo)[common])), 1) if common.any() else None,
        "persistence": {k: pers_s.get(k) for k in ("level_accuracy", "within_one_level", "aqi_mae",
                                                    "pod_polluted", "far_polluted", "csi_polluted")},
        "climatology": {k: clim_s.get(k) for k in ("level_accuracy", "within_one_level", "aqi_mae",
                                                    "pod_polluted", "far_polluted", "csi_polluted")},
        "contingency": model_s.get("contingency"),
        "vs_persistence": paired_level_test(fc_level, pers_level, obs_level),
        "vs_climatology": paired_level_test(fc_level, clim_level, obs_level),
        "horizon": horizon,
        "test_from": str(hist.days[targets[0]]),
        "test_to": str(hist.days[targets[-1]]),
        "train_from": str(hist.days[0]),
        "skipped_days": int(n - common.sum()),
        "refit_days": refit_days,
        "refits": refits,
        "climatology_window_days": CLIM_WINDOW,
        "meteorology": met is not None,
        "persistence_weight": weight_info,
        "model_version": MODEL_VERSION,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    return BacktestResult(summary, hist.days[targets], obs, fc, lo, hi, pers, clim_level, clim_aqi)
