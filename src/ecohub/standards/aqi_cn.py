"""China Air Quality Index: HJ 633-2012 and HJ 633-2026 (环境空气质量指数（AQI）技术规定).

Units: concentrations in µg/m³, CO in mg/m³ (mass concentrations; gases at the 298.15 K / 1013.25 hPa
reference state since the 2018 amendment of GB 3095-2012).

Clauses implemented (see ``docs/standards.md`` for the decisions):

* IAQI breakpoints — HJ 633-2012 Table 1; HJ 633-2026 Table 3 (PM10 IAQI-100 breakpoint 150 → 120,
  PM2.5 75 → 60; all other rows identical).
* IAQI formula, linear between adjacent breakpoints — HJ 633-2012 §4.2 eq. (1); HJ 633-2026 §4.2.4 eq. (1).
* AQI = max IAQI — HJ 633-2012 §4.3 eq. (2); HJ 633-2026 §4.2.5.
* Rounding: IAQI and AQI carried **up** to an integer — HJ 633-2012 §6.2 ("进位取整数"); HJ 633-2026 §4.2.6
  ("向上进位取整数"). We round to 1e-9 before the ceiling so that float noise cannot turn 50 into 51.
* Input rounding, **both editions**: concentrations rounded per GB/T 8170 (数值修约, exact halves to the even
  digit) to integer µg/m³, CO to 0.1 mg/m³, before the IAQI — written in HJ 633-2026 §4.2.2; not written in
  HJ 633-2012, but the publishers did it: CNEMC publishes station and city concentrations rounded this way
  and computes the AQI from the published values (evidence in ``docs/standards.md`` §"Input rounding":
  CNEMC 2019 station 24-h means, 26,777 exact halves of PM2.5/PM10/SO2/NO2, all but 7 published to the even
  integer). A daily PM2.5 mean of 75.744 µg/m³ is published as 76 → IAQI 102, not 101.
* Special rules — HJ 633-2012 Table 1 notes 2 and 3: SO2 1-h > 800 µg/m³ → the SO2 IAQI of the 24-h mean is
  reported; O3 8-h > 800 µg/m³ → the O3 IAQI of the 1-h mean is reported. HJ 633-2026 Table 3 notes b and c:
  SO2 1-h > 800 → IAQI 200; O3 8-h > 800 → IAQI 300.
* Beyond the top breakpoint of a table (e.g. PM10 > 600) neither edition defines an IAQI. Decision: the IAQI
  is **capped at 500** (the top of the scale, HJ 633-2026 §4.1.1 "1–500"; CNEMC's published AQI is capped
  at 500 as well) and the slot is flagged in :attr:`AqiResult.beyond` — never extrapolated.
* Levels, categories, colours — HJ 633-2012 Table 2 + Appendix A; HJ 633-2026 Table 1 + Appendix A.
  HJ 633-2026 states the AQI range as 1–500 (§4.1.1): an AQI of 0 is reported as 1 under 2026.
* Primary pollutant (AQI > 50, largest IAQI, ties all named) — HJ 633-2012 §3.3, §4.4.2; HJ 633-2026 §3.3,
  §4.3.1. Over-standard pollutant (IAQI > 100) — HJ 633-2012 §3.4, §4.4.2 (removed in 2026: empty).
* Missing pollutants — HJ 633-2012 §5.1.1 (shown as NA, report states the missing items); HJ 633-2026 §5.3.1:
  the AQI is computed from the others and published only if it exceeds 100 (:attr:`AqiResult.publishable`).

Which averages feed which report (STANDARDS.md §1.3):

* hourly, 2012, ``hourly_rule="cnemc"`` (default, as CNEMC computed it; 99.97 % on the 2019 data):
  1-h SO2/NO2/CO/O3 in the 1-h tables, 1-h PM10/PM2.5 in the 24-h tables, no O3 8-h; SO2 1-h > 800 gives
  IAQI 200 (as published on 2019-01-09 13:00 at station 2647A, the only such hour in the shared data).
* hourly, 2012, ``hourly_rule="letter"`` (HJ 633-2012 §5.1.3, Table 4): 1-h SO2/NO2/CO/O3, the O3 8-h moving
  mean, and the 24-h moving means of PM10/PM2.5 (``pm10_24h``, ``pm25_24h``); SO2 1-h > 800 → the IAQI of
  ``so2_24h`` (Table 1 note 2; NaN when not given).
* hourly, 2026 (§4.2.3): 1-h SO2/NO2/CO/O3, 1-h PM in the daily tables.
* daily, 2012 (§5.1.2): 24-h SO2/NO2/CO/PM10/PM2.5, O3 daily max 8-h, and the O3 daily max 1-h (``o3``)
  when given.
* daily, 2026 (§4.2.2): daily means and the O3 daily max 8-h only (``o3`` is ignored).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .editions import HJ633_2012, HJ633_2026, hj633_edition

#: IAQI values at the breakpoints (HJ 633-2012 Table 1 / HJ 633-2026 Table 3, first row).
IAQI_POINTS = np.array([0.0, 50.0, 100.0, 150.0, 200.0, 300.0, 400.0, 500.0])

_COMMON = {
    "so2_24h": (0, 50, 150, 475, 800, 1600, 2100, 2620),
    "so2_1h": (0, 150, 500, 650, 800),  # no segments above IAQI 200
    "no2_24h": (0, 40, 80, 180, 280, 565, 750, 940),
    "no2_1h": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    "co_24h": (0, 2, 4, 14, 24, 36, 48, 60),  # mg/m³
    "co_1h": (0, 5, 10, 35, 60, 90, 120, 150),  # mg/m³
    "o3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "o3_8h": (0, 100, 160, 215, 265, 800),  # no segments above IAQI 300
}
#: Concentration breakpoints per indicator (pollutant + averaging time) and edition, µg/m³ (CO mg/m³).
BREAKPOINTS: dict[int, dict[str, np.ndarray]] = {
    HJ633_2012: {
        **{k: np.array(v, dtype=float) for k, v in _COMMON.items()},
        "pm10_24h": np.array([0, 50, 150, 250, 350, 420, 500, 600], dtype=float),
        "pm25_24h": np.array([0, 35, 75, 115, 150, 250, 350, 500], dtype=float),
    },
    HJ633_2026: {
        **{k: np.array(v, dtype=float) for k, v in _COMMON.items()},
        "pm10_24h": np.array([0, 50, 120, 250, 350, 420, 500, 600], dtype=float),
        "pm25_24h": np.array([0, 35, 60, 115, 150, 250, 350, 500], dtype=float),
    },
}

#: Sub-index slots (bit order of the masks), in the order of HJ 633-2012 Table 1.
SLOTS = ("so2", "no2", "pm10", "co", "o3", "o3_8h", "pm25")
#: Names used in ``primary_pollutant`` / ``over_standard`` (``O3_1h`` = 1-h value, ``O3_8h`` = 8-h value).
SLOT_NAMES = ("SO2", "NO2", "PM10", "CO", "O3_1h", "O3_8h", "PM2.5")
#: Names used in ``missing`` (pollutant level: O3 is missing only when neither O3 value is there).
POLLUTANT_NAMES = ("SO2", "NO2", "PM10", "CO", "O3", "", "PM2.5")
_BIT = {s: 1 << i for i, s in enumerate(SLOTS)}

#: Levels: (upper AQI, level roman, category zh, category en, colour hex, RGB) — HJ 633-2012 Table 2 and
#: Appendix A, HJ 633-2026 Table 1 and Appendix A (identical). English names are conventional, not in HJ 633.
LEVELS = (
    (50, "I", "优", "Excellent", "#00E400", (0, 228, 0)),
    (100, "II", "良", "Good", "#FFFF00", (255, 255, 0)),
    (150, "III", "轻度污染", "Lightly polluted", "#FF7E00", (255, 126, 0)),
    (200, "IV", "中度污染", "Moderately polluted", "#FF0000", (255, 0, 0)),
    (300, "V", "重度污染", "Heavily polluted", "#99004C", (153, 0, 76)),
    (500, "VI", "严重污染", "Severely polluted", "#7E0023", (126, 0, 35)),
)
_LEVEL_ROMAN = np.array([""] + [lv[1] for lv in LEVELS], dtype=object)
_LEVEL_ZH = np.array([""] + [lv[2] for lv in LEVELS], dtype=object)
_LEVEL_EN = np.array([""] + [lv[3] for lv in LEVELS], dtype=object)
_LEVEL_COLOR = np.array([""] + [lv[4] for lv in LEVELS], dtype=object)


def _names_table(names: tuple[str, ...]) -> np.ndarray:
    """All 2**len(names) comma-joined combinations, indexed by bitmask (vectorised string building)."""
    n = len(names)
    return np.array(
        [",".join(names[i] for i in range(n) if m >> i & 1 and names[i]) for m in range(1 << n)], dtype=object
    )


_SLOT_TABLE = _names_table(SLOT_NAMES)
_POLLUTANT_TABLE = _names_table(POLLUTANT_NAMES)


def ceil_index(x: np.ndarray) -> np.ndarray:
    """Carry an index up to an integer, HJ 633-2012 §6.2 / HJ 633-2026 §4.2.6, guarded against float noise.

    The value is first rounded to 1e-9 (so that 50.00000000001 from the interpolation stays 50), then the
    ceiling is taken. Works in place on float arrays; returns the array.
    """
    x = np.asarray(x, dtype=float)
    np.round(x, 9, out=x)
    np.ceil(x, out=x)
    return x


def round_gbt8170(x: np.ndarray, decimals: int = 0) -> np.ndarray:
    """Round per GB/T 8170 (数值修约: exact halves to the even digit) after removing float noise at 1e-6.

    Used for the AQI input rounding (HJ 633-2026 §4.2.2; CNEMC practice under HJ 633-2012): µg/m³ to
    integers, CO (mg/m³) to one decimal. NaN stays NaN.
    """
    scale = 10.0**decimals
    y = np.rint(np.round(np.asarray(x, dtype=float) * scale, 6))
    return y / scale if decimals else y


def iaqi(conc: Any, indicator: str, edition: int = HJ633_2012) -> np.ndarray:
    """Individual AQI (IAQI) of one indicator, ceiled to an integer; NaN where missing or negative.

    Parameters
    ----------
    conc : array-like
        Concentration, µg/m³ (CO mg/m³), of the averaging time named by ``indicator``.
    indicator : str
        One of ``so2_24h, so2_1h, no2_24h, no2_1h, pm10_24h, pm25_24h, co_24h, co_1h, o3_1h, o3_8h``
        (HJ 633-2012 Table 1 / HJ 633-2026 Table 3 rows).
    edition : 2012 or 2026
        Both editions round the input first (GB/T 8170 to integer µg/m³, CO to 0.1 mg/m³: HJ 633-2026 §4.2.2,
        and CNEMC's practice under 2012). 2026 applies Table 3 notes b/c (SO2 1-h > 800 → 200, O3 8-h > 800
        → 300). Under 2012 those two cases return NaN (Table 1 notes 2/3: the 1-h value is not used; the
        caller substitutes the 24-h SO2 / 1-h O3 sub-index, as :func:`hj633_aqi` does).

    Values above the table top (other than the two special cases) give 500 (decision: capped, see module doc).
    """
    return _iaqi_flags(np.asarray(conc, dtype=float), indicator, edition)[0]


def _iaqi_flags(c: np.ndarray, indicator: str, edition: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IAQI plus the masks 'beyond the table top' and 'negative (invalid)' of the (rounded) input."""
    bp = BREAKPOINTS[edition][indicator]
    c = round_gbt8170(c, 1 if indicator.startswith("co") else 0)  # both editions (module doc, "Input rounding")
    out = np.interp(c, bp, IAQI_POINTS[: bp.size])  # clamps at the top: 500 beyond the full tables
    ceil_index(out)
    top = c > bp[-1]
    if indicator in ("so2_1h", "o3_8h") and top.any():
        out[top] = np.nan if edition == HJ633_2012 else IAQI_POINTS[bp.size - 1]
    neg = c < 0
    if neg.any():
        out[neg] = np.nan
    return out, top, neg


