"""US EPA Air Quality Index — Technical Assistance Document EPA-454/B-24-002 (May 2024), 40 CFR 58 App. G.

Units: O3 and CO in ppm, SO2 and NO2 in ppb, PM2.5 and PM10 in µg/m³ (EPA units). Chinese data are in
µg/m³ (CO mg/m³) at 25 °C: convert with :func:`ugm3_to_ppb` / :func:`mgm3_to_ppm` first.

Procedure (TAD 2024 §2, Table 5 and the "truncate" step):

1. truncate the concentration: O3 ppm to 3 decimals, PM2.5 µg/m³ to 1, PM10 µg/m³ to 0, CO ppm to 1,
   SO2 and NO2 ppb to 0 decimals (a 1e-9 guard removes float noise before truncating);
2. find the row of Table 5 whose [BP_lo, BP_hi] contains it (rows are disjoint after truncation);
3. I = (I_hi − I_lo)/(BP_hi − BP_lo) × (C − BP_lo) + I_lo, **rounded to the nearest integer** (half up);
4. AQI = max over pollutants.

Breakpoints: the 2024 revision (PM2.5 Good ends at 9.0 µg/m³; one Hazardous row 301–500, PM2.5
225.5–325.4); :data:`PM25_2012` keeps the pre-2024 PM2.5 rows for history.
Special rules (TAD 2024, Table 5 notes):
* O3: the 8-h value defines AQI up to 300 (0.200 ppm); above 0.200 ppm the 8-h index is undefined and the
  1-h value must be used; the 1-h rows start at 0.125 ppm (AQI 101). Where both are given the larger index
  is reported.
* SO2: 1-h values define AQI up to 200 (≤ 304 ppb). For 1-h ≥ 305 ppb the 24-h SO2 mean is used with the
  rows 305–604 / 605–1004; if the 24-h mean is < 305 ppb (or not given) the SO2 index is 200.
* Above the top of the table (AQI 500) the 301–500 row is extrapolated (TAD 2024: "AQI values above 500
  are calculated with the Hazardous breakpoints").
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: AQI values of the rows (lo, hi) — TAD 2024 Table 5.
AQI_ROWS = np.array([[0, 50], [51, 100], [101, 150], [151, 200], [201, 300], [301, 500]], dtype=float)

#: Concentration rows (lo, hi) per indicator, EPA units; NaN rows are not defined for that indicator.
_N = np.nan
BREAKPOINTS: dict[str, np.ndarray] = {
    "o3_8h": np.array([[0, 0.054], [0.055, 0.070], [0.071, 0.085], [0.086, 0.105], [0.106, 0.200], [_N, _N]]),
    "o3_1h": np.array([[_N, _N], [_N, _N], [0.125, 0.164], [0.165, 0.204], [0.205, 0.404], [0.405, 0.604]]),
    "pm25_24h": np.array(
        [[0, 9.0], [9.1, 35.4], [35.5, 55.4], [55.5, 125.4], [125.5, 225.4], [225.5, 325.4]]
    ),
    "pm10_24h": np.array([[0, 54], [55, 154], [155, 254], [255, 354], [355, 424], [425, 604]], dtype=float),
    "co_8h": np.array([[0, 4.4], [4.5, 9.4], [9.5, 12.4], [12.5, 15.4], [15.5, 30.4], [30.5, 50.4]]),
    "so2_1h": np.array([[0, 35], [36, 75], [76, 185], [186, 304], [_N, _N], [_N, _N]], dtype=float),
    "so2_24h": np.array([[_N, _N], [_N, _N], [_N, _N], [_N, _N], [305, 604], [605, 1004]], dtype=float),
    "no2_1h": np.array([[0, 53], [54, 100], [101, 360], [361, 649], [650, 1249], [1250, 2049]], dtype=float),
}
#: Pre-2024 PM2.5 rows (TAD 2018), with the 301–400 / 401–500 split collapsed to its span (250.5–500.4).
PM25_2012 = np.array([[0, 12.0], [12.1, 35.4], [35.5, 55.4], [55.5, 150.4], [150.5, 250.4], [250.5, 500.4]])

#: Decimals kept by the truncation step per indicator (TAD 2024 §2).
TRUNCATE_DECIMALS = {"o3_8h": 3, "o3_1h": 3, "pm25_24h": 1, "pm10_24h": 0, "co_8h": 1,
                     "so2_1h": 0, "so2_24h": 0, "no2_1h": 0}  # fmt: skip

CATEGORIES = (
    ("Good", "优", "#00E400"),
    ("Moderate", "中等", "#FFFF00"),
    ("Unhealthy for Sensitive Groups", "对敏感人群不健康", "#FF7E00"),
    ("Unhealthy", "不健康", "#FF0000"),
    ("Very Unhealthy", "非常不健康", "#8F3F97"),
    ("Hazardous", "危险", "#7E0023"),
)
_CAT_EN = np.array([""] + [c[0] for c in CATEGORIES], dtype=object)
_CAT_ZH = np.array([""] + [c[1] for c in CATEGORIES], dtype=object)
_CAT_COLOR = np.array([""] + [c[2] for c in CATEGORIES], dtype=object)

#: Molar masses, g/mol, for unit conversion at 25 °C and 1 atm (molar volume 24.45 L/mol).
MOLAR_MASS = {"so2": 64.07, "no2": 46.01, "o3": 48.00, "co": 28.01}
MOLAR_VOLUME_25C = 24.45


def ugm3_to_ppb(conc: Any, pollutant: str) -> np.ndarray:
    """µg/m³ → ppb at 25 °C, 1 atm: ppb = µg/m³ × 24.45 / M (STANDARDS.md §9.1)."""
    return np.asarray(conc, dtype=float) * MOLAR_VOLUME_25C / MOLAR_MASS[pollutant]


def mgm3_to_ppm(conc: Any, pollutant: str) -> np.ndarray:
    """mg/m³ → ppm at 25 °C, 1 atm (same factor as µg/m³ → ppb)."""
    return ugm3_to_ppb(conc, pollutant)


def truncate(conc: Any, decimals: int) -> np.ndarray:
    """Truncate (toward zero) to ``decimals`` places, after a 1e-9 guard against float noise (TAD 2024 §2)."""
    scale = 10.0**decimals
    return np.floor(np.asarray(conc, dtype=float) * scale + 1e-9) / scale


def sub_index(conc: Any, indicator: str, breakpoints: np.ndarray | None = None) -> np.ndarray:
    """EPA sub-index of one indicator (TAD 2024 eq. 1), rounded half up; NaN if missing/negative/undefined.

    ``conc`` in EPA units (see module doc); it is truncated here. Values above the top row are extrapolated
    with the Hazardous row; values below the first defined row (O3 1-h < 0.125 ppm, SO2 24-h < 305 ppb)
    give NaN (the indicator does not define the index there).
    """
    rows = BREAKPOINTS[indicator] if breakpoints is None else breakpoints
    c = truncate(conc, TRUNCATE_DECIMALS[indicator])
    defined = np.flatnonzero(np.isfinite(rows[:, 0]))
    lo_rows = rows[defined]
    k = np.searchsorted(lo_rows[:, 0], c, side="right") - 1
    below = k < 0
    k = np.clip(k, 0, defined.size - 1)
    bp_lo, bp_hi = lo_rows[k, 0], lo_rows[k, 1]
    i_lo, i_hi = AQI_ROWS[defined[k], 0], AQI_ROWS[defined[k], 1]
    val = (i_hi - i_lo) / (bp_hi - bp_lo) * (c - bp_lo) + i_lo
    out = np.floor(np.round(val, 9) + 0.5)
    top_defined = defined[-1]
    if indicator == "o3_8h":  # 8-h O3 does not define the index above 0.200 ppm
        out[c > rows[top_defined, 1]] = np.nan
    out[below | (c < 0) | np.isnan(c)] = np.nan
    return out


def level_of(aqi: Any) -> np.ndarray:
    """EPA category 1…6 (Good … Hazardous) of an AQI array (TAD 2024 Table 5 AQI rows); 0 for NaN."""
    a = np.asarray(aqi, dtype=float)
    lv = (~np.isnan(a)).astype(np.int8)
    for upper in (50, 100, 150, 200, 300):
        lv += a > upper
    return lv


def epa_aqi(
    *,
    o3_8h: Any = None,
    o3_1h: Any = None,
    pm25: Any = None,
    pm10: Any = None,
    co: Any = None,
    so2: Any = None,
    so2_24h: Any = None,
    no2: Any = None,
    pm25_breakpoints: str = "2024",
) -> dict[str, np.ndarray]:
    """US EPA AQI over arrays (TAD EPA-454/B-24-002, Table 5). EPA units: ppm (O3, CO), ppb (SO2, NO2), µg/m³.

    Parameters: ``o3_8h`` ppm (8-h), ``o3_1h`` ppm, ``pm25``/``pm10`` µg/m³ 24-h, ``co`` ppm 8-h, ``so2`` ppb
    1-h (daily max), ``so2_24h`` ppb, ``no2`` ppb 1-h. ``pm25_breakpoints``: "2024" (current) or "2012".

    Returns a dict of arrays: ``aqi`` (float, NaN when nothing given), ``level`` (1–6), ``category_en``,
    ``category_zh``, ``color``, ``primary_pollutant`` (all maxima, comma-joined; '' when AQI ≤ 50) and
    ``sub_<pollutant>`` per pollutant.
    """
    subs: dict[str, np.ndarray] = {}
    if o3_8h is not None or o3_1h is not None:
        s8 = None if o3_8h is None else sub_index(o3_8h, "o3_8h")
        s1 = None if o3_1h is None else sub_index(o3_1h, "o3_1h")
        if s8 is None or s1 is None:
            subs["O3"] = s8 if s1 is None else s1  # type: ignore[assignment]  # one of them is given (if above)
        else:
            subs["O3"] = np.fmax(s8, s1)
    if pm25 is not None:
        subs["PM2.5"] = sub_index(pm25, "pm25_24h", PM25_2012 if pm25_breakpoints == "2012" else None)
    if pm10 is not None:
        subs["PM10"] = sub_index(pm10, "pm10_24h")
    if co is not None:
        subs["CO"] = sub_index(co, "co_8h")
    if so2 is not None:
        s = sub_index(so2, "so2_1h")
        one_h = truncate(so2, 0)
        high = one_h >= 305
        if high.any():
            s24 = np.full(s.shape, np.nan) if so2_24h is None else sub_index(so2_24h, "so2_24h")
            s = np.where(high, np.where(np.isnan(s24), 200.0, s24), s)
        subs["SO2"] = s
    if no2 is not None:
        subs["NO2"] = sub_index(no2, "no2_1h")
    if not subs:
        raise ValueError("give at least one pollutant")
    n = next(iter(subs.values())).size
    aqi = np.full(n, np.nan)
    for v in subs.values():
        np.fmax(aqi, v, out=aqi)
    lv = level_of(aqi)
    names = np.array(list(subs), dtype=object)
    mask = np.zeros(n, dtype=np.uint8)
    for i, v in enumerate(subs.values()):
        mask |= ((v == aqi) & (aqi > 50)).view(np.uint8) << np.uint8(i)
    table = np.array(
        [",".join(names[i] for i in range(names.size) if m >> i & 1) for m in range(1 << names.size)],
        dtype=object,
    )
    out = {
        "aqi": aqi,
        "level": lv,
        "category_en": _CAT_EN[lv],
        "category_zh": _CAT_ZH[lv],
        "color": _CAT_COLOR[lv],
        "primary_pollutant": table[mask],
    }
    out.update({f"sub_{k}": v for k, v in subs.items()})
    return out
