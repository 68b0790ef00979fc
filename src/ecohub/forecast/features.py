"""The model's inputs for a forecast issued after day ``o`` (the origin: last day with data) for day ``o + h``.

Everything is known at issue time: AQI and pollutant history up to ``o`` (lags, running means), the
climatology of the years before (computed on the training days only), the calendar of the target day, and
meteorology of the target day and the day before it when a met file/feed is given (observed weather used
as a perfect forecast in backtests — stated wherever a score with meteorology is reported), or — when only
observed weather is at hand (``DailyMet.use == "origin"``, a stored station feed) — the weather of the origin
day and the day before it. Missing values
stay NaN (gradient boosting routes them).
"""

from __future__ import annotations

import numpy as np

from ecohub.forecast.baselines import Climatology
from ecohub.forecast.calendar import calendar_features
from ecohub.forecast.history import POLLUTANTS, DailyHistory
from ecohub.forecast.met import QUANTITIES, DailyMet
from ecohub.standards.aqi_cn import level_of

AQI_LAGS = (0, 1, 2, 3, 6)
POLLUTANT_LAGS = (0, 1)
MET_FEATURES = QUANTITIES


def _take(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    out = np.full(idx.size, np.nan)
    ok = (idx >= 0) & (idx < x.size)
    out[ok] = x[idx[ok]]
    return out


def _window(x: np.ndarray, origin: np.ndarray, n: int) -> np.ndarray:
    """(len(origin), n) matrix of x[o-n+1 … o]."""
    idx = origin[:, None] - np.arange(n - 1, -1, -1)[None, :]
    out = np.full(idx.shape, np.nan)
    ok = (idx >= 0) & (idx < x.size)
    out[ok] = x[idx[ok]]
    return out


def _nan_stat(f, m: np.ndarray) -> np.ndarray:
    out = np.full(m.shape[0], np.nan)
    ok = ~np.all(np.isnan(m), axis=1)
    if ok.any():
        out[ok] = f(m[ok], axis=1)
    return out


def design(hist: DailyHistory, origins: np.ndarray, horizon: int, clim: Climatology,
           met: DailyMet | None = None) -> tuple[np.ndarray, list[str]]:
    """Feature matrix (len(origins) × features) and the feature names."""
    o = np.asarray(origins, dtype=int)
    target_days = hist.days[0] + (o + horizon).astype("timedelta64[D]")
    origin_days = hist.days[0] + o.astype("timedelta64[D]")
    la = np.log1p(hist.aqi)
    cols: dict[str, np.ndarray] = {}
    for k in AQI_LAGS:
        cols[f"log_aqi_lag{k}"] = _take(la, o - k)
    w7 = _window(la, o, 7)
    with np.errstate(all="ignore"):
        cols["log_aqi_mean3"] = _nan_stat(np.nanmean, w7[:, -3:])
        cols["log_aqi_mean7"] = _nan_stat(np.nanmean, w7)
        cols["log_aqi_max7"] = _nan_stat(np.nanmax, w7)
        cols["log_aqi_std7"] = _nan_stat(np.nanstd, w7)
    w30 = _window(la, o, 30)
    with np.errstate(all="ignore"):
        cols["log_aqi_mean30"] = _nan_stat(np.nanmean, w30)
        cols["log_aqi_mean365"] = _nan_stat(np.nanmean, _window(la, o, 365))
    cols["log_aqi_trend"] = cols["log_aqi_lag0"] - cols["log_aqi_lag1"]
    cols["level_lag0"] = np.where(np.isnan(cols["log_aqi_lag0"]), np.nan,
                                  level_of(_take(hist.aqi, o)).astype(float))
    for p in POLLUTANTS:
        lp = np.log1p(hist.conc[p])
        for k in POLLUTANT_LAGS:
            cols[f"log_{p}_lag{k}"] = _take(lp, o - k)
    with np.errstate(all="ignore"):
        cols["pm_ratio_lag0"] = _take(hist.conc["pm25"] / hist.conc["pm10"], o)
    ct, co = clim.at(target_days), clim.at(origin_days)
    cols["clim_log_aqi"] = np.log1p(ct["aqi"])
    cols["clim_log_q75"] = np.log1p(ct["q75"])
    cols["clim_level"] = ct["level"].astype(float)
    for p in ("pm25", "o3_8h"):
        if p in ct:
            cols[f"clim_log_{p}"] = np.log1p(ct[p])
    cols["anomaly_lag0"] = cols["log_aqi_lag0"] - np.log1p(co["aqi"])
    cols["anomaly_mean30"] = cols["log_aqi_mean30"] - np.log1p(co["aqi"])
    for k, v in calendar_features(target_days).items():
        cols[k] = v
    cols["horizon"] = np.full(o.size, float(horizon))
    if met is not None:
        # ``target``: weather of the target day (a forecast); ``origin``: observed weather known at issue time
        base_days, pre = (target_days, "met") if met.use == "target" else (origin_days, "met_obs")
        mt, mp = met.on(base_days), met.on(base_days - np.timedelta64(1, "D"))
        for q in MET_FEATURES:
            if q in mt:
                cols[f"{pre}_{q}"] = mt[q]
                cols[f"{pre}_prev_{q}"] = mp[q]
        if "pres" in mt:
            cols[f"{pre}_dpres"] = mt["pres"] - mp["pres"]
        if "temp" in mt:
            cols[f"{pre}_dtemp"] = mt["temp"] - mp["temp"]
    names = list(cols)
    return np.column_stack([cols[n] for n in names]).astype(np.float64), names
