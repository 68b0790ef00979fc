"""The QC rules, vectorised over many series at once (numpy; no loop over observations).

Input: observations of many series concatenated and sorted by (group, time), where a *group* is one series
and one source (each source is checked on its own). Each group has its :class:`~ecohub.quality.config.RuleParams`.
Output: :class:`Flags` — for every observation a rule raised: its index, the rule, the level (1 suspect,
2 invalid) and a number for the explanation (the value, the jump, the run length …).

Neighbourhoods (spike) and runs (flat line, stuck at zero) are taken over consecutive *present* values of a
group; a gap longer than ``gap`` × the interval breaks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from ecohub.quality.config import RULE_CODE, RULES, RuleParams
from ecohub.quality.flags import flag_levels
from ecohub.quality.flags import meaning as flag_meaning


@dataclass
class ObsArrays:
    """Observations of many groups, sorted by (group, time)."""

    group: np.ndarray  # int64, index into the groups
    time: np.ndarray  # int64 epoch seconds (UTC)
    value: np.ndarray  # float64, NaN where missing
    flag: np.ndarray  # object: device flag or None
    received: np.ndarray  # int64 epoch seconds

    def __len__(self) -> int:
        return int(self.value.size)

    @classmethod
    def from_rows(cls, group, time, value, flag=None, received=None) -> ObsArrays:
        t = np.asarray(time, dtype=np.int64)
        v = np.array([np.nan if x is None else x for x in value], dtype=np.float64) if not isinstance(
            value, np.ndarray) else value.astype(np.float64)
        f = np.asarray(flag if flag is not None else [None] * t.size, dtype=object)
        r = np.asarray(received if received is not None else t, dtype=np.int64)
        return cls(np.asarray(group, dtype=np.int64), t, v, f, r)


@dataclass
class Groups:
    """Per-group settings: the rule parameters, the interval in seconds, the value resolution, and whether the
    group's source is a real-time channel (for the ``stale`` rule)."""

    params: list[RuleParams]
    interval_s: np.ndarray
    resolution: np.ndarray
    realtime: np.ndarray
    _arrays: dict = field(default_factory=dict, repr=False)

    def attr(self, name: str) -> np.ndarray:
        a = self._arrays.get(name)
        if a is None:
            uniq: dict[int, int] = {}
            ids = np.empty(len(self.params), dtype=np.int64)
            plist: list[RuleParams] = []
            for i, p in enumerate(self.params):
                k = id(p)
                if k not in uniq:
                    uniq[k] = len(plist)
                    plist.append(p)
                ids[i] = uniq[k]
            if name.startswith("enabled:"):
                rule = name.split(":", 1)[1]
                vals = np.array([rule in p.enabled for p in plist], dtype=bool)
            else:
                vals = np.array([getattr(p, name) for p in plist])
            a = self._arrays[name] = vals[ids] if len(plist) else vals
        return a


@dataclass
class Flags:
    index: np.ndarray  # int64, into the observations
    rule: np.ndarray  # int8, RULE_CODE
    level: np.ndarray  # int8
    aux: np.ndarray  # float64: value, jump, run length … (explanation)

    def __len__(self) -> int:
        return int(self.index.size)

    def rules(self) -> list[str]:
        return [RULES[i] for i in self.rule.tolist()]


