"""The hourly emission of one outlet × pollutant (pure): the device's Cou where valid, else C × Q, zero for a
stopped hour, interior gaps substituted — the definitions and sources are in :mod:`ecohub.supervision.permits.
emissions`' module doc and ``docs/permits.md``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOUR = 3600
#: (concentration unit, flow unit) → kg per (C · Q · s)
MASS_FACTOR = {("mg/m³", "m³/s"): 1e-6, ("mg/L", "L/s"): 1e-6}
FLOW_OF = {"gas_outlet": "flow_gas", "water_outlet": "flow_water"}
SHORT_GAP_HOURS = 24
LOOKBACK_HOURS = 720


@dataclass
class HourlyEmission:
    """Hourly emissions of one outlet × pollutant: hour starts, kg, and the method per hour (``cou``, ``cxq``,
    ``substituted``)."""

    time: np.ndarray
    kg: np.ndarray
    method: np.ndarray


def _on(grid: np.ndarray, series: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    out = np.full(grid.size, np.nan)
    if series is None or series[0].size == 0:
        return out
    t, v = series
    pos = np.clip(np.searchsorted(t, grid), 0, t.size - 1)
    hit = t[pos] == grid
    out[hit] = v[pos[hit]]
    return out


def hourly_emission(grid: np.ndarray, conc: np.ndarray, flow: np.ndarray, cou: np.ndarray, factor: float,
                    *, use_cou: bool = True, substitute: bool = True,
                    stopped: np.ndarray | None = None) -> HourlyEmission:
    """Hourly emissions on the hour grid ``grid`` from aligned valid values (NaN = no valid value).

    ``cou`` (kg) where valid (and ``use_cou``), else ``conc · flow · 3600 · factor``; an hour without a valid
    value that is marked ``stopped`` (flag F, 停运) emits zero (method ``stopped``); the remaining interior gaps
    substituted (module doc: HJ 75-2017 missing-data rule). Pure function, vectorised except over gaps."""
    kg = conc * flow * HOUR * factor
    method = np.where(np.isfinite(kg), "cxq", "")
    if use_cou:
        has = np.isfinite(cou)
        kg = np.where(has, cou, kg)
        method = np.where(has, "cou", method)
    if stopped is not None:
        off = stopped & ~np.isfinite(kg)
        kg = np.where(off, 0.0, kg)
        method = np.where(off, "stopped", method)
    method = method.astype(object)
    if substitute:
        ok = np.flatnonzero(np.isfinite(kg))
        if ok.size:
            first, last = ok[0], ok[-1]
            miss = ~np.isfinite(kg)
            miss[:first] = False
            miss[last + 1:] = False
            if miss.any():
                idx = np.flatnonzero(miss)
                breaks = np.flatnonzero(np.diff(idx) > 1)
                starts = np.r_[idx[0], idx[breaks + 1]]
                ends = np.r_[idx[breaks], idx[-1]]
                for a, b in zip(starts, ends, strict=True):
                    if b - a + 1 <= SHORT_GAP_HOURS:
                        val = 0.5 * (kg[a - 1] + kg[b + 1])
                    else:
                        prev = ok[ok < a][-LOOKBACK_HOURS:]
                        val = float(np.max(kg[prev]))
                    kg[a:b + 1] = val
                    method[a:b + 1] = "substituted"
    return HourlyEmission(grid, kg, method)


def pollutant_emission(grid: np.ndarray, kind: str, pollutant: str, hours: dict, factor: float, *,
                       use_cou: bool = True) -> HourlyEmission:
    """The hourly emissions of one outlet × pollutant on ``grid`` from the outlet's hours (parameter →
    ``quality.outlets.Hours``): its concentration, the flow of its kind (:data:`FLOW_OF`), its hourly
    ``<name>_cou`` amounts; stopped where the pollutant or the flow is stopped. Pure — the definition the
    embedded path (``emissions.outlet_emissions``) and the lake's Spark job share."""
    c, q, cou = hours.get(pollutant), hours.get(FLOW_OF[kind]), hourly_amount(hours.get(pollutant + "_cou"))
    stopped = _stopped_on(grid, c) | _stopped_on(grid, q)
    return hourly_emission(grid, _on(grid, _tv(c)), _on(grid, _tv(q)), _on(grid, _tv(cou)), factor,
                           use_cou=use_cou, stopped=stopped)


def _tv(h) -> tuple[np.ndarray, np.ndarray] | None:
    return None if h is None else (h.time, h.value)


def _stopped_on(grid: np.ndarray, h) -> np.ndarray:
    if h is None:
        return np.zeros(grid.size, bool)
    return np.isin(grid, h.time[h.stopped])


def hourly_amount(h):
    """The ``Hours`` of a cumulative-amount (``<name>_cou``) parameter when they are hourly amounts: only from an
    hourly series (HJ 212 2061). The quality layer's hours from minute or real-time series are *means* of the
    sub-hour amounts, not their sum — not an hour's amount — so they are not used (C × Q fills in)."""
    return h if h is not None and h.interval == "hour" else None
