"""Ambient gamma dose rate (环境γ辐射空气吸收剂量率, nGy/h) against a station's own background range.

* Background range = the station's history mean ± k·σ (k = 3 by default; sample standard deviation, ddof = 1).
  The "mean ± 3σ" reading of the background fluctuation range is common practice in Chinese radiation
  monitoring (provincial automatic-station reports state results "within the local background fluctuation
  range"); the exact rule text of HJ 61-2021 / HJ 1157-2021 could not be confirmed here — UNCONFIRMED, see
  docs/assessments.md.
* A value above mean + k·σ is an anomaly (``high``); below mean − k·σ is reported as ``low`` (an instrument
  fault or shielding, not a radiological alarm).
* A background needs at least :data:`MIN_BACKGROUND` values (ours).
"""

from __future__ import annotations

from typing import Any

import numpy as np

K_SIGMA = 3.0
MIN_BACKGROUND = 24


def background_range(history: Any, k: float = K_SIGMA) -> dict[str, float]:
    """``mean``, ``std``, ``low``, ``high`` and ``n`` of the valid (non-NaN, ≥ 0) history values."""
    a = np.asarray(history, dtype=float)
    a = a[~np.isnan(a) & (a >= 0)]
    if a.size < MIN_BACKGROUND:
        raise ValueError(f"history: {a.size} valid values; a background range needs at least {MIN_BACKGROUND}")
    m, s = float(a.mean()), float(a.std(ddof=1))
    return {"mean": m, "std": s, "low": m - k * s, "high": m + k * s, "n": int(a.size), "k": k}


def classify(values: Any, background: dict[str, float]) -> np.ndarray:
    """Per value: ``"high"`` (> high), ``"low"`` (< low), ``"normal"``, or ``""`` when missing."""
    v = np.asarray(values, dtype=float)
    out = np.where(v > background["high"], "high", np.where(v < background["low"], "low", "normal"))
    return np.where(np.isnan(v), "", out)