def evaluate(obs: ObsArrays, groups: Groups) -> Flags:
    """Run every enabled rule over all observations; return the flags (sorted by observation index, rule)."""
    n = len(obs)
    parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
    if n == 0:
        return Flags(np.zeros(0, np.int64), np.zeros(0, np.int8), np.zeros(0, np.int8), np.zeros(0))
    g = obs.group
    v = obs.value
    present = ~np.isnan(v)

    def per_obs(name: str) -> np.ndarray:
        return groups.attr(name)[g]

    def add(rule: str, mask: np.ndarray, level, aux) -> None:
        idx = np.flatnonzero(mask)
        if idx.size:
            lv = np.broadcast_to(np.asarray(level), mask.shape)[idx] if np.ndim(level) else np.full(idx.size, level)
            ax = np.broadcast_to(np.asarray(aux, dtype=float), mask.shape)[idx] if np.ndim(aux) else np.full(
                idx.size, float(aux))
            parts.append((idx, RULE_CODE[rule], lv.astype(np.int8), ax.astype(float)))

    # --- value rules ---------------------------------------------------------------------------------------
    with np.errstate(invalid="ignore"):
        neg = present & per_obs("enabled:negative") & ~per_obs("negative_ok").astype(bool) & (v < 0)
        add("negative", neg, per_obs("level_negative"), v)
        m = present & per_obs("enabled:range") & ~neg & ((v < per_obs("range_min")) | (v > per_obs("range_max")))
        add("range", m, per_obs("level_range"), v)
        out_of_range = neg | m

    # --- device flags ----------------------------------------------------------------------------------------
    has_flag = obs.flag != None  # noqa: E711 (element-wise)
    if has_flag.any():
        lv = np.zeros(n, dtype=np.int8)
        lv[has_flag] = flag_levels(obs.flag[has_flag])
        add("device_flag", per_obs("enabled:device_flag") & (lv > 0), lv, 0.0)

    # --- time stamps -----------------------------------------------------------------------------------------
    lead = (obs.time - obs.received).astype(float)
    add("future", per_obs("enabled:future") & (lead > per_obs("future_tolerance")), per_obs("level_future"), lead)
    add("stale", per_obs("enabled:stale") & groups.realtime[g] & (-lead > per_obs("max_age")),
        per_obs("level_stale"), -lead)

    # --- sequence rules over present values -------------------------------------------------------------------
    # (values out of range or negative take no part: they are invalid already and would distort neighbours)
    ip = np.flatnonzero(present & ~out_of_range)
    if ip.size:
        gp, tp, vp = g[ip], obs.time[ip], v[ip]
        gap_lim = groups.attr("gap")[gp] * groups.interval_s[gp]
        # linked[k]: value k follows value k-1 of the same group without a long gap
        linked = np.zeros(ip.size, dtype=bool)
        linked[1:] = (gp[1:] == gp[:-1]) & ((tp[1:] - tp[:-1]) <= gap_lim[1:])

        # spike: away from both neighbours by > step, and > ratio × (up) or < 1/ratio × (down) the neighbours
        if ip.size >= 3:
            k = np.arange(1, ip.size - 1)
            both = linked[k] & linked[k + 1]
            vprev, vcur, vnext = vp[k - 1], vp[k], vp[k + 1]
            dprev, dnext = vcur - vprev, vcur - vnext
            jump = np.minimum(np.abs(dprev), np.abs(dnext))
            step = groups.attr("step")[gp[k]]
            ratio = groups.attr("ratio")[gp[k]]
            res = groups.resolution[gp[k]]
            up = (dprev > 0) & (dnext > 0) & (vcur > ratio * np.maximum(np.maximum(vprev, vnext), res))
            down = (dprev < 0) & (dnext < 0) & (vcur * ratio < np.minimum(vprev, vnext))
            spike = both & (jump > step) & (up | down) & groups.attr("enabled:spike")[gp[k]]
            if spike.any():
                mask = np.zeros(n, dtype=bool)
                mask[ip[k[spike]]] = True
                aux = np.zeros(n)
                aux[ip[k]] = np.where(np.abs(dprev) < np.abs(dnext), dprev, dnext)
                lvl = np.zeros(n, dtype=np.int8)
                lvl[ip] = groups.attr("level_spike")[gp]
                add("spike", mask, lvl, aux)

        # runs of equal values
        start = ~linked | np.r_[True, vp[1:] != vp[:-1]]
        run_id = np.cumsum(start) - 1
        run_len = np.bincount(run_id)[run_id]
        floor = groups.attr("flat_floor")[gp] * groups.resolution[gp]
        flat = (run_len >= groups.attr("flat_n")[gp]) & (vp != 0) & (np.abs(vp) >= floor) & groups.attr(
            "enabled:flatline")[gp]
        zero = (vp == 0) & (run_len >= groups.attr("zero_n")[gp]) & groups.attr("enabled:zero")[gp]
        for rule, mk, lvl_name in (("flatline", flat, "level_flatline"), ("zero", zero, "level_zero")):
            if mk.any():
                mask = np.zeros(n, dtype=bool)
                mask[ip[mk]] = True
                aux = np.zeros(n)
                aux[ip] = run_len
                lvl = np.zeros(n, dtype=np.int8)
                lvl[ip] = groups.attr(lvl_name)[gp]
                add(rule, mask, lvl, aux)

    if not parts:
        return Flags(np.zeros(0, np.int64), np.zeros(0, np.int8), np.zeros(0, np.int8), np.zeros(0))
    idx = np.concatenate([p[0] for p in parts])
    rule = np.concatenate([np.full(p[0].size, p[1], dtype=np.int8) for p in parts])
    level = np.concatenate([p[2] for p in parts])
    aux = np.concatenate([p[3] for p in parts])
    order = np.lexsort((rule, idx))
    return Flags(idx[order], rule[order], level[order], aux[order])


def describe(rule: str, aux: float, value: float, flag: str | None, p: RuleParams) -> str:
    """A short explanation of one flag (≤ 200 characters)."""
    if rule == "range":
        return f"value {value:g} outside the range [{p.range_min:g}, {p.range_max:g}]"
    if rule == "negative":
        return f"negative value {value:g}"
    if rule == "spike":
        return f"spike: {value:g} jumps {abs(aux):g} from both neighbours (step > {p.step:g}, ratio {p.ratio:g})"
    if rule == "flatline":
        return f"flat line: {value:g} repeated {int(aux)} times (≥ {p.flat_n})"
    if rule == "zero":
        return f"stuck at zero: {int(aux)} zeros in a row (≥ {p.zero_n})"
    if rule == "device_flag":
        m = flag_meaning(flag)
        return f"device flag {flag}: {m.meaning_zh} {m.meaning_en}"[:200]
    if rule == "future":
        return f"time {aux:.0f} s after its arrival (tolerance {p.future_tolerance:.0f} s)"
    if rule == "stale":
        return f"arrived {aux / 86400:.1f} days after its time (max {p.max_age / 86400:.0f})"
    return rule


def epoch_dt(t: int) -> datetime:
    return datetime.fromtimestamp(int(t), UTC)
