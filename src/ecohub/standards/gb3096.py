"""GB 3096-2008 environmental noise limits (声环境质量标准), equivalent continuous A-weighted level Leq, dB(A).

* Limits by acoustic functional zone class 0, 1, 2, 3, 4a, 4b, day and night — GB 3096-2008 §5.1, Table 1.
* Day 06:00–22:00, night 22:00–06:00 Beijing time — GB 3096-2008 §3.5–3.6 (county-level or higher
  governments may set other divisions: ``day_start`` / ``night_start``).
* Night-time sudden noise: the maximum level may exceed the class limit by at most 15 dB(A) — §5.4.
* 4b (70/60) applies to railway trunk lines whose EIA was approved from 2011-01-01; existing lines use
  70/55 for the background noise (§5.3, UNCONFIRMED reading) — pass ``zone="4a"`` values for those.
* Exceedance = Leq − limit (dB), judged separately for day and night.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .editions import beijing_hour

#: Zone class → (day limit, night limit), dB(A) — GB 3096-2008 Table 1.
LIMITS: dict[str, tuple[float, float]] = {
    "0": (50.0, 40.0),
    "1": (55.0, 45.0),
    "2": (60.0, 50.0),
    "3": (65.0, 55.0),
    "4a": (70.0, 55.0),
    "4b": (70.0, 60.0),
}
#: Allowed excess of the night-time maximum (sudden noise) over the night limit, dB(A) (§5.4).
NIGHT_MAX_ALLOWANCE = 15.0


def _zones(zone: Any) -> tuple[np.ndarray, np.ndarray]:
    z = np.asarray(zone).astype(str)
    z = np.char.lower(np.char.strip(z))
    uniq, inv = np.unique(z, return_inverse=True)
    bad = [u for u in uniq if u not in LIMITS]
    if bad:
        raise ValueError(f"unknown GB 3096 zone class(es) {bad}; expected one of {list(LIMITS)}")
    day = np.array([LIMITS[u][0] for u in uniq])[inv].reshape(z.shape)
    night = np.array([LIMITS[u][1] for u in uniq])[inv].reshape(z.shape)
    return day, night


def is_night(times: Any, day_start: int = 6, night_start: int = 22) -> np.ndarray:
    """True where the (UTC / tz-aware) time falls in the night period, Beijing time (GB 3096-2008 §3.6)."""
    h = beijing_hour(times)
    return (h >= night_start) | (h < day_start)


def noise_limit(zone: Any, night: Any) -> np.ndarray:
    """Leq limit in dB(A) for zone class(es) ``"0" "1" "2" "3" "4a" "4b"`` and day (False) / night (True)."""
    day_l, night_l = _zones(zone)
    return np.where(np.asarray(night, dtype=bool), night_l, day_l)


def noise_assessment(leq: Any, zone: Any, *, night: Any = None, times: Any = None,
                     lmax: Any = None) -> dict[str, np.ndarray]:  # fmt: skip
    """Compliance of Leq (dB(A)) with GB 3096-2008 Table 1.

    Give ``night`` (bool per row) or ``times`` (day/night from the Beijing hour). Returns ``limit``,
    ``exceedance`` (Leq − limit, dB; negative = margin), ``complies`` (Leq ≤ limit; False for NaN) and, when
    ``lmax`` is given, ``lmax_complies`` (night: Lmax ≤ limit + 15 dB(A), §5.4; day: True).
    """
    if night is None:
        if times is None:
            raise ValueError("give night= or times=")
        night = is_night(times)
    lv = np.asarray(leq, dtype=float)
    lim = noise_limit(zone, night)
    lim = np.broadcast_to(lim, lv.shape)
    exc = lv - lim
    out = {"limit": lim, "exceedance": exc, "complies": lv <= lim}
    if lmax is not None:
        lm = np.asarray(lmax, dtype=float)
        out["lmax_complies"] = np.where(np.asarray(night, dtype=bool), lm <= lim + NIGHT_MAX_ALLOWANCE, True)
    return out
