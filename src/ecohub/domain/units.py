"""Unit conversion between compatible units (mass concentrations), used where a user gives a value in another
unit than the one ecohub stores (permit limits, imports).

Supported: mass per volume — ng, µg (also ug, μg), mg, g, kg per m³ (also m3, Nm³: flue-gas values are at the
standard state anyway) or per L (also l). Any two of these convert (1 mg/L = 1 g/m³ = 1,000 mg/m³). Other units
(%, °C, m³/s, ppm …) convert only to themselves: a volume ratio such as ppm needs the molar mass and the state
(``standards.emission``), which is not a unit conversion.
"""

from __future__ import annotations

_MASS = {"ng": 1e-12, "µg": 1e-9, "ug": 1e-9, "μg": 1e-9, "mg": 1e-6, "g": 1e-3, "kg": 1.0}  # kg
_VOLUME = {"m3": 1.0, "nm3": 1.0, "l": 1e-3}  # m³


class IncompatibleUnits(ValueError):
    pass


def _norm(unit: str) -> str:
    return unit.strip().replace("³", "3").replace(" ", "")


def _mass_per_volume(unit: str) -> float | None:
    """kg/m³ per one ``unit``, or None when ``unit`` is not a mass concentration."""
    u = _norm(unit)
    if "/" not in u:
        return None
    mass, vol = u.split("/", 1)
    m = _MASS.get(mass.replace("μ", "µ")) or _MASS.get(mass)
    v = _VOLUME.get(vol.lower())
    if m is None or v is None:
        return None
    return m / v


def same_unit(a: str, b: str) -> bool:
    """Two spellings of one unit (``mg/m3`` = ``mg/m³``)."""
    return _norm(a).lower() == _norm(b).lower() or (
        _mass_per_volume(a) is not None and _mass_per_volume(a) == _mass_per_volume(b))


def conversion_factor(from_unit: str, to_unit: str) -> float:
    """Factor f with value[to_unit] = f × value[from_unit]; raises :class:`IncompatibleUnits`."""
    if _norm(from_unit).lower() == _norm(to_unit).lower():
        return 1.0
    a, b = _mass_per_volume(from_unit), _mass_per_volume(to_unit)
    if a is None or b is None:
        raise IncompatibleUnits(f"{from_unit!r} cannot be converted to {to_unit!r}")
    f = a / b
    return float(f"{f:.12g}")  # 1e-9/1e-6 → exactly 0.001, not 0.0010000000000000002


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """``value`` in ``from_unit`` expressed in ``to_unit`` (e.g. 35 mg/m³ → 35,000 µg/m³)."""
    return value * conversion_factor(from_unit, to_unit)
