"""Suspicious data (possible falsification, 数据造假) — indicators with their evidence, per outlet and period.

Each indicator gives a score in [0, 1] and the evidence behind it (numbers, times, the other series a copy was
found in); an outlet's score combines its indicators (noisy-or: 1 − Π(1 − sᵢ)). It is a reason to look, never
a verdict: every indicator has innocent explanations, named in ``docs/quality-alerts.md``.

Indicators (defaults in :class:`SuspiciousParams`), on valid hourly values:

* ``near_limit`` — values held just below the permit limit: share of hours in [``band`` × L, L] while almost
  none exceed L.
* ``low_variance`` — near-zero variance while the plant runs: coefficient of variation < ``cv_max`` over
  ≥ ``min_hours`` running hours (running = flow > 0 where a flow series exists).
* ``copied`` — a sequence of ≥ ``copy_len`` hourly values (with ≥ 3 distinct values) that occurs exactly
  elsewhere: another time of the same series or another outlet's series of the same parameter.
* ``level_shift`` — a sudden lasting change of level: means of the ``shift_window`` hours before and after
  differ by > ``shift_z`` pooled standard deviations and by > ``shift_rel`` of the earlier level (downward
  shifts score higher: tampering lowers readings).
* ``o2_inconsistent`` — converted concentration inconsistent with the O2 reading: where the device reports a
  converted series (parameter ``<p>_zs``), its values differ from C × (21 − O2ref)/(21 − O2) by > ``o2_tol``;
  otherwise O2 readings that make the conversion meaningless or that are frozen while the concentration
  moves (O2 ≥ 20.5 % or ≤ 0 while running, or O2 standard deviation < 0.05 % over ≥ ``min_hours`` hours with
  the concentration's CV > 0.05).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ecohub.standards.emission import reference_oxygen_concentration


@dataclass(frozen=True)
class SuspiciousParams:
    band: float = 0.9
    near_share_min: float = 0.3  # share in the band where the score starts
    near_share_full: float = 0.8  # share in the band that scores 1
    above_share_max: float = 0.05
    min_hours: int = 12
    cv_max: float = 0.01
    cv_zero_score: float = 0.03
    copy_len: int = 6
    shift_window: int = 12
    shift_min_valid: int = 8
    shift_z: float = 8.0
    shift_rel: float = 0.5
    o2_tol: float = 0.1
    threshold: float = 0.6  # an outlet scoring this much raises a ``suspicious`` alert


@dataclass
class Indicator:
    name: str
    parameter: str
    score: float
    evidence: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def combine(indicators: list[Indicator]) -> float:
    """Outlet score: noisy-or of the indicator scores."""
    p = 1.0
    for i in indicators:
        p *= 1.0 - max(0.0, min(1.0, i.score))
    return round(1.0 - p, 4)


def _clamp(x: float) -> float:
    return float(max(0.0, min(1.0, x)))


def near_limit(parameter: str, values: np.ndarray, limit: float, p: SuspiciousParams = SuspiciousParams()) -> Indicator:
    v = values[~np.isnan(values)]
    if v.size < p.min_hours or not limit or limit <= 0:
        return Indicator("near_limit", parameter, 0.0, {"hours": int(v.size)})
    in_band = (v >= p.band * limit) & (v <= limit)
    share = float(in_band.mean())
    above = float((v > limit).mean())
    score = _clamp((share - p.near_share_min) / (p.near_share_full - p.near_share_min)) if above <= p.above_share_max \
        else 0.0
    return Indicator("near_limit", parameter, round(score, 4), {
        "hours": int(v.size), "limit": limit, "band": [round(p.band * limit, 6), limit],
        "share_in_band": round(share, 4), "share_above_limit": round(above, 4),
        "max": float(v.max()), "mean": round(float(v.mean()), 4)})


def low_variance(parameter: str, values: np.ndarray, running: np.ndarray | None = None, resolution: float = 0.01,
                 p: SuspiciousParams = SuspiciousParams()) -> Indicator:
    ok = ~np.isnan(values)
    if running is not None:
        ok &= running
    v = values[ok]
    if v.size < p.min_hours:
        return Indicator("low_variance", parameter, 0.0, {"running_hours": int(v.size)})
    mean = float(v.mean())
    sd = float(v.std())
    if abs(mean) < 10 * resolution:  # values at the instrument's floor are flat for a good reason
        return Indicator("low_variance", parameter, 0.0, {"running_hours": int(v.size), "mean": mean,
                                                          "note": "mean at the instrument floor"})
    cv = sd / abs(mean)
    score = _clamp((p.cv_zero_score - cv) / (p.cv_zero_score - p.cv_max)) if cv < p.cv_zero_score else 0.0
    return Indicator("low_variance", parameter, round(score, 4), {
        "running_hours": int(v.size), "mean": round(mean, 4), "std": round(sd, 6), "cv": round(cv, 6),
        "cv_threshold": p.cv_max})


def _windows(t: np.ndarray, v: np.ndarray, k: int, step: int = 3600):
    """All windows of k consecutive hourly values (no gap, all valid, ≥ 3 distinct values), as rows."""
    if v.size < k:
        return np.zeros((0, k)), np.zeros(0, np.int64)
    W = sliding_window_view(v, k)
    T = sliding_window_view(t, k)
    ok = ~np.isnan(W).any(axis=1) & ((T[:, -1] - T[:, 0]) == (k - 1) * step)
    s = np.sort(W, axis=1)
    distinct = 1 + (np.diff(s, axis=1) != 0).sum(axis=1)
    ok &= distinct >= 3
    return W[ok], T[ok, 0]


def copied(series: dict[str, tuple[np.ndarray, np.ndarray]], parameter: str, resolution: float = 0.001,
           p: SuspiciousParams = SuspiciousParams()) -> dict[str, Indicator]:
    """Copied sequences among several hourly series of one parameter (keys: site codes).

    A window of ``copy_len`` values found at two places that do not overlap (another time of the same series,
    or another series) is a copy. Values are compared after rounding to the parameter's resolution."""
    rows, owner, starts = [], [], []
    names = list(series)
    for i, name in enumerate(names):
        t, v = series[name]
        W, T0 = _windows(t, v, p.copy_len)
        if W.size:
            rows.append(np.round(W / resolution).astype(np.int64))
            owner.append(np.full(T0.size, i))
            starts.append(T0)
    out = {n: Indicator("copied", parameter, 0.0, {"copies": []}) for n in names}
    if not rows:
        return out
    R = np.concatenate(rows)
    own = np.concatenate(owner)
    S = np.concatenate(starts)
    view = np.ascontiguousarray(R).view(np.dtype((np.void, R.dtype.itemsize * R.shape[1]))).ravel()
    uniq, inv, counts = np.unique(view, return_inverse=True, return_counts=True)
    dup = counts[inv] > 1
    if not dup.any():
        return out
    idx = np.flatnonzero(dup)
    order = idx[np.argsort(inv[idx], kind="stable")]
    groups = np.split(order, np.flatnonzero(np.diff(inv[order])) + 1)
    span = (p.copy_len - 1) * 3600
    found: dict[str, list] = {n: [] for n in names}
    for g in groups:
        for a in range(len(g)):
            for b in range(a + 1, len(g)):
                i, j = int(g[a]), int(g[b])
                if own[i] == own[j] and abs(int(S[i]) - int(S[j])) <= span:
                    continue  # overlapping windows of one series (a repeating pattern inside one run)
                ev = {"start": int(S[i]), "copy_of": names[own[j]], "copy_start": int(S[j]),
                      "values": (R[i] * resolution).round(6).tolist()}
                found[names[own[i]]].append(ev)
                found[names[own[j]]].append({"start": int(S[j]), "copy_of": names[own[i]], "copy_start": int(S[i]),
                                           "values": ev["values"]})
    for n, evs in found.items():
        if evs:
            # longest copied stretch: consecutive window starts one hour apart
            st = np.unique([e["start"] for e in evs])
            runs = np.split(st, np.flatnonzero(np.diff(st) != 3600) + 1)
            longest = max(len(r) for r in runs) + p.copy_len - 1
            score = 1.0 if longest >= 2 * p.copy_len else 0.7
            out[n] = Indicator("copied", parameter, score, {"longest_hours": int(longest), "windows": len(evs),
                                                             "copies": evs[:5]})
    return out


