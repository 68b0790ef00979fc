"""QC rule parameters: built-in defaults per parameter, interval and site kind, overridable in the database
(table ``qc_setting``: rule, parameter or "", site kind or "", JSON params, enabled) — the most specific row
wins (parameter + kind > parameter > kind > rule-wide > built-in).

Rules (name — what it flags — default level):

| rule | flags | level |
|---|---|---|
| ``range`` | value outside the physical / instrument range of the parameter | invalid |
| ``negative`` | value < 0 for parameters that cannot be negative | invalid |
| ``spike`` | a single value that jumps away from both neighbours by more than ``step`` and more than ``ratio`` × the larger neighbour | suspect |
| ``flatline`` | the same value ``flat_n`` or more times in a row (only values ≥ ``flat_floor`` resolution steps: low readings repeat at the instrument's resolution) | invalid |
| ``zero`` | exactly 0 ``zero_n`` or more times in a row (stuck at zero) | invalid (ambient), suspect (outlets: a stopped plant reads 0) |
| ``device_flag`` | HJ 212 flag other than N (see :mod:`ecohub.quality.flags`) | per flag |
| ``future`` | data time later than its arrival + ``future_tolerance`` s | invalid |
| ``stale`` | data time more than ``max_age`` s before its arrival, on real-time channels (hj212, mqtt, http) | suspect |

Default thresholds were checked against the CNEMC 2019 hourly data of 112 stations:
with them the ``range``, ``negative``, ``flatline`` and ``zero`` rules raise nothing on that year, and
``spike`` flags a handful of hours (see ``tests/quality/test_qc_real_data.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import select

from ecohub.domain.parameters import BY_NAME
from ecohub.quality.flags import INVALID, SUSPECT

RULES = ("range", "negative", "spike", "flatline", "zero", "device_flag", "future", "stale")
RULE_CODE = {r: i for i, r in enumerate(RULES)}

#: seconds between values of each interval (rt: the HJ 212 real-time period is device-set; 30 s assumed)
INTERVAL_SECONDS = {"rt": 30, "minute": 60, "hour": 3600, "day": 86400}
REALTIME_SOURCES = ("hj212", "mqtt", "http")
OUTLET_KINDS = ("gas_outlet", "water_outlet")


@dataclass(frozen=True)
class RuleParams:
    """Parameters of every rule for one (parameter, site kind, interval)."""

    range_min: float = -math.inf
    range_max: float = math.inf
    negative_ok: bool = False
    step: float = math.inf  # spike: minimum jump on both sides (parameter units)
    ratio: float = 4.0  # spike: and more than ratio × the larger neighbour
    flat_n: int = 12  # flatline: values in a row
    flat_floor: float = 20.0  # flatline: only values ≥ flat_floor × resolution (10^-decimals)
    zero_n: int = 3  # stuck at zero: zeros in a row
    gap: float = 3.0  # a gap longer than gap × interval breaks runs and neighbourhoods
    future_tolerance: float = 600.0
    max_age: float = 30 * 86400.0
    level_range: int = INVALID
    level_negative: int = INVALID
    level_spike: int = SUSPECT
    level_flatline: int = INVALID
    level_zero: int = INVALID
    level_future: int = INVALID
    level_stale: int = SUSPECT
    enabled: frozenset[str] = frozenset(RULES)

    def with_overrides(self, params: dict[str, Any]) -> RuleParams:
        known = {f.name for f in fields(self)}
        kw = {k: v for k, v in params.items() if k in known and k != "enabled"}
        return replace(self, **kw)


# Physical / instrument ranges (parameter units). Ambient: HJ 653/654 analyser ranges widened to what has
# been observed (CNEMC 2019: PM2.5 up to 2,145, PM10 up to 2,372 µg/m³ in dust storms); flue gas: CEMS ranges.
_RANGES: dict[str, tuple[float, float]] = {
    "pm25": (0, 3000), "pm10": (0, 10000), "so2": (0, 5000), "no2": (0, 2000), "co": (0, 60), "o3": (0, 2000),
    "o3_8h": (0, 2000), "pm25_24h": (0, 3000), "pm10_24h": (0, 10000), "tsp": (0, 20000), "pm1": (0, 3000),
    "temp": (-60, 60), "humidity": (0, 100), "pressure": (50, 110), "wind_speed": (0, 75), "wind_dir": (0, 360),
    "smoke": (0, 5000), "so2_gas": (0, 20000), "nox": (0, 20000), "no": (0, 20000), "co_gas": (0, 50000),
    "o2": (0, 25), "flue_temp": (-40, 1200), "flue_humidity": (0, 100), "flue_velocity": (0, 60),
    "flow_gas": (0, 10000), "flow_water": (0, 100000),
    "ph": (0, 14), "water_temp": (-5, 50), "do": (0, 25), "conductivity": (0, 100000), "turbidity": (0, 10000),
    "codmn": (0, 200), "cod": (0, 20000), "nh3n": (0, 1000), "tp": (0, 200), "tn": (0, 1000),
    "leq": (20, 140), "la": (20, 140), "ld": (20, 140), "ln": (20, 140),
}
_NEGATIVE_OK = {"temp", "water_temp", "flue_pressure", "flue_temp"}
# spike: minimum jump (units of the parameter) — well above what the CNEMC 2019 data show between hours
_STEP: dict[str, float] = {
    "pm25": 300, "pm10": 500, "so2": 200, "no2": 150, "o3": 250, "co": 5, "pm1": 300, "tsp": 800,
    "smoke": 50, "so2_gas": 200, "nox": 200, "co_gas": 500, "o2": 8,
    "ph": 2, "do": 5, "codmn": 10, "cod": 100, "nh3n": 5, "tp": 1, "tn": 10,
}
_FLAT_N = {"rt": 240, "minute": 120, "hour": 12, "day": 7}
_ZERO_N = {"rt": 120, "minute": 30, "hour": 3, "day": 2}


def builtin(parameter: str, kind: str, interval: str) -> RuleParams:
    lo, hi = _RANGES.get(parameter, (-math.inf, math.inf))
    p = RuleParams(
        range_min=lo, range_max=hi, negative_ok=parameter in _NEGATIVE_OK or lo < 0,
        step=_STEP.get(parameter, math.inf), flat_n=_FLAT_N.get(interval, 12), zero_n=_ZERO_N.get(interval, 3),
    )
    if kind in OUTLET_KINDS:
        p = replace(p, level_zero=SUSPECT)
    if parameter in ("wind_speed", "wind_dir", "flow_gas", "flow_water", "humidity", "aqi"):
        p = replace(p, enabled=p.enabled - {"zero"})
    if parameter in ("wind_dir",):
        p = replace(p, enabled=p.enabled - {"spike"})
    return p


def resolution(parameter: str) -> float:
    par = BY_NAME.get(parameter)
    return 10.0 ** -(par.decimals if par is not None else 3)


class QcConfig:
    """Rule parameters per (parameter, kind, interval): built-in defaults + database overrides, cached."""

    def __init__(self, overrides: list[dict] | None = None):
        self._over = sorted(overrides or [], key=lambda r: (bool(r["parameter"]), bool(r["site_kind"])))
        self._cache: dict[tuple[str, str, str], RuleParams] = {}

    @classmethod
    def load(cls, conn) -> QcConfig:
        from ecohub.store.schema_quality import qc_setting

        rows = [dict(r) for r in conn.execute(select(qc_setting)).mappings()]
        return cls(rows)

    def params(self, parameter: str, kind: str, interval: str) -> RuleParams:
        key = (parameter, kind, interval)
        p = self._cache.get(key)
        if p is None:
            p = builtin(parameter, kind, interval)
            for row in self._over:  # least specific first, most specific last
                if row["parameter"] not in ("", parameter) or row["site_kind"] not in ("", kind):
                    continue
                params = dict(row.get("params") or {})
                p = p.with_overrides(params)
                if "min" in params and row["rule"] == "range":
                    p = replace(p, range_min=float(params["min"]))
                if "max" in params and row["rule"] == "range":
                    p = replace(p, range_max=float(params["max"]))
                if "level" in params and row["rule"] in RULES:
                    attr = f"level_{row['rule']}"
                    if hasattr(p, attr):
                        p = replace(p, **{attr: int(params["level"])})
                if not row.get("enabled", True) or params.get("enabled") is False:
                    p = replace(p, enabled=p.enabled - {row["rule"]})
                elif params.get("enabled") is True:
                    p = replace(p, enabled=p.enabled | {row["rule"]})
            self._cache[key] = p
        return p

    def lookback(self, interval: str) -> int:
        """Seconds of data before the first new value that a re-evaluation needs (longest run rule + 1)."""
        n = max([_FLAT_N.get(interval, 12), _ZERO_N.get(interval, 3)]
                + [int(r["params"].get(k, 0)) for r in self._over for k in ("flat_n", "zero_n")
                   if isinstance(r.get("params"), dict)])
        return (n + 1) * INTERVAL_SECONDS.get(interval, 3600)


def set_rule(conn, rule: str, params: dict, parameter: str = "", site_kind: str = "", enabled: bool = True) -> None:
    """Create or replace a ``qc_setting`` row (configuration of a rule)."""
    from datetime import UTC, datetime

    from sqlalchemy import delete, insert

    from ecohub.domain.errors import InputError
    from ecohub.store.schema_quality import qc_setting

    if rule not in RULES:
        raise InputError("rule", rule, "must be one of " + ", ".join(RULES))
    conn.execute(delete(qc_setting).where(qc_setting.c.rule == rule, qc_setting.c.parameter == parameter,
                                          qc_setting.c.site_kind == site_kind))
    conn.execute(insert(qc_setting).values(rule=rule, parameter=parameter, site_kind=site_kind, params=params,
                                           enabled=enabled, updated_at=datetime.now(UTC)))
