"""Making one issue (pure): D+1 … D+3 forecasts of a target from its daily history, with the baselines and
the warning level. The store side (:mod:`.service`) saves what this returns.

* **Origin** — the last day of the history with data up to the issue day D (a daily file may hold D; the
  stored hourly data give complete days up to D − 1). The model is fitted for each horizon ``target − origin``
  on the whole history (one fit per horizon, deterministic), so the days D+1 … D+3 are forecast from the
  origin; the day(s) between the origin and D+1 are forecast as well, for the warning sequence only.
* **Method** — ``model`` with at least ``MIN_TRAIN_DAYS`` days with AQI; otherwise ``persistence`` (the last
  observed AQI, range ±20 %) when a day with AQI is among the last ``PERSIST_LOOKBACK`` + 1 days before D;
  otherwise no issue (the reason is returned).
* **Meteorology** — when the met data cover the target days (a forecast feed, or a file) the target day's
  weather is used (``use = target``); else, if they hold the origin day, the observed weather of the origin day
  (``use = origin``); else none (``inputs["met_mode"]`` says which).
* **Warning** — :func:`ecohub.forecast.warning_levels.warning_level` over the sequence: observed AQI of the
  origin, then the forecasts of every day after it up to D+3.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ecohub.forecast.backtest import observed_primary
from ecohub.forecast.baselines import PERSIST_LOOKBACK, persistence
from ecohub.forecast.history import POLLUTANTS, DailyHistory
from ecohub.forecast.met import DailyMet
from ecohub.forecast.model import MIN_TRAIN_DAYS, MODEL_VERSION, ModelSettings, fit, predict, train_clim
from ecohub.forecast.warning_levels import warning_level
from ecohub.standards import aqi_cn

LEADS = (1, 2, 3)
PERSISTENCE_RANGE = 0.2


@dataclass
class IssueResult:
    ok: bool
    reason: str = ""
    method: str = ""
    model_version: str = MODEL_VERSION
    origin_day: str | None = None
    days: list[dict] = field(default_factory=list)  # one per lead: day, lead, aqi, range, level, …
    warning: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)
    met_used: bool = False


def make_issue(hist: DailyHistory, issue_day: np.datetime64, *, met: DailyMet | None = None,
               scheme: str = "2018", settings: ModelSettings | None = None) -> IssueResult:
    """Forecast D+1 … D+3 (D = ``issue_day``) from the history known at issue time (days ≤ D)."""
    d = np.datetime64(issue_day, "D")
    h = hist.until(d)
    ok = ~np.isnan(h.aqi)
    inputs = h.summary() | {"problems": [str(p) for p in hist.problems[:20]]}
    if not ok.any():
        return IssueResult(False, f"no day with AQI up to {d}", inputs=inputs)
    origin = int(np.flatnonzero(ok)[-1])
    origin_day = h.days[origin]
    gap = int((d - origin_day).astype(int))
    if gap > PERSIST_LOOKBACK + 1:
        return IssueResult(False, f"the last day with AQI is {origin_day}, {gap} days before the issue day {d}: "
                                  "too old to forecast from", inputs=inputs)
    # the history ends at the origin (nothing after it is known)
    h = h.until(origin_day)
    horizons = list(range(1, gap + LEADS[-1] + 1))  # origin+1 … D+3
    targets = [origin_day + np.timedelta64(k, "D") for k in horizons]
    n_valid = int(ok.sum())
    seq = [float(h.aqi[origin])]
    out_days: list[dict] = []
    last_conc = {p: float(h.conc[p][origin]) for p in POLLUTANTS}
    obs_primary = str(observed_primary(h, np.array([origin]))[0])
    met_mode = None
    if met is not None and n_valid >= MIN_TRAIN_DAYS:
        # weather of the target days when the met data hold them (a forecast feed); else the observed weather up
        # to the origin (features of the origin day); none at all when neither is there
        if met.use == "target" and not met.covers(np.array(targets)):
            met = replace(met, use="origin")
        if met.use == "origin" and not met.covers(np.array([origin_day])):
            met = None
        met_mode = met.use if met is not None else None
    inputs["met_mode"] = met_mode
    if n_valid >= MIN_TRAIN_DAYS:
        method = "model"
        clim = train_clim(h, origin)
        for k, t in zip(horizons, targets, strict=True):
            lead = int((t - d).astype(int))
            m = fit(h, origin, k, met=met, settings=settings, clim=clim, point_only=lead not in LEADS)
            f = predict(m, h, np.array([origin]), met=met)
            seq.append(float(f.aqi[0]))
            if lead in LEADS:
                c = m.clim.at(np.array([t]))
                out_days.append({
                    "day": str(t), "lead": lead, "aqi": float(f.aqi[0]), "aqi_low": float(f.aqi_low[0]),
                    "aqi_high": float(f.aqi_high[0]), "level": int(f.level[0]),
                    "primary_pollutant": (str(f.primary[0]) or None) if f.primary is not None else None,
                    **{p: _num(f.conc.get(p, [np.nan])[0]) for p in POLLUTANTS},
                    "persistence_aqi": float(h.aqi[origin]), "climatology_aqi": _num(c["aqi"][0]),
                    "climatology_level": int(c["level"][0]) or None,
                })
    else:
        method = "persistence"
        p = float(persistence(h.aqi, np.array([origin]))[0])
        for t in targets:
            seq.append(p)
            lead = int((t - d).astype(int))
            if lead in LEADS:
                out_days.append({
                    "day": str(t), "lead": lead, "aqi": p, "aqi_low": float(np.floor(p * (1 - PERSISTENCE_RANGE))),
                    "aqi_high": float(np.ceil(p * (1 + PERSISTENCE_RANGE))), "level": int(aqi_cn.level_of([p])[0]),
                    "primary_pollutant": obs_primary or None, **{q: _num(v) for q, v in last_conc.items()},
                    "persistence_aqi": p, "climatology_aqi": None, "climatology_level": None,
                })
    w = warning_level(seq, scheme)
    warning = {"level": w.level, "color": w.color, "name_zh": w.name_zh, "name_en": w.name_en, "scheme": scheme,
               "reason": w.reason, "sequence": [{"day": str(origin_day + np.timedelta64(i, "D")),
                                                 "aqi": None if np.isnan(a) else a} for i, a in enumerate(seq)]}
    reason = "" if method == "model" else (f"{n_valid} days with AQI (< {MIN_TRAIN_DAYS}): persistence only, "
                                            "the model needs a year of history")
    return IssueResult(True, reason, method, MODEL_VERSION if method == "model" else "persistence",
                       str(origin_day), out_days, warning, inputs, met_mode is not None and method == "model")


def _num(v) -> float | None:
    v = float(v)
    return None if np.isnan(v) else v
