"""Briggs plume rise for a stack, as implemented in ISC3 (EPA-454/B-95-003b, vol. II, §1.1.4).

Fluxes (eq. 1-7, 1-8): buoyancy Fb = g·vs·d²·ΔT/(4·Ts) (m⁴/s³), momentum Fm = vs²·d²·Ta/(4·Ts) (m⁴/s²),
ΔT = Ts − Ta, g = 9.80616 m/s².

Unstable and neutral (A–D), §1.1.4.3–1.1.4.5 (Briggs 1969, 1971, 1975):

* crossover temperature difference: Fb < 55: ΔTc = 0.0297·Ts·vs^(1/3)/d^(2/3); Fb ≥ 55:
  ΔTc = 0.00575·Ts·vs^(2/3)/d^(1/3);
* ΔT ≥ ΔTc, buoyancy-dominated final rise: Fb < 55: Δh = 21.425·Fb^(3/4)/us, xf = 49·Fb^(5/8);
  Fb ≥ 55: Δh = 38.71·Fb^(3/5)/us, xf = 119·Fb^(2/5);
* otherwise momentum-dominated: Δh = 3·d·vs/us.

Stable (E, F), §1.1.4.6–1.1.4.9, with s = (g/Ta)·dθ/dz, dθ/dz = 0.020 K/m (E) and 0.035 K/m (F):

* ΔTc = 0.019582·Ts·vs·√s;
* buoyancy: Δh = 2.6·(Fb/(us·s))^(1/3), xf = 2.0715·us/√s;
* momentum: Δh = 1.5·(Fm/(us·√s))^(1/3), but not more than the unstable momentum rise 3·d·vs/us.

Gradual rise (Briggs' "2/3 law", ISC3 eq. 1-34 / 1-35) before xf: Δh(x) = 1.60·(Fb·x²)^(1/3)/us, capped at the
final rise. ISC3 uses the final rise for all receptors (except building downwash, not modelled here); so does
:mod:`plume` by default. ``us`` is the wind speed at stack-top height.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ecohub.domain.errors import InputError

G = 9.80616
LAPSE_STABLE = {"E": 0.020, "F": 0.035}  # dθ/dz, K/m (ISC3 defaults)


@dataclass(frozen=True)
class PlumeRise:
    rise_m: float  # final rise Δh
    distance_to_final_m: float  # xf
    buoyancy_flux: float  # Fb, m⁴/s³
    momentum_flux: float  # Fm, m⁴/s²
    regime: str  # buoyancy | momentum

    def gradual(self, x_m: float, wind_ms: float) -> float:
        """Rise at distance x (Briggs 2/3 law for the buoyant regime), capped at the final rise."""
        if self.regime != "buoyancy" or x_m >= self.distance_to_final_m:
            return self.rise_m
        return min(1.60 * (self.buoyancy_flux * max(x_m, 0.0) ** 2) ** (1 / 3) / wind_ms, self.rise_m)


def _positive(name: str, v: float, allow_zero: bool = False) -> float:
    if not isinstance(v, int | float) or not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise InputError(name, v, "a positive finite number" if not allow_zero else "a finite number ≥ 0")
    return float(v)


def briggs_rise(*, diameter_m: float, exit_velocity_ms: float, exit_temp_k: float, ambient_temp_k: float,
                wind_ms: float, stability: str) -> PlumeRise:
    """Final plume rise (m) of a stack by the ISC3 Briggs formulas; ``wind_ms`` at stack top."""
    d = _positive("diameter_m", diameter_m)
    vs = _positive("exit_velocity_ms", exit_velocity_ms)
    ts = _positive("exit_temp_k", exit_temp_k)
    ta = _positive("ambient_temp_k", ambient_temp_k)
    us = _positive("wind_ms", wind_ms)
    cls = stability.split("-")[-1]  # an intermediate class takes the more stable of its two for rise
    if cls not in "ABCDEF" or len(cls) != 1:
        raise InputError("stability", stability, "a Pasquill–Gifford class A … F")
    dt = ts - ta
    fb = G * vs * d * d * dt / (4.0 * ts)
    fm = vs * vs * d * d * ta / (4.0 * ts)
    momentum_unstable = 3.0 * d * vs / us
    if cls in "ABCD":
        if fb < 55.0:
            dtc = 0.0297 * ts * vs ** (1 / 3) / d ** (2 / 3)
        else:
            dtc = 0.00575 * ts * vs ** (2 / 3) / d ** (1 / 3)
        if dt > 0 and dt >= dtc:
            if fb < 55.0:
                return PlumeRise(21.425 * fb ** 0.75 / us, 49.0 * fb ** 0.625, fb, fm, "buoyancy")
            return PlumeRise(38.71 * fb ** 0.6 / us, 119.0 * fb ** 0.4, fb, fm, "buoyancy")
        xf = 4.0 * d * (vs + 3.0 * us) ** 2 / (vs * us)  # ISC3 eq. 1-17 (momentum, distance to final rise)
        return PlumeRise(momentum_unstable, xf, fb, fm, "momentum")
    s = G / ta * LAPSE_STABLE[cls]
    dtc = 0.019582 * ts * vs * math.sqrt(s)
    if dt > 0 and dt >= dtc:
        return PlumeRise(2.6 * (fb / (us * s)) ** (1 / 3), 2.0715 * us / math.sqrt(s), fb, fm, "buoyancy")
    rise = min(1.5 * (fm / (us * math.sqrt(s))) ** (1 / 3), momentum_unstable)
    return PlumeRise(rise, 0.5 * math.pi * us / math.sqrt(s), fb, fm, "momentum")
