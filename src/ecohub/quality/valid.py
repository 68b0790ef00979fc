"""Valid data and period means under the validity rules — what aggregates, assessments and alerts use.

An observation is *valid* when it has a value, its device flag is not an invalid one (:mod:`ecohub.quality.flags`)
and QC has stored no invalid (level 2) flag for it. Where a series has values from several sources at one
time, the lowest source id is used (one value per time).

Period means (Beijing-time natural periods; a day runs 00:00–24:00 UTC+8):
* hourly mean from minute data: ≥ 45 valid minute values (GB 3095 Table 4; HJ 212-2017 D.2 / HJ 75 CEMS);
  from real-time data: ≥ 75 % of the hour's expected values;
* daily mean from hourly values: ≥ 20 valid hours (GB 3095 Table 4; HJ 75) — via
  :func:`ecohub.standards.emission.block_mean` / :func:`ecohub.standards.gb3095.daily_mean` semantics.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sqlalchemy.engine import Connection

from ecohub.quality import store_io as io
from ecohub.quality.config import INTERVAL_SECONDS
from ecohub.quality.flags import INVALID, flag_levels
from ecohub.standards import emission, gb3095

BEIJING_OFFSET = 8 * 3600
MIN_MINUTES_PER_HOUR = emission.MIN_MINUTES_PER_HOUR  # 45
MIN_HOURS_PER_DAY = gb3095.MIN_HOURS_DAY  # 20


@dataclass
class SeriesValues:
    """One series' observations in a window (one value per time)."""

    series_id: int
    time: np.ndarray  # int64 epoch
    value: np.ndarray  # float64, NaN where missing
    valid: np.ndarray  # bool
    qc_level: np.ndarray  # int8: max of device-flag level and stored QC level
    flag: np.ndarray  # object

    @property
    def valid_values(self) -> np.ndarray:
        return np.where(self.valid, self.value, np.nan)


def load_series(conn: Connection, windows: dict[int, tuple[int, int | None]]) -> dict[int, SeriesValues]:
    """Observations of each series in its window, with validity (device flag + stored QC flags)."""
    sid, src, obs, qc = io.load_windows(conn, windows, with_qc=True)
    out: dict[int, SeriesValues] = {}
    if len(obs) == 0:
        return out
    level = validity_levels(obs.flag, qc)
    # one value per (series, time): rows are sorted by series, source, time → stable sort by (series, time)
    order = np.lexsort((src, obs.time, sid))
    s_o, t_o = sid[order], obs.time[order]
    keep = np.r_[True, (s_o[1:] != s_o[:-1]) | (t_o[1:] != t_o[:-1])]
    order = order[keep]
    s_o = sid[order]
    bounds = np.flatnonzero(np.r_[True, s_o[1:] != s_o[:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        ix = order[a:b]
        v = obs.value[ix]
        lv = level[ix]
        out[int(s_o[a])] = SeriesValues(int(s_o[a]), obs.time[ix], v, is_valid(v, lv), lv, obs.flag[ix])
    return out


def validity_levels(flags: np.ndarray, qc: np.ndarray | None = None) -> np.ndarray:
    """Per observation the larger of its device flag's level (:mod:`ecohub.quality.flags`; none = valid) and its
    stored QC level (``qc``; None = no QC flags) — pure, shared with the lake's Spark jobs."""
    flags = np.asarray(flags, dtype=object)
    dev = np.zeros(len(flags), dtype=np.int8)
    has = flags != None  # noqa: E711
    if has.any():
        dev[has] = flag_levels(flags[has])
    return dev if qc is None else np.maximum(dev, np.asarray(qc).astype(np.int8))


def is_valid(values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Valid = has a value and its level is below :data:`~ecohub.quality.flags.INVALID` (module doc)."""
    return ~np.isnan(values) & (levels < INVALID)


def period_start(t: np.ndarray, period: str) -> np.ndarray:
    """Start (epoch) of the Beijing-time hour or natural day containing each time."""
    step = 3600 if period == "hour" else 86400
    return ((np.asarray(t, dtype=np.int64) + BEIJING_OFFSET) // step) * step - BEIJING_OFFSET


def hourly_means(sv: SeriesValues, interval: str) -> tuple[np.ndarray, np.ndarray]:
    """Valid hourly values of a series: (hour starts, values); NaN where the hour is not valid."""
    if interval == "hour":
        return sv.time, sv.valid_values
    if interval == "day":
        raise ValueError("daily series have no hourly values")
    step = INTERVAL_SECONDS.get(interval, 60)
    if interval == "minute":
        step = minute_step(sv.time)
    per_hour = 3600 // step
    if interval == "minute":  # ≥ 45 of 60 minutes: 45 one-minute values, 5 of 6 ten-minute values
        need = int(np.ceil(MIN_MINUTES_PER_HOUR * 60 / step))
    else:
        need = int(np.ceil(0.75 * per_hour))
    return _group_mean(sv.time, sv.valid_values, "hour", need)


def minute_step(t: np.ndarray) -> int:
    """The period (s) of a ``minute`` series: the most common spacing of its times, when it divides the hour
    (HJ 212 2051 "minute data" come in 1- or 10-minute periods — the device's MinInterval, HJ 212-2017 — and
    are stored as interval ``minute`` without it); else 60. An hour of 10-minute data is valid with 5 of its 6
    values: the 45-of-60-minutes rule read as ≥ 45 minutes covered (our reading, UNCONFIRMED; docs/permits.md)."""
    d = np.diff(np.asarray(t, dtype=np.int64))
    d = d[(d > 0) & (d <= 3600)]
    if d.size == 0:
        return 60
    vals, cnt = np.unique(d, return_counts=True)
    step = int(vals[np.argmax(cnt)])
    return step if step >= 60 and 3600 % step == 0 else 60


def daily_means(hour_t: np.ndarray, hour_v: np.ndarray, min_hours: int = MIN_HOURS_PER_DAY):
    """Daily means (natural Beijing days) from valid hourly values: (day starts, means, valid hours)."""
    return _group_mean(hour_t, hour_v, "day", min_hours, with_count=True)


def _group_mean(t, v, period, need, with_count=False):
    if len(t) == 0:
        e = np.zeros(0, np.int64)
        return (e, np.zeros(0), e) if with_count else (e, np.zeros(0))
    ps = period_start(t, period)
    uniq, inv = np.unique(ps, return_inverse=True)
    ok = ~np.isnan(v)
    n = np.bincount(inv, weights=ok, minlength=uniq.size)
    s = np.bincount(inv, weights=np.where(ok, v, 0.0), minlength=uniq.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = s / n
    m[n < need] = np.nan
    return (uniq, m, n.astype(np.int64)) if with_count else (uniq, m)


def align(t_a: np.ndarray, v_a: np.ndarray, t_b: np.ndarray, v_b: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                                         np.ndarray]:
    """Values of b at the times of a (NaN where b has none)."""
    out = np.full(t_a.size, np.nan)
    if t_b.size:
        pos = np.searchsorted(t_b, t_a)
        pos_c = np.clip(pos, 0, t_b.size - 1)
        hit = t_b[pos_c] == t_a
        out[hit] = v_b[pos_c[hit]]
    return t_a, v_a, out


def valid_series_ids(ids: Iterable[int]) -> list[int]:
    return sorted({int(i) for i in ids})