@dataclass
class AqiResult:
    """Vectorised AQI result (one element per row). Strings are built on demand from the bitmasks.

    Attributes
    ----------
    edition : int16 array — 2012 or 2026 (0: unknown, e.g. NaT time; nothing computed for the row).
    iaqi : dict slot → float array — ceiled IAQI per slot (``so2, no2, pm10, co, o3, o3_8h, pm25``), NaN when
        not available or not used by the rule.
    aqi : float array — AQI (NaN when no pollutant is available).
    level : int8 array — 1…6 (I…VI), 0 when AQI is NaN.
    primary, over_standard, beyond, invalid : uint8 bitmasks over :data:`SLOTS`.
    missing : uint8 bitmask over :data:`POLLUTANT_NAMES` (pollutant level).
    publishable : bool array — HJ 633-2026 §5.3.1 (AQI published when nothing is missing or AQI > 100);
        under 2012 true whenever an AQI exists (the missing items are stated, §5.1.1).
    """

    edition: np.ndarray
    iaqi: dict[str, np.ndarray]
    aqi: np.ndarray
    level: np.ndarray
    primary: np.ndarray
    over_standard: np.ndarray
    missing: np.ndarray
    beyond: np.ndarray
    invalid: np.ndarray
    publishable: np.ndarray

    def __len__(self) -> int:
        return int(self.aqi.size)

    @property
    def level_roman(self) -> np.ndarray:
        """Level as I … VI ('' when no AQI)."""
        return _LEVEL_ROMAN[self.level]

    @property
    def category_zh(self) -> np.ndarray:
        """Category in Chinese (优 … 严重污染), HJ 633 Table 2 / Table 1."""
        return _LEVEL_ZH[self.level]

    @property
    def category_en(self) -> np.ndarray:
        """Conventional English category (Excellent … Severely polluted)."""
        return _LEVEL_EN[self.level]

    @property
    def color(self) -> np.ndarray:
        """Official colour as #RRGGBB (HJ 633 Appendix A)."""
        return _LEVEL_COLOR[self.level]

    @property
    def primary_pollutant(self) -> np.ndarray:
        """Comma-joined primary pollutant(s) ('' when AQI ≤ 50 or missing)."""
        return _SLOT_TABLE[self.primary]

    @property
    def over_standard_pollutants(self) -> np.ndarray:
        """Comma-joined over-standard pollutants (IAQI > 100; HJ 633-2012 only, '' under 2026)."""
        return _SLOT_TABLE[self.over_standard]

    @property
    def missing_pollutants(self) -> np.ndarray:
        """Comma-joined missing pollutants."""
        return _POLLUTANT_TABLE[self.missing]

    @property
    def beyond_table(self) -> np.ndarray:
        """Comma-joined slots whose concentration was beyond its table (capped or special rule applied)."""
        return _SLOT_TABLE[self.beyond]