def level_shift(parameter: str, t: np.ndarray, values: np.ndarray, resolution: float = 0.01,
                p: SuspiciousParams = SuspiciousParams()) -> Indicator:
    """The strongest sudden lasting level change in an hourly series (on a regular hour grid)."""
    w = p.shift_window
    if values.size < 2 * w:
        return Indicator("level_shift", parameter, 0.0, {"hours": int(values.size)})
    # regular hour grid
    t0 = int(t[0])
    pos = ((t - t0) // 3600).astype(np.int64)
    grid = np.full(int(pos[-1]) + 1, np.nan)
    grid[pos] = values
    ok = ~np.isnan(grid)
    x = np.where(ok, grid, 0.0)
    cs = np.r_[0.0, np.cumsum(x)]
    cs2 = np.r_[0.0, np.cumsum(x * x)]
    cn = np.r_[0, np.cumsum(ok)]
    i = np.arange(w, grid.size - w + 1)  # shift between i-1 and i
    nb, na = cn[i] - cn[i - w], cn[i + w] - cn[i]
    sb, sa = cs[i] - cs[i - w], cs[i + w] - cs[i]
    qb, qa = cs2[i] - cs2[i - w], cs2[i + w] - cs2[i]
    with np.errstate(invalid="ignore", divide="ignore"):
        mb, ma = sb / nb, sa / na
        vb = np.maximum(qb / nb - mb * mb, 0)
        va = np.maximum(qa / na - ma * ma, 0)
        pooled = np.sqrt((vb + va) / 2)
        z = np.abs(ma - mb) / np.maximum(pooled, max(resolution, 1e-9))
        rel = np.abs(ma - mb) / np.maximum(np.abs(mb), resolution)
    good = (nb >= p.shift_min_valid) & (na >= p.shift_min_valid) & (z > p.shift_z) & (rel > p.shift_rel)
    if not good.any():
        return Indicator("level_shift", parameter, 0.0, {"hours": int(ok.sum())})
    k = np.flatnonzero(good)[np.argmax(z[good])]
    down = ma[k] < mb[k]
    score = 0.6 if down else 0.3
    return Indicator("level_shift", parameter, score, {
        "at": t0 + int(i[k]) * 3600, "before_mean": round(float(mb[k]), 4), "after_mean": round(float(ma[k]), 4),
        "z": round(float(z[k]), 2), "relative_change": round(float(rel[k]), 4), "direction": "down" if down else "up",
        "window_hours": w})


def o2_inconsistent(parameter: str, conc: np.ndarray, o2: np.ndarray, o2_ref: float | None,
                    reported_converted: np.ndarray | None = None, running: np.ndarray | None = None,
                    p: SuspiciousParams = SuspiciousParams()) -> Indicator:
    """Converted concentration vs the O2 reading (arrays aligned on the same hours)."""
    run = np.ones(conc.size, bool) if running is None else running
    ok = ~np.isnan(conc) & ~np.isnan(o2) & run
    if ok.sum() < p.min_hours:
        return Indicator("o2_inconsistent", parameter, 0.0, {"hours": int(ok.sum())})
    ev: dict = {"hours": int(ok.sum()), "o2_mean": round(float(o2[ok].mean()), 4)}
    score = 0.0
    if reported_converted is not None and o2_ref is not None:
        exp = reference_oxygen_concentration(conc, o2, o2_ref)
        m = ok & ~np.isnan(reported_converted) & ~np.isnan(exp) & (exp > 0)
        if m.sum() >= p.min_hours:
            dev = np.abs(reported_converted[m] - exp[m]) / exp[m]
            share = float((dev > p.o2_tol).mean())
            ev.update({"compared_hours": int(m.sum()), "share_inconsistent": round(share, 4),
                       "median_relative_deviation": round(float(np.median(dev)), 4), "o2_reference": o2_ref})
            score = max(score, _clamp(share / 0.5))
    bad = ok & ((o2 >= 20.5) | (o2 <= 0))
    share_bad = float(bad.sum() / ok.sum())
    if share_bad > 0:
        ev["share_o2_implausible"] = round(share_bad, 4)
        score = max(score, _clamp(share_bad / 0.25))
    c = conc[ok]
    o = o2[ok]
    cv = float(c.std() / abs(c.mean())) if abs(c.mean()) > 0 else 0.0
    if o.std() < 0.05 and cv > 0.05:
        ev.update({"o2_std": round(float(o.std()), 6), "concentration_cv": round(cv, 4), "o2_frozen": True})
        score = max(score, 0.7)
    return Indicator("o2_inconsistent", parameter, round(score, 4), ev)
