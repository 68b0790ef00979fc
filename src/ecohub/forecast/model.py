"""The forecast model: gradient-boosted trees (LightGBM) on the log of the daily AQI and concentrations.

Per horizon h (D+1, D+2, D+3) the model fits, on every past origin whose target day has data:

* the AQI — a squared-error model of ``log(1 + AQI)`` (the median forecast) and two quantile models
  (``QUANTILES``, pinball loss) giving the range; without meteorology the published AQI may blend the median
  with persistence (``persistence_weight``, chosen per city on a validation period) and the range moves with
  it; the HJ 633 level of the published AQI is the published level;
* each of the six pollutants' daily value (24-h means, O3 daily max 8-h) — squared error on ``log(1 + c)``;
  their HJ 633 daily sub-indices (``ecohub.standards.aqi_cn.aqi_daily``) name the primary pollutant.

Training is deterministic (fixed seed, ``deterministic=True``, a fixed number of threads), so the same inputs
give the same forecast. The model needs ``MIN_TRAIN_DAYS`` days with AQI before its first issue.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ecohub.forecast.baselines import Climatology, climatology
from ecohub.forecast.features import design
from ecohub.forecast.history import POLLUTANTS, DailyHistory
from ecohub.forecast.met import DailyMet
from ecohub.standards import aqi_cn

MODEL_VERSION = "gbm-aqi-2"
MIN_TRAIN_DAYS = 365
#: The published range: these quantiles of the forecast distribution (nominal 60 % interval).
QUANTILES = (0.2, 0.8)
MIN_RANGE_WIDTH = 10  # AQI points: a range is never narrower (CNEMC ranges are ~20–40 wide)
#: Weight of persistence in the published AQI, per horizon: AQI = (1 − w)·model median + w·last observed AQI
#: (a two-member ensemble; the range moves with the point). Default none: the weight that helps depends on the
#: city and period (docs/forecast.md), so it is chosen per city on a validation period before the test period
#: (``backtest(..., persistence_weight="auto")``) or set explicitly.
PERSISTENCE_WEIGHT: dict[int, float] = {}
WEIGHT_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


@dataclass
class ModelSettings:
    rounds: int = 300
    learning_rate: float = 0.03
    num_leaves: int = 15
    min_data_in_leaf: int = 20
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    lambda_l2: float = 1.0
    seed: int = 20261204
    threads: int = 1
    pollutants: bool = True  # fit the six pollutants (primary pollutant, concentrations)
    pollutant_rounds: int = 150
    persistence_weight: dict[int, float] = field(default_factory=lambda: dict(PERSISTENCE_WEIGHT))

    def params(self, objective: str, alpha: float | None = None) -> dict:
        p = {"objective": objective, "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
             "min_data_in_leaf": self.min_data_in_leaf, "feature_fraction": self.feature_fraction,
             "bagging_fraction": self.bagging_fraction, "bagging_freq": 1, "lambda_l2": self.lambda_l2,
             "seed": self.seed, "deterministic": True, "force_col_wise": True, "num_threads": self.threads,
             "verbosity": -1}
        if alpha is not None:
            p["alpha"] = alpha
        return p


class NotEnoughHistory(ValueError):
    """Too little data to train or to forecast; the message says what is needed and what is there."""


@dataclass
class Forecast:
    """Forecasts of one horizon for many origins (arrays of the same length)."""

    horizon: int
    origin: np.ndarray  # indices into the history's days
    aqi: np.ndarray  # point forecast (integer AQI, HJ 633 rounding up)
    aqi_low: np.ndarray
    aqi_high: np.ndarray
    level: np.ndarray  # 1 … 6 (0 = no forecast)
    conc: dict[str, np.ndarray] = field(default_factory=dict)
    primary: np.ndarray | None = None  # comma-joined primary pollutant(s), '' when AQI ≤ 50


@dataclass
class FittedModel:
    horizon: int
    persistence_weight: float
    clim: Climatology
    boosters: dict  # name → lightgbm.Booster
    feature_names: list[str]
    train_origins: int
    uses_met: bool


def _lgb():
    import lightgbm as lgb

    return lgb


def train_clim(hist: DailyHistory, upto: int) -> Climatology:
    """Climatology of the days ``0 … upto`` (inclusive)."""
    s = slice(0, upto + 1)
    return climatology(hist.days[s], hist.aqi[s], {p: hist.conc[p][s] for p in ("pm25", "o3_8h")})


def fit(hist: DailyHistory, upto: int, horizon: int, *, met: DailyMet | None = None,
        settings: ModelSettings | None = None, clim: Climatology | None = None,
        point_only: bool = False) -> FittedModel:
    """Fit the models of one horizon on the targets up to day index ``upto`` (inclusive). ``point_only``: the
    AQI point model alone (no range, no pollutants — for a day that is not published, e.g. the issue day)."""
    s = settings or ModelSettings()
    n_valid = int(np.count_nonzero(~np.isnan(hist.aqi[: upto + 1])))
    if n_valid < MIN_TRAIN_DAYS:
        raise NotEnoughHistory(f"the model needs at least {MIN_TRAIN_DAYS} days with AQI before the first "
                               f"forecast; the history has {n_valid} (from {hist.days[0]} to "
                               f"{hist.days[min(upto, len(hist) - 1)]})")
    clim = clim or train_clim(hist, upto)
    origins = np.arange(0, upto - horizon + 1)
    target = origins + horizon
    X, names = design(hist, origins, horizon, clim, met)
    lgb = _lgb()
    boosters = {}
    targets = {"aqi": hist.aqi}
    if s.pollutants and not point_only:
        targets.update({p: hist.conc[p] for p in POLLUTANTS})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, series in targets.items():
            y = np.log1p(series[target])
            ok = ~np.isnan(y)
            if ok.sum() < 50:
                continue
            objectives = [("point", "regression", None)]
            if name == "aqi" and not point_only:
                objectives += [(f"q{int(q * 100)}", "quantile", q) for q in QUANTILES]
            for tag, obj, alpha in objectives:
                ds = lgb.Dataset(X[ok], y[ok], feature_name=names, free_raw_data=True,
                                 params={"verbosity": -1, "seed": s.seed})
                rounds = s.rounds if name == "aqi" else s.pollutant_rounds
                boosters[f"{name}:{tag}"] = lgb.train(s.params(obj, alpha), ds, num_boost_round=rounds)
    # the weights were validated for the history-only model; with meteorology none is applied (not validated)
    w = 0.0 if met is not None else float(s.persistence_weight.get(horizon, 0.0))
    return FittedModel(horizon, w, clim, boosters, names, int(origins.size), met is not None)


def predict(model: FittedModel, hist: DailyHistory, origins: np.ndarray, *, met: DailyMet | None = None) -> Forecast:
    """Forecasts of the model's horizon issued after each origin day index."""
    o = np.asarray(origins, dtype=int)
    X, names = design(hist, o, model.horizon, model.clim, met if model.uses_met else None)
    if names != model.feature_names:
        raise ValueError("feature set differs from the fitted model's (met given at fit but not at predict?)")

    def run(key: str) -> np.ndarray:
        b = model.boosters.get(key)
        return np.full(o.size, np.nan) if b is None else np.expm1(b.predict(X, num_threads=1))

    point = run("aqi:point")
    lo, hi = run(f"aqi:q{int(QUANTILES[0] * 100)}"), run(f"aqi:q{int(QUANTILES[1] * 100)}")
    if model.persistence_weight:
        from ecohub.forecast.baselines import persistence

        p = persistence(hist.aqi, o)
        ok = ~np.isnan(p)
        shift = np.where(ok, model.persistence_weight * (p - point), 0.0)
        point, lo, hi = point + shift, lo + shift, hi + shift
    aqi = aqi_cn.ceil_index(np.clip(point, 1, 500))
    lo = np.floor(np.clip(np.fmin(lo, aqi), 1, 500))
    hi = aqi_cn.ceil_index(np.clip(np.fmax(hi, aqi), 1, 500))
    narrow = (hi - lo) < MIN_RANGE_WIDTH
    if narrow.any():
        half = MIN_RANGE_WIDTH / 2
        lo[narrow] = np.maximum(1, np.floor(aqi[narrow] - half))
        hi[narrow] = np.minimum(500, np.ceil(aqi[narrow] + half))
    level = aqi_cn.level_of(aqi)
    conc = {p: run(f"{p}:point") for p in POLLUTANTS}
    primary = None
    if any(f"{p}:point" in model.boosters for p in POLLUTANTS):
        c = {p: np.round(conc[p], 1 if p == "co" else 0) for p in POLLUTANTS}
        conc = c
        res = aqi_cn.aqi_daily(so2=c["so2"], no2=c["no2"], co=c["co"], o3_8h=c["o3_8h"], pm10=c["pm10"],
                               pm25=c["pm25"], edition=_edition_of(hist, o + model.horizon))
        primary = np.where(aqi > 50, _primary_names(res), "")
    return Forecast(model.horizon, o, aqi, lo, hi, level, conc, primary)


def _edition_of(hist: DailyHistory, target: np.ndarray) -> int:
    """HJ 633 edition of the target days (a forecast batch spanning 2026-03-01 uses the newer one)."""
    from ecohub.standards.editions import hj633_edition

    last = hist.days[0] + np.asarray(target).max().astype("timedelta64[D]")
    return int(hj633_edition(np.array([last], dtype="datetime64[s]"))[0])


def _primary_names(res: aqi_cn.AqiResult) -> np.ndarray:
    names = np.asarray(res.primary_pollutant, dtype=object)
    return np.array([str(n).replace("O3_8h", "O3").replace("O3_1h", "O3") for n in names], dtype=object)
