"""Experiment (not the operational model): do a validated stack of model, persistence and climatology, or a
polluted-day decision from the upper quantile, beat the current published forecast out of sample?

    python tools/forecast_stacking.py FILE.csv --validation-from 2019-01-02 --test-from 2021-01-01

Both backtests are rolling origin (``forecast.backtest``, D+1, model ``w = 0``, refit every 30 days, no
pollutant models): the validation period (the days before ``--test-from``) chooses, the test period scores.

* **Stack**: published AQI = k·((1 − wp − wc)·model + wp·persistence + wc·climatology median), grid wp 0 … 0.7,
  wc 0 … 0.5 (wp + wc ≤ 0.8), k ∈ {0.9, 0.95, 1, 1.05, 1.1}; best exact-level accuracy on validation.
* **Polluted-day decision**: "polluted" (AQI > 100) when the point forecast or the upper (80 %) quantile exceeds
  τ (τ 100 … 195 chosen on validation for the best CSI).

Prints one JSON object. Results are recorded in docs/forecast.md.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from ecohub.forecast.backtest import backtest
from ecohub.forecast.history import read_daily_file
from ecohub.forecast.model import ModelSettings
from ecohub.forecast.scores import scores
from ecohub.standards import aqi_cn


def _stack(r, wp: float, wc: float, k: float) -> np.ndarray:
    return np.ceil(np.clip(k * ((1 - wp - wc) * r.forecast + wp * r.persistence + wc * r.climatology_aqi), 1, 500))


def _grid():
    for wp in np.round(np.arange(0, 0.75, 0.1), 2):
        for wc in np.round(np.arange(0, 0.55, 0.1), 2):
            if wp + wc <= 0.8 + 1e-9:
                for k in (0.9, 0.95, 1.0, 1.05, 1.1):
                    yield float(wp), float(wc), k


def _alert(r, tau: float) -> dict:
    ok = ~np.isnan(r.observed) & ~np.isnan(r.forecast) & ~np.isnan(r.high)
    pf, po = (r.forecast[ok] > 100) | (r.high[ok] > tau), r.observed[ok] > 100
    h, fa, m = int((pf & po).sum()), int((pf & ~po).sum()), int((~pf & po).sum())
    return {"csi": round(100 * h / max(1, h + fa + m), 2), "pod": round(100 * h / max(1, h + m), 2),
            "far": round(100 * fa / max(1, h + fa), 2)}


def _score(r, x: np.ndarray) -> dict:
    s = scores(x, r.observed, fc_level=aqi_cn.level_of(np.nan_to_num(x, nan=0)))
    return {k: s.get(k) for k in ("days", "level_accuracy", "within_one_level", "aqi_mae", "csi_polluted")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("daily")
    ap.add_argument("--validation-from", required=True)
    ap.add_argument("--test-from", required=True)
    a = ap.parse_args(argv)
    h = read_daily_file(a.daily)
    s = ModelSettings(pollutants=False)
    tf = np.datetime64(a.test_from)
    val = backtest(h.until(tf - 1), np.datetime64(a.validation_from), settings=s, persistence_weight=0)
    test = backtest(h, tf, settings=s, persistence_weight=0)

    def acc(r, c) -> float:
        return float(_score(r, _stack(r, *c))["level_accuracy"] or 0.0)

    vals = {c: acc(val, c) for c in _grid()}
    best = max(vals, key=lambda c: (round(vals[c], 6), -c[0] - c[1], -abs(c[2] - 1)))
    taus = [float(t) for t in range(100, 200, 5)]
    tau = max(taus, key=lambda t: (_alert(val, t)["csi"], t))
    out = {
        "file": a.daily, "validation_days": int(val.summary["days"]), "test_days": int(test.summary["days"]),
        "stack_chosen": {"wp": best[0], "wc": best[1], "k": best[2], "validation_level_accuracy": round(vals[best], 2)},
        "test": {"stack": _score(test, _stack(test, *best)), "model_w0": _score(test, _stack(test, 0, 0, 1)),
                 "persistence": _score(test, test.persistence)},
        "polluted_decision": {"tau": tau, "validation": _alert(val, tau), "test": _alert(test, tau),
                              "test_point_only": _alert(test, 1e9)},
    }
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
