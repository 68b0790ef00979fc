"""Alert rule ``radiation``: ambient gamma dose rate above the station's own background range.

For each touched ``gamma_dose_rate`` series of a ``radiation_point``, the new valid values are compared with the
background range of the station's history — the 365 days before the first new value, mean ± 3σ
(:func:`ecohub.standards.radiation.background_range`, see docs/assessments.md; the 3σ rule is UNCONFIRMED
against HJ 61-2021). The highest new value above the range raises (or refreshes) one alert per station; a
station whose newest value is back inside the range clears it. A station with too little history is skipped
(no background, no guess).
"""

from __future__ import annotations

import numpy as np
from sqlalchemy.engine import Connection

from ecohub.alerts.lifecycle import Condition
from ecohub.alerts.rules import Findings, _bj
from ecohub.quality.valid import load_series
from ecohub.standards import radiation

HISTORY_SECONDS = 365 * 86400


def radiation_rule(conn: Connection, touched: dict[int, tuple[int, int]], meta: dict[int, dict]) -> Findings:
    f = Findings()
    todo = {sid: span for sid, span in touched.items()
            if (m := meta.get(sid)) and m["parameter"] == "gamma_dose_rate" and m["kind"] == "radiation_point"}
    if not todo:
        return f
    data = load_series(conn, {sid: (t0 - HISTORY_SECONDS, t1 + 1) for sid, (t0, t1) in todo.items()})
    for sid, (t0, _t1) in todo.items():
        sv = data.get(sid)
        if sv is None:
            continue
        m = meta[sid]
        vals = sv.valid_values
        hist, new = vals[sv.time < t0], vals[sv.time >= t0]
        new_t = sv.time[sv.time >= t0]
        try:
            bg = radiation.background_range(hist)
        except ValueError:
            continue
        key = f"radiation:{m['site']}"
        ok = ~np.isnan(new)
        if not ok.any():
            continue
        high = ok & (new > bg["high"])
        if high.any():
            i = int(np.argmax(np.where(high, new, -np.inf)))
            v, t = float(new[i]), int(new_t[i])
            msg = (f"{m['site']} γ辐射空气吸收剂量率 {v:.1f} nGy/h，高于本底范围上限 {bg['high']:.1f} "
                   f"（均值 {bg['mean']:.1f} ± 3σ），{_bj(t)}")
            f.conditions.append(Condition("radiation", key, "major", msg, m["site_id"], m["site"], m["region"],
                                          m["parameter_id"], "gamma_dose_rate", None, v, t,
                                          {"background": {k: round(float(bg[k]), 3) for k in ("mean", "std", "low",
                                                                                               "high")},
                                           "n_history": bg["n"]}))
        elif float(new[ok][-1]) <= bg["high"]:
            f.cleared.append(key)
    return f