def level_of(aqi: Any) -> np.ndarray:
    """AQI level 1…6 (I…VI) of an AQI array, 0 for NaN — HJ 633-2012 Table 2 / HJ 633-2026 Table 1.

    Level bounds: ≤ 50 I, ≤ 100 II, ≤ 150 III, ≤ 200 IV, ≤ 300 V, > 300 VI (AQI are integers).
    """
    a = np.asarray(aqi, dtype=float)
    lv = (a > 0) | (a <= 0)  # not NaN
    lv = lv.astype(np.int8)
    for upper in (50, 100, 150, 200, 300):
        lv += a > upper
    return lv


def _as_array(x: Any, n: int | None) -> np.ndarray | None:
    if x is None:
        return None
    a = np.asarray(x, dtype=float)
    if a.ndim == 0 and n is not None:
        a = np.full(n, float(a))
    return a


def _slot_inputs(
    period: str, edition: int, hourly_rule: str, c: dict[str, np.ndarray | None]
) -> dict[str, tuple[np.ndarray, str]]:
    """Which concentration feeds which slot with which table (STANDARDS.md §1.3)."""
    daily = period == "daily"
    pick: dict[str, tuple[np.ndarray | None, str]] = {}
    if daily:
        pick = {
            "so2": (c["so2"], "so2_24h"),
            "no2": (c["no2"], "no2_24h"),
            "pm10": (c["pm10"], "pm10_24h"),
            "co": (c["co"], "co_24h"),
            "o3_8h": (c["o3_8h"], "o3_8h"),
            "pm25": (c["pm25"], "pm25_24h"),
        }
        if edition == HJ633_2012:
            pick["o3"] = (c["o3"], "o3_1h")
    else:
        pick = {
            "so2": (c["so2"], "so2_1h"),
            "no2": (c["no2"], "no2_1h"),
            "pm10": (c["pm10"], "pm10_24h"),
            "co": (c["co"], "co_1h"),
            "o3": (c["o3"], "o3_1h"),
            "pm25": (c["pm25"], "pm25_24h"),
        }
        if edition == HJ633_2012 and hourly_rule == "letter":
            pick["pm10"] = (c["pm10_24h"], "pm10_24h")
            pick["pm25"] = (c["pm25_24h"], "pm25_24h")
            pick["o3_8h"] = (c["o3_8h"], "o3_8h")
    return {k: v for k, v in pick.items() if v[0] is not None}  # type: ignore[misc]


