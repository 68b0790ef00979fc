"""European Air Quality Index (EEA) — bands per pollutant, index = worst band (STANDARDS.md §9.2).

Units: µg/m³ for PM2.5, PM10, NO2, O3, SO2.

* Band of a pollutant: the first band whose upper bound is ≥ the concentration (bounds are inclusive on
  the upper side: PM2.5 = 5.0 is "Good" in the current table); above the last bound: "Extremely poor".
* Station index: the worst band over the pollutants given (EEA: "the poorest level of any pollutant").
* Tables: ``"2024"`` = the revised bands aligned with the WHO 2021 guidelines (current); ``"2017"`` = the
  bands used 2017–~2024. Switch-over date and the averaging of PM in the current scheme are UNCONFIRMED
  (the EEA viewer states the index is *defined hourly*; in the 2017 scheme PM used 24-h running means).
* The EEA publishes **bands**, not a number. :func:`european_aqi` also returns a continuous index following the
  CAMS / Open-Meteo convention (NOT an EEA product): 20 points per band, linear inside a band
  (Good 0–20 … Very poor 80–100), above the Very-poor bound continued with the Very-poor slope.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Upper bounds of Good, Fair, Moderate, Poor, Very poor (above: Extremely poor), µg/m³.
BANDS: dict[str, dict[str, tuple[float, ...]]] = {
    "2024": {
        "pm25": (5, 15, 50, 90, 140),
        "pm10": (15, 45, 120, 195, 270),
        "no2": (10, 25, 60, 100, 150),
        "o3": (60, 100, 120, 160, 180),
        "so2": (20, 40, 125, 190, 275),
    },
    "2017": {
        "pm25": (10, 20, 25, 50, 75),
        "pm10": (20, 40, 50, 100, 150),
        "no2": (40, 90, 120, 230, 340),
        "o3": (50, 100, 130, 240, 380),
        "so2": (100, 200, 350, 500, 750),
    },
}
BAND_NAMES = ("Good", "Fair", "Moderate", "Poor", "Very poor", "Extremely poor")
BAND_NAMES_ZH = ("好", "尚可", "中等", "差", "很差", "极差")
#: Band colours (Extremely poor #7D2181; one source gives #872181 — UNCONFIRMED).
BAND_COLORS = ("#50F0E6", "#50CCAA", "#F0E641", "#FF5050", "#960032", "#7D2181")
_NAMES = np.array([""] + list(BAND_NAMES), dtype=object)
_NAMES_ZH = np.array([""] + list(BAND_NAMES_ZH), dtype=object)
_COLORS = np.array([""] + list(BAND_COLORS), dtype=object)
_POLLUTANT_LABEL = {"pm25": "PM2.5", "pm10": "PM10", "no2": "NO2", "o3": "O3", "so2": "SO2"}


def band(conc: Any, pollutant: str, table: str = "2024") -> np.ndarray:
    """EEA band 1 (Good) … 6 (Extremely poor) of one pollutant (µg/m³; EEA EAQI bands, STANDARDS.md §9.2),
    int8; 0 where missing or negative."""
    c = np.asarray(conc, dtype=float)
    bounds = np.asarray(BANDS[table][pollutant], dtype=float)
    b = (np.searchsorted(bounds, c, side="left") + 1).astype(np.int8)
    b[np.isnan(c) | (c < 0)] = 0
    return b


def continuous_index(conc: Any, pollutant: str, table: str = "2024") -> np.ndarray:
    """CAMS/Open-Meteo-style continuous index (0–100+, 20 per band; µg/m³ in) — a convention, not an EEA figure."""
    c = np.asarray(conc, dtype=float)
    bounds = np.concatenate([[0.0], np.asarray(BANDS[table][pollutant], dtype=float)])
    pts = np.arange(0.0, 101.0, 20.0)
    out = np.interp(c, bounds, pts)
    above = c > bounds[-1]
    slope = 20.0 / (bounds[-1] - bounds[-2])
    out[above] = 100.0 + (c[above] - bounds[-1]) * slope
    out[c < 0] = np.nan
    return out


def european_aqi(*, pm25: Any = None, pm10: Any = None, no2: Any = None, o3: Any = None, so2: Any = None,
         table: str = "2024") -> dict[str, np.ndarray]:  # fmt: skip
    """European AQI over arrays (µg/m³). Returns ``band`` (1–6, 0 none), ``category_en``/``category_zh``,
    ``color``, ``index`` (continuous convention, max over pollutants), ``worst_pollutant`` (all worst, joined)
    and ``band_<pollutant>`` per pollutant given."""
    given = {k: v for k, v in dict(pm25=pm25, pm10=pm10, no2=no2, o3=o3, so2=so2).items() if v is not None}
    if not given:
        raise ValueError("give at least one pollutant")
    bands = {k: band(v, k, table) for k, v in given.items()}
    idx = {k: continuous_index(v, k, table) for k, v in given.items()}
    n = next(iter(bands.values())).size
    worst = np.zeros(n, dtype=np.int8)
    cont = np.full(n, np.nan)
    for k in given:
        np.maximum(worst, bands[k], out=worst)
        np.fmax(cont, idx[k], out=cont)
    keys = list(given)
    mask = np.zeros(n, dtype=np.uint8)
    for i, k in enumerate(keys):
        mask |= ((bands[k] == worst) & (worst > 0)).view(np.uint8) << np.uint8(i)
    table_names = np.array(
        [
            ",".join(_POLLUTANT_LABEL[keys[i]] for i in range(len(keys)) if m >> i & 1)
            for m in range(1 << len(keys))
        ],
        dtype=object,
    )
    out = {
        "band": worst,
        "category_en": _NAMES[worst],
        "category_zh": _NAMES_ZH[worst],
        "color": _COLORS[worst],
        "index": cont,
        "worst_pollutant": table_names[mask],
    }
    out.update({f"band_{k}": v for k, v in bands.items()})
    return out
