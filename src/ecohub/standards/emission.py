"""Flue-gas converted (reference-oxygen) concentrations and permit-limit exceedance.

Formulas from HJ 212-2017 Appendix D.2 (after HJ/T 75 / HJ/T 76); units mg/m³ at the standard state
(273 K, 101325 Pa), dry flue gas, O2 in % (volume, dry).

* actual → standard state: C_sn = C_s × (273 + t_s)/273 × 101325/(B_a + P_s)
* wet → dry: C_dry = C_wet / (1 − X_sw)
* ppm → mg/m³: C = C_ppm × M / 22.4
* NOx as NO2: C_NOx = C_NO × 46/30 + C_NO2
* reference O2: C_conv = C × (21 − O2_ref)/(21 − O2_meas);  excess-air form C × α/α_s, α = 21/(21 − O2)
* CEMS averages: hourly mean from ≥ 45 valid minute means, daily mean from ≥ 20 valid hourly means.

Reference O2 contents are set by the sector emission standard (see :data:`REFERENCE_O2`; several UNCONFIRMED).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Reference O2 (% dry) by source type, with the standard and our evidence status.
REFERENCE_O2: dict[str, tuple[float, str, str]] = {
    "coal_boiler": (9.0, "GB 13271-2014", "UNCONFIRMED"),
    "oil_gas_boiler": (3.5, "GB 13271-2014", "UNCONFIRMED"),
    "power_coal": (6.0, "GB 13223-2011", "two sources"),
    "power_oil_gas": (3.0, "GB 13223-2011", "UNCONFIRMED"),
    "gas_turbine": (15.0, "GB 13223-2011", "UNCONFIRMED"),
    "waste_incineration": (11.0, "GB 18485-2014", "UNCONFIRMED"),
    "cement_kiln": (10.0, "GB 4915-2013", "UNCONFIRMED"),
}
MIN_MINUTES_PER_HOUR = 45
MIN_HOURS_PER_DAY = 20
MOLAR_VOLUME_STD = 22.4  # L/mol at 273 K, 101325 Pa


def reference_oxygen_concentration(conc: Any, o2_measured: Any, o2_reference: Any) -> np.ndarray:
    """Converted concentration C × (21 − O2_ref)/(21 − O2_meas) (HJ 212-2017 D.2), mg/m³; O2 in % dry.

    ``conc`` must already be at the standard state and dry. NaN where O2_meas ≥ 21 % or O2_meas < 0
    (the denominator would be meaningless). Whether a permit converts when O2_meas < O2_ref is the permit's
    choice: this function always converts.
    """
    c = np.asarray(conc, dtype=float)
    o2 = np.asarray(o2_measured, dtype=float)
    ref = np.asarray(o2_reference, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = c * (21.0 - ref) / (21.0 - o2)
    return np.where((o2 >= 21.0) | (o2 < 0), np.nan, out)


def excess_air_coefficient(o2_measured: Any) -> np.ndarray:
    """α = 21 / (21 − O2) (HJ 212-2017 D.2); NaN for O2 ≥ 21 %."""
    o2 = np.asarray(o2_measured, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(o2 >= 21.0, np.nan, 21.0 / (21.0 - o2))


def standard_state(conc: Any, flue_temp_c: Any, ambient_pa: Any, static_pa: Any = 0.0) -> np.ndarray:
    """Actual → standard state (273 K, 101325 Pa): C × (273 + t_s)/273 × 101325/(B_a + P_s). Pa, °C."""
    c = np.asarray(conc, dtype=float)
    return c * (273.0 + np.asarray(flue_temp_c, dtype=float)) / 273.0 * 101325.0 / (
        np.asarray(ambient_pa, dtype=float) + np.asarray(static_pa, dtype=float))  # fmt: skip


def dry_basis(conc_wet: Any, moisture_fraction: Any) -> np.ndarray:
    """Wet → dry: C / (1 − X_sw), X_sw the volume fraction of water vapour (0–1); NaN for X_sw ≥ 1."""
    x = np.asarray(moisture_fraction, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(x >= 1, np.nan, np.asarray(conc_wet, dtype=float) / (1.0 - x))


def ppm_to_mg_m3(ppm: Any, molar_mass: float) -> np.ndarray:
    """ppm → mg/m³ at the standard state: ppm × M / 22.4 (M in g/mol; SO2 64, NO2 46, CO 28)."""
    return np.asarray(ppm, dtype=float) * molar_mass / MOLAR_VOLUME_STD


def nox_as_no2(no_mg: Any, no2_mg: Any) -> np.ndarray:
    """NOx expressed as NO2 from NO and NO2 mass concentrations: NO × 46/30 + NO2 (mg/m³)."""
    return np.asarray(no_mg, dtype=float) * 46.0 / 30.0 + np.asarray(no2_mg, dtype=float)


def block_mean(values: Any, block: int, min_valid: int) -> np.ndarray:
    """Means of consecutive blocks (e.g. 60 minute values → hourly; 24 hourly → daily) with a validity rule.

    ``values``: 1-D grid whose length is a multiple of ``block``; NaN = invalid. Block mean is NaN unless it
    holds ≥ ``min_valid`` valid values (CEMS: 45 of 60 minutes, 20 of 24 hours — HJ 212-2017 D.2 / HJ 75).
    """
    a = np.asarray(values, dtype=float)
    if a.size % block:
        raise ValueError(f"length {a.size} is not a multiple of {block}")
    b = a.reshape(-1, block)
    n = np.sum(~np.isnan(b), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.nansum(b, axis=1) / n
    return np.where(n >= min_valid, m, np.nan)


def permit_exceedance(conc: Any, limit: Any) -> dict[str, np.ndarray]:
    """Exceedance of a permit / emission-standard limit by period averages (hourly or daily), mg/m³.

    ``conc``: converted concentrations averaged over the permit's period (see :func:`block_mean`);
    ``limit``: the limit for that period. Returns ``exceeds`` (C > L; False for NaN), ``multiple``
    ((C − L)/L, the 超标倍数), ``excess`` (C − L).
    """
    c = np.asarray(conc, dtype=float)
    lim = np.asarray(limit, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"exceeds": c > lim, "multiple": (c - lim) / lim, "excess": c - lim}