def _single_edition(
    c: dict[str, np.ndarray | None], n: int, period: str, edition: int, hourly_rule: str
) -> AqiResult:
    slots = _slot_inputs(period, edition, hourly_rule, c)
    sub: dict[str, np.ndarray] = {}
    beyond = np.zeros(n, dtype=np.uint8)
    invalid = np.zeros(n, dtype=np.uint8)
    for slot, (conc, ind) in slots.items():
        v, top, neg = _iaqi_flags(conc, ind, edition)
        bit = np.uint8(_BIT[slot])
        if top.any():
            beyond[top] |= bit
        if neg.any():
            invalid[neg] |= bit
        sub[slot] = v
    # HJ 633-2012 Table 1 note 2: SO2 1-h > 800 → report the SO2 IAQI of the 24-h mean ("letter");
    # CNEMC published 200 instead (2019-01-09 13:00, station 2647A: SO2 915, AQI 200) — the rule that
    # HJ 633-2026 Table 3 note b later wrote down — so the "cnemc" rule uses 200.
    if edition == HJ633_2012 and period == "hourly" and "so2" in sub:
        sub_so2 = sub["so2"]
        hi = slots["so2"][0] > 800
        if hi.any():
            s24 = c.get("so2_24h")
            if hourly_rule == "cnemc":
                sub_so2[hi] = 200.0
            else:
                sub_so2[hi] = np.nan if s24 is None else iaqi(s24[hi], "so2_24h", edition)
    # HJ 633-2012 Table 1 note 3: O3 8-h > 800 → the 8-h value is not used; the 1-h O3 IAQI stands for O3
    # (the 1-h slot is in the AQI already when given: nothing else to do, the 8-h slot is NaN).
    vals = list(sub.values())
    if not vals:
        aqi = np.full(n, np.nan)
    elif len(vals) == 1:
        aqi = vals[0].copy()
    else:
        aqi = np.fmax(vals[0], vals[1])
        for v in vals[2:]:
            np.fmax(aqi, v, out=aqi)
    if edition == HJ633_2026:
        np.maximum(aqi, 1.0, out=aqi, where=~np.isnan(aqi))  # §4.1.1: AQI range 1–500
    lv = level_of(aqi)
    primary = np.zeros(n, dtype=np.uint8)
    over = np.zeros(n, dtype=np.uint8)
    polluted = aqi > 50
    for slot, v in sub.items():
        sh = SLOTS.index(slot)
        primary |= ((v == aqi) & polluted).view(np.uint8) << np.uint8(sh)
        if edition == HJ633_2012:
            over |= (v > 100).view(np.uint8) << np.uint8(sh)
    missing = np.zeros(n, dtype=np.uint8)
    o3_present = np.zeros(n, dtype=bool)
    for slot in SLOTS:
        given = sub.get(slot)
        bit = np.uint8(SLOTS.index(slot))
        if slot in ("o3", "o3_8h"):
            if given is not None:
                o3_present |= ~np.isnan(given)
            continue
        missing |= np.uint8(1 << bit) if given is None else np.isnan(given).view(np.uint8) << bit
    missing |= (~o3_present).view(np.uint8) << np.uint8(SLOTS.index("o3"))
    have_aqi = ~np.isnan(aqi)
    if edition == HJ633_2026:
        publishable = have_aqi & ((missing == 0) | (aqi > 100))
    else:
        publishable = have_aqi
    unused = np.full(n, np.nan)  # one shared, read-only array for the slots the rule does not use
    unused.flags.writeable = False
    iaqis = {s: sub.get(s, unused) for s in SLOTS}
    ed = np.full(n, edition, dtype=np.int16)
    return AqiResult(ed, iaqis, aqi, lv, primary, over, missing, beyond, invalid, publishable)


