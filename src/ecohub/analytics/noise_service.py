"""Noise assessment: functional-zone points (GB 3096-2008 limits, HJ 640-2012 §6), regional and road-traffic
noise grades (HJ 640-2012 §4–5), from hourly or minute Leq.

Functional zones: each Beijing day D has a day period 06–22 h and a night period 22 h of D → 06 h of D+1
(GB 3096-2008 §3.5–3.6). Minute Leq are first combined into hourly Leq (energy mean, an hour needs ≥ 45
minutes — ours); Ld / Ln are the energy means of the period's hours (``hj640.period_level``, ≥ 12 of 16 /
6 of 8 hours — ours). A period with too few hours is listed with the hours it had and ``complies`` null, never
a guessed value. Night Lmax (when given) is checked against limit + 15 dB(A) (GB 3096-2008 §5.4).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

import numpy as np

from ecohub.domain.timeutil import BEIJING
from ecohub.standards import gb3096, hj640

MIN_MINUTES_PER_HOUR = 45


def _hour_key(t: datetime) -> datetime:
    b = t.astimezone(BEIJING)
    return b.replace(minute=0, second=0, microsecond=0)


def hourly_from_minutes(times: list[datetime], leq: list[float | None]) -> dict[datetime, tuple[float, int]]:
    """Beijing hour → (energy-mean Leq, minutes used) for hours with ≥ :data:`MIN_MINUTES_PER_HOUR` minutes."""
    groups: dict[datetime, list[float]] = defaultdict(list)
    for t, v in zip(times, leq, strict=True):
        if v is not None and not np.isnan(v):
            groups[_hour_key(t)].append(float(v))
    return {h: (float(hj640.energy_mean(vs)), len(vs)) for h, vs in groups.items() if len(vs) >= MIN_MINUTES_PER_HOUR}


def _period_of(h: datetime) -> tuple[date, str]:
    """(assessment day, period) of a Beijing hour start: 06–21 → (D, day); 22–23 → (D, night); 00–05 → (D−1, night)."""
    if 6 <= h.hour < 22:
        return h.date(), "day"
    if h.hour >= 22:
        return h.date(), "night"
    return h.date() - timedelta(days=1), "night"


def functional_zone(times: list[datetime], leq: list[float | None], zone: str, *, interval: str = "hour",
                    lmax: list[float | None] | None = None) -> dict:
    """Per-day Ld/Ln of one point against its GB 3096 class, with the compliance rates (HJ 640-2012 §6.4)."""
    gb3096.noise_limit(zone, False)  # validates the zone class (ValueError names it)
    if interval == "minute":
        hourly = {h: v for h, (v, _) in hourly_from_minutes(times, leq).items()}
    elif interval == "hour":
        hourly = {}
        for t, v in zip(times, leq, strict=True):
            if v is not None and not np.isnan(v):
                hourly[_hour_key(t)] = float(v)
    else:
        raise ValueError(f"interval: {interval!r} is not hour or minute")
    lmax_by_period: dict[tuple[date, str], float] = {}
    if lmax is not None:
        for t, v in zip(times, lmax, strict=True):
            if v is not None and not np.isnan(v):
                k = _period_of(_hour_key(t))
                lmax_by_period[k] = max(lmax_by_period.get(k, -np.inf), float(v))
    periods: dict[tuple[date, str], list[float]] = defaultdict(list)
    for h, v in hourly.items():
        periods[_period_of(h)].append(v)
    days = sorted({k[0] for k in periods} | {k[0] for k in lmax_by_period})
    rows, gaps = [], []
    for d in days:
        row: dict = {"date": d.isoformat(), "zone": zone}
        for per in ("day", "night"):
            level, n, ok = hj640.period_level(periods.get((d, per), []), per)
            limit = float(gb3096.noise_limit(zone, per == "night"))
            key = "ld" if per == "day" else "ln"
            row[key] = round(level, 1) if ok else None
            row[f"{key}_hours"] = n
            row[f"{key}_limit"] = limit
            row[f"{key}_complies"] = bool(round(level, 1) <= limit) if ok else None
            if not ok:
                gaps.append(f"{d.isoformat()} {per}: {n} of {16 if per == 'day' else 8} hours "
                            f"(fewer than {hj640.MIN_HOURS[per]}) — not assessed")
            if per == "night" and (d, per) in lmax_by_period:
                row["lmax_night"] = lmax_by_period[(d, per)]
                row["lmax_complies"] = bool(lmax_by_period[(d, per)] <= limit + gb3096.NIGHT_MAX_ALLOWANCE)
        rows.append(row)
    return {
        "zone": zone, "days": rows, "gaps": gaps,
        "day_compliance_rate": _r(hj640.compliance_rate([r["ld_complies"] for r in rows])),
        "night_compliance_rate": _r(hj640.compliance_rate([r["ln_complies"] for r in rows])),
        "day_assessed": sum(1 for r in rows if r["ld_complies"] is not None),
        "night_assessed": sum(1 for r in rows if r["ln_complies"] is not None),
    }


def regional(point_leq: list[float | None], period: str = "day") -> dict:
    """City regional environmental noise: mean of the grid points and its HJ 640-2012 Table 1 grade."""
    a = np.asarray([np.nan if v is None else v for v in point_leq], dtype=float)
    m = hj640.regional_mean(a)
    g = int(hj640.regional_grade(m, period))
    return {"period": period, "points": int(np.sum(~np.isnan(a))), "mean": _r(m), "grade": g or None,
            "grade_zh": hj640.GRADE_ZH.get(g), "grade_en": hj640.GRADE_EN.get(g)}


def road_traffic(leq: list[float | None], length_km: list[float | None], period: str = "day") -> dict:
    """Road traffic noise: length-weighted mean and its HJ 640-2012 Table 2 grade."""
    lv = np.asarray([np.nan if v is None else v for v in leq], dtype=float)
    ln = np.asarray([np.nan if v is None else v for v in length_km], dtype=float)
    m = hj640.road_length_weighted_mean(lv, ln)
    g = int(hj640.road_traffic_grade(m, period))
    ok = ~np.isnan(lv) & ~np.isnan(ln)
    return {"period": period, "sections": int(ok.sum()), "length_km": _r(float(ln[ok].sum()), 3), "mean": _r(m),
            "grade": g or None, "grade_zh": hj640.GRADE_ZH.get(g), "grade_en": hj640.GRADE_EN.get(g)}


def _r(x: float, nd: int = 1) -> float | None:
    return None if x is None or np.isnan(x) else round(float(x), nd)
