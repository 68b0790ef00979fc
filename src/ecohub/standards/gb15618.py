"""GB 15618-2018 soil environmental quality — risk control standard for soil contamination of agricultural land
(土壤环境质量 农用地土壤污染风险管控标准（试行）), in force from 2018-08-01. Units: mg/kg dry soil (element totals).

* Risk screening values (风险筛选值), basic items — GB 15618-2018 §4.1, **Table 1**: Cd, Hg, As, Pb, Cr by pH
  band and land use (水田 paddy / 其他 other), Cu by pH and land use (果园 orchard / 其他 other), Ni and Zn by pH.
* Risk screening values, other items — **Table 2**: 六六六总量 (HCH) 0.10, 滴滴涕总量 (DDT) 0.10, 苯并[a]芘 0.55.
* Risk intervention (control) values (风险管制值) — §4.2, **Table 3**: Cd, Hg, As, Pb, Cr by pH band.
* pH bands (Tables 1 and 3): pH ≤ 5.5; 5.5 < pH ≤ 6.5; 6.5 < pH ≤ 7.5; pH > 7.5.
* Classification — §5.1–5.3: content ≤ screening value → risk low, generally negligible (``below_screening``);
  > screening and ≤ intervention value → possible risk, safe-utilisation measures (``between``);
  > intervention value → high risk, strict control (``above_intervention``). Items without an intervention value
  (Cu, Ni, Zn, HCH, DDT, BaP) are at most ``between`` when above screening.
* Paddy-dryland rotation (水旱轮作) uses the stricter value (Table 1 note ③): ``land_use="rotation"``.

Values were taken from the standard's Tables 1–3 as published by MEE; see docs/assessments.md for the
source and what could not be confirmed against a second copy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Upper edges of the pH bands (Tables 1 and 3): ≤5.5, (5.5, 6.5], (6.5, 7.5], >7.5.
PH_EDGES = (5.5, 6.5, 7.5)
LAND_USES = ("paddy", "other", "orchard", "rotation")

#: Table 1 risk screening values, mg/kg: pollutant → land use → (pH≤5.5, 5.5<pH≤6.5, 6.5<pH≤7.5, pH>7.5).
SCREENING: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "cd": {"paddy": (0.3, 0.4, 0.6, 0.8), "other": (0.3, 0.3, 0.3, 0.6)},
    "hg": {"paddy": (0.5, 0.5, 0.6, 1.0), "other": (1.3, 1.8, 2.4, 3.4)},
    "as": {"paddy": (30.0, 30.0, 25.0, 20.0), "other": (40.0, 40.0, 30.0, 25.0)},
    "pb": {"paddy": (80.0, 100.0, 140.0, 240.0), "other": (70.0, 90.0, 120.0, 170.0)},
    "cr": {"paddy": (250.0, 250.0, 300.0, 350.0), "other": (150.0, 150.0, 200.0, 250.0)},
    "cu": {"orchard": (150.0, 150.0, 200.0, 200.0), "other": (50.0, 50.0, 100.0, 100.0)},
    "ni": {"other": (60.0, 70.0, 100.0, 190.0)},
    "zn": {"other": (200.0, 200.0, 250.0, 300.0)},
}
#: Table 2 risk screening values (other items), mg/kg, independent of pH and land use.
SCREENING_OTHER: dict[str, float] = {"hch": 0.10, "ddt": 0.10, "bap": 0.55}
#: Table 3 risk intervention values, mg/kg: pollutant → (pH≤5.5, 5.5<pH≤6.5, 6.5<pH≤7.5, pH>7.5).
INTERVENTION: dict[str, tuple[float, float, float, float]] = {
    "cd": (1.5, 2.0, 3.0, 4.0),
    "hg": (2.0, 2.5, 4.0, 6.0),
    "as": (200.0, 150.0, 120.0, 100.0),
    "pb": (400.0, 500.0, 700.0, 1000.0),
    "cr": (800.0, 850.0, 1000.0, 1300.0),
}
POLLUTANTS = tuple(SCREENING) + tuple(SCREENING_OTHER)
NAMES_ZH = {"cd": "镉", "hg": "汞", "as": "砷", "pb": "铅", "cr": "铬", "cu": "铜", "ni": "镍", "zn": "锌",
            "hch": "六六六总量", "ddt": "滴滴涕总量", "bap": "苯并[a]芘"}

#: Class codes shared with GB 36600 (``ecohub.standards.gb36600``).
CLASSES = ("below_screening", "between", "above_intervention")
MISSING = -1


def ph_band(ph: Any) -> np.ndarray:
    """pH band index 0 … 3 of Tables 1 and 3 (pH ≤ 5.5 → 0; 5.5 < pH ≤ 6.5 → 1; 6.5 < pH ≤ 7.5 → 2; > 7.5 → 3).

    Raises ``ValueError`` for a missing or out-of-range pH (the tables need it: a sample without pH cannot be
    classified for the pH-dependent items).
    """
    p = np.asarray(ph, dtype=float)
    if np.any(~np.isfinite(p)):
        raise ValueError("ph: missing or not a number (GB 15618-2018 Tables 1 and 3 depend on soil pH)")
    if np.any((p < 0) | (p > 14)):
        raise ValueError(f"ph: {p[(p < 0) | (p > 14)].ravel()[0]:g} is outside 0–14")
    return np.searchsorted(np.asarray(PH_EDGES), p, side="left")


def _land_column(pollutant: str, land_use: str) -> tuple[float, float, float, float]:
    cols = SCREENING[pollutant]
    if land_use == "rotation":  # Table 1 note ③: the stricter of paddy and other
        vals = [cols.get("paddy", cols.get("other")), cols.get("other")]
        return tuple(float(min(a, b)) for a, b in zip(*vals, strict=True))  # type: ignore[return-value]
    if land_use in cols:
        return cols[land_use]
    return cols["other"]


def screening_value(pollutant: str, ph: Any, land_use: Any) -> np.ndarray:
    """Risk screening value (mg/kg) of ``pollutant`` for each (pH, land use): Tables 1 and 2."""
    p = pollutant.lower()
    if p in SCREENING_OTHER:
        return np.full(np.shape(np.asarray(land_use)), SCREENING_OTHER[p])
    if p not in SCREENING:
        raise ValueError(f"pollutant: {pollutant!r} is not a GB 15618-2018 item; expected one of {POLLUTANTS}")
    band = ph_band(ph)
    lu = np.broadcast_to(np.asarray(land_use).astype(str), band.shape)
    out = np.empty(band.shape, dtype=float)
    for u in np.unique(lu):
        if u not in LAND_USES:
            raise ValueError(f"land_use: {str(u)!r} is not one of {LAND_USES}")
        m = lu == u
        out[m] = np.asarray(_land_column(p, u))[band[m]]
    return out


def intervention_value(pollutant: str, ph: Any) -> np.ndarray:
    """Risk intervention value (mg/kg) per pH (Table 3); NaN for items without one (Cu, Ni, Zn, Table 2)."""
    p = pollutant.lower()
    if p not in INTERVENTION:
        return np.full(np.shape(np.asarray(ph, dtype=float)), np.nan)
    return np.asarray(INTERVENTION[p])[ph_band(ph)]


def classify(pollutant: str, value: Any, ph: Any, land_use: Any) -> np.ndarray:
    """Class code per sample: 0 below (≤) screening, 1 between, 2 above (>) intervention, −1 value missing.

    GB 15618-2018 §5: "等于或者低于" the screening value is low risk; above the intervention value is high risk.
    """
    v = np.asarray(value, dtype=float)
    scr = screening_value(pollutant, ph, land_use)
    itv = intervention_value(pollutant, ph) if pollutant.lower() in INTERVENTION else np.full(v.shape, np.nan)
    scr, itv = np.broadcast_to(scr, v.shape), np.broadcast_to(itv, v.shape)
    code = np.where(v <= scr, 0, np.where(~np.isnan(itv) & (v > itv), 2, 1))
    return np.where(np.isnan(v), MISSING, code)