def _empty(n: int) -> AqiResult:
    z = np.zeros(n, dtype=np.uint8)
    return AqiResult(
        np.zeros(n, dtype=np.int16),
        {s: np.full(n, np.nan) for s in SLOTS},
        np.full(n, np.nan),
        np.zeros(n, dtype=np.int8),
        z,
        z.copy(),
        z.copy(),
        z.copy(),
        z.copy(),
        np.zeros(n, dtype=bool),
    )


def _scatter(into: AqiResult, part: AqiResult, idx: np.ndarray) -> None:
    for name in ("edition", "aqi", "level", "primary", "over_standard", "missing", "beyond", "invalid"):
        getattr(into, name)[idx] = getattr(part, name)
    into.publishable[idx] = part.publishable
    for s in SLOTS:
        into.iaqi[s][idx] = part.iaqi[s]


def hj633_aqi(
    *,
    so2: Any = None,
    no2: Any = None,
    co: Any = None,
    o3: Any = None,
    o3_8h: Any = None,
    pm10: Any = None,
    pm25: Any = None,
    so2_24h: Any = None,
    pm10_24h: Any = None,
    pm25_24h: Any = None,
    period: str = "hourly",
    edition: int | None = None,
    times: Any = None,
    hourly_rule: str = "cnemc",
) -> AqiResult:
    """China AQI (HJ 633-2012 or HJ 633-2026) for many rows at once.

    Parameters
    ----------
    so2, no2, co, o3, pm10, pm25 : array-like, optional
        Hourly report: 1-h means. Daily report: 24-h (natural-day) means; ``o3`` is then the O3 daily
        maximum 1-h mean (used under 2012 only). µg/m³, CO mg/m³. NaN = missing.
    o3_8h : array-like, optional
        Daily report: O3 daily maximum 8-h moving mean. Hourly report: the 8-h moving mean (used only by
        2012 ``hourly_rule="letter"``). µg/m³.
    so2_24h : array-like, optional
        Hourly 2012 ``hourly_rule="letter"`` only: 24-h moving SO2 mean used when the 1-h SO2 exceeds
        800 µg/m³ (Table 1 note 2).
    pm10_24h, pm25_24h : array-like, optional
        Hourly 2012 ``hourly_rule="letter"`` only: 24-h moving PM means (Table 4).
    period : "hourly" or "daily"
        Real-time (实时报) or daily (日报) report.
    edition : 2012, 2026 or None
        None: the edition in force at each row's ``times`` (HJ 633-2026 from 2026-02-28T16:00Z).
    times : datetime64 (UTC) / tz-aware, optional
        Row times, needed when ``edition`` is None (see :mod:`ecohub.standards.editions`).
    hourly_rule : "cnemc" or "letter"
        2012 hourly only (see module doc). ``"cnemc"`` reproduces the published 2019 figures.

    Returns
    -------
    AqiResult
    """
    if period not in ("hourly", "daily"):
        raise ValueError(f"period must be 'hourly' or 'daily', not {period!r}")
    if hourly_rule not in ("cnemc", "letter"):
        raise ValueError(f"hourly_rule must be 'cnemc' or 'letter', not {hourly_rule!r}")
    raw = dict(
        so2=so2, no2=no2, co=co, o3=o3, o3_8h=o3_8h, pm10=pm10, pm25=pm25,
        so2_24h=so2_24h, pm10_24h=pm10_24h, pm25_24h=pm25_24h,
    )  # fmt: skip
    arrays = {k: _as_array(v, None) for k, v in raw.items()}
    sizes = {a.size for a in arrays.values() if a is not None and a.ndim > 0}
    if times is not None and edition is None:
        ed = hj633_edition(times).ravel()
        sizes.add(ed.size)
    if len(sizes) > 1:
        raise ValueError(f"inputs have different lengths: {sorted(sizes)}")
    n = sizes.pop() if sizes else 1
    c = {
        k: (None if v is None else (np.full(n, float(v)) if v.ndim == 0 else v.ravel()))
        for k, v in arrays.items()
    }
    if edition is not None:
        if edition not in (HJ633_2012, HJ633_2026):
            raise ValueError(f"edition must be 2012 or 2026, not {edition!r}")
        return _single_edition(c, n, period, int(edition), hourly_rule)
    if times is None:
        raise ValueError("give either edition= or times= (the edition in force at each row's time)")
    if np.all(ed == ed[0]) and ed[0] != 0:
        return _single_edition(c, n, period, int(ed[0]), hourly_rule)
    out = _empty(n)
    for e in (HJ633_2012, HJ633_2026):
        idx = np.flatnonzero(ed == e)
        if idx.size:
            part = {k: (None if v is None else v[idx]) for k, v in c.items()}
            _scatter(out, _single_edition(part, idx.size, period, e, hourly_rule), idx)
    return out


def aqi_hourly(**kwargs: Any) -> AqiResult:
    """Real-time (hourly) AQI — :func:`hj633_aqi` with ``period="hourly"``.

    HJ 633-2012 §5.1.3 (CNEMC practice by default) / HJ 633-2026 §4.2.3. Units µg/m³, CO mg/m³.
    """
    return hj633_aqi(period="hourly", **kwargs)


def aqi_daily(**kwargs: Any) -> AqiResult:
    """Daily AQI — :func:`hj633_aqi` with ``period="daily"``. HJ 633-2012 §5.1.2 / HJ 633-2026 §4.2.2.

    Inputs: 24-h means, ``o3_8h`` = O3 daily max 8-h, ``o3`` = O3 daily max 1-h (2012 only). µg/m³, CO mg/m³.
    """
    return hj633_aqi(period="daily", **kwargs)
