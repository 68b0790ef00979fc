"""Gaussian plume against published worked examples and tables (Turner; Boubel, Fox, Turner & Stern)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ecohub.emergency.plume import Dispersion, centerline_maximum, plume_concentration
from ecohub.emergency.plume_rise import briggs_rise
from ecohub.emergency.sigmas import sigmas


@pytest.mark.parametrize(("x_m", "sz", "sy", "chi"), [
    (260, 26.2, 45.9, 1.53e-5),
    (280, 28.2, 49.0, 1.56e-5),
    (300, 30.1, 52.2, 1.55e-5),
])
def test_fundamentals_of_air_pollution_example(x_m, sz, sy, chi):
    """Boubel, Fox, Turner & Stern, *Fundamentals of Air Pollution* 3rd ed. (1994), ch. 19 §III.D: 0.37 g/s at
    H = 40 m, u = 2 m/s, stability B — the book's table of σz, σy and χ at 0.26, 0.28 and 0.30 km."""
    got_sy, got_sz = sigmas("B", x_m)
    assert float(got_sz) == pytest.approx(sz, abs=0.06)
    assert float(got_sy) == pytest.approx(sy, abs=0.06)
    d = Dispersion("B", 2.0, 40.0)
    assert float(plume_concentration(d, 0.37, x_m, 0.0)) == pytest.approx(chi, rel=0.005)


def test_fundamentals_example_maximum_near_280_m():
    """The same example: the maximum is at about 0.28 km (σz ≈ H/√2) and is ≈ 1.56e-5 g/m³."""
    d = Dispersion("B", 2.0, 40.0)
    cmax, xmax = centerline_maximum(lambda x: plume_concentration(d, 0.37, x, 0.0))
    assert 270 <= xmax <= 295
    assert cmax == pytest.approx(1.56e-5, rel=0.01)


@pytest.mark.parametrize(("cls", "x_km", "sz"), [
    ("A", 0.10, 14.0), ("A", 0.15, 21.4), ("A", 0.20, 29.3), ("A", 0.25, 37.7), ("A", 0.30, 47.4),
    ("A", 0.40, 71.2), ("A", 0.50, 104.7), ("B", 0.20, 20.2), ("B", 0.40, 40.0),
    ("D", 0.30, 12.1), ("D", 1.0, 32.1), ("D", 3.0, 65.1), ("D", 10.0, 134.9), ("D", 30.0, 251.2),
    ("E", 20.0, 109.3), ("E", 40.0, 141.9),
])
def test_sigma_z_at_segment_ends(cls, x_km, sz):
    """Table 19-5 of *Fundamentals* (the PTDIS/ISC3 σz fits) lists σz at the upper end of each segment."""
    assert float(sigmas(cls, x_km * 1000)[1]) == pytest.approx(sz, abs=0.06)


def test_sigma_z_capped_at_5000_m():
    assert float(sigmas("A", 5000)[1]) == 5000.0
    assert float(sigmas("B", 40000)[1]) == 5000.0


def test_turner_workbook_problem_1():
    """Turner (1970), AP-26, example problem 1: a burning dump emits 3 g/s of NOx; overcast night, 7 m/s →
    class D; ground-level source, 3 km directly downwind. Turner reads σy = 190 m, σz = 65 m from his figures
    3-2 and 3-3 and gets χ = 1.1e-5 g/m³. The fitted curves give σy = 185 m (read-off tolerance ~5 %)."""
    sy, sz = sigmas("D", 3000)
    assert float(sy) == pytest.approx(190, rel=0.05)
    assert float(sz) == pytest.approx(65, rel=0.03)
    d = Dispersion("D", 7.0, 0.0)
    assert float(plume_concentration(d, 3.0, 3000, 0.0)) == pytest.approx(1.1e-5, rel=0.05)


def test_turner_uniform_mixing_equation():
    """Turner (1970) eq. 3.5: once σz > 1.6 L the plume is uniformly mixed, χ = Q/(√(2π)·σy·L·u)."""
    d = Dispersion("C", 3.0, 50.0, mixing_height_m=200.0)
    x = 8000.0
    sy, sz = sigmas("C", x)
    assert float(sz) > 1.6 * 200
    expected = 10.0 / (math.sqrt(2 * math.pi) * float(sy) * 200.0 * 3.0)
    assert float(plume_concentration(d, 10.0, x, 0.0)) == pytest.approx(expected, rel=1e-12)


def test_briggs_rural_close_to_pasquill_gifford_at_1_km():
    """Briggs' rural formulas were fitted to the P-G curves (Gifford 1976): σy within 15 % at 1 km for every
    class, σz within 20 % for B … F (Briggs limits A's σz growth, P-G's A curve rises steeply beyond 0.5 km)."""
    for cls in "ABCDEF":
        pg = sigmas(cls, 1000.0, "pg")
        br = sigmas(cls, 1000.0, "briggs-rural")
        assert 0.85 < float(br[0]) / float(pg[0]) < 1.15, cls
        if cls != "A":
            assert 0.8 < float(br[1]) / float(pg[1]) < 1.2, cls


def test_briggs_sigma_values():
    """Gifford (1976) Table (Fundamentals Table 19-6/19-7) worked at x = 1000 m, by hand."""
    sy, sz = sigmas("D", 1000.0, "briggs-rural")
    assert float(sy) == pytest.approx(0.08 * 1000 / math.sqrt(1.1))
    assert float(sz) == pytest.approx(0.06 * 1000 / math.sqrt(2.5))
    sy, sz = sigmas("A", 1000.0, "briggs-urban")
    assert float(sy) == pytest.approx(0.32 * 1000 / math.sqrt(1.4))
    assert float(sz) == pytest.approx(0.24 * 1000 * math.sqrt(2.0))
    sy, sz = sigmas("F", 1000.0, "briggs-rural")
    assert float(sz) == pytest.approx(16.0 / 1.3)


def test_intermediate_class_is_the_mean():
    a, b, ab = sigmas("A", 700.0), sigmas("B", 700.0), sigmas("A-B", 700.0)
    assert float(ab[0]) == pytest.approx((float(a[0]) + float(b[0])) / 2)
    assert float(ab[1]) == pytest.approx((float(a[1]) + float(b[1])) / 2)


def test_briggs_plume_rise_hand_worked():
    """d = 2 m, vs = 15 m/s, Ts = 423.15 K, Ta = 293.15 K, us = 5 m/s, class D, worked by hand:
    Fb = 9.80616·15·2²·130/(4·423.15) = 45.19 m⁴/s³ (< 55); ΔTc = 0.0297·423.15·15^(1/3)/2^(2/3) = 19.5 K < 130 K
    → buoyant; Δh = 21.425·45.19^0.75/5 = 74.7 m; xf = 49·45.19^0.625 = 531 m."""
    r = briggs_rise(diameter_m=2, exit_velocity_ms=15, exit_temp_k=423.15, ambient_temp_k=293.15, wind_ms=5,
                    stability="D")
    assert r.regime == "buoyancy"
    assert r.buoyancy_flux == pytest.approx(45.19, abs=0.01)
    assert r.rise_m == pytest.approx(74.7, abs=0.1)
    assert r.distance_to_final_m == pytest.approx(531, abs=1)


def test_briggs_plume_rise_large_flux_and_stable():
    """Fb ≥ 55 uses 38.71·Fb^0.6/u; stable E uses 2.6·(Fb/(u·s))^(1/3), s = g/Ta·0.020."""
    r = briggs_rise(diameter_m=5, exit_velocity_ms=20, exit_temp_k=413.15, ambient_temp_k=288.15, wind_ms=6,
                    stability="C")
    fb = 9.80616 * 20 * 25 * 125 / (4 * 413.15)
    assert fb > 55 and r.rise_m == pytest.approx(38.71 * fb ** 0.6 / 6)
    r = briggs_rise(diameter_m=5, exit_velocity_ms=20, exit_temp_k=413.15, ambient_temp_k=288.15, wind_ms=3,
                    stability="E")
    s = 9.80616 / 288.15 * 0.020
    assert r.rise_m == pytest.approx(2.6 * (fb / (3 * s)) ** (1 / 3))


def test_cold_jet_is_momentum_dominated():
    r = briggs_rise(diameter_m=1, exit_velocity_ms=10, exit_temp_k=290, ambient_temp_k=293.15, wind_ms=4,
                    stability="D")
    assert r.regime == "momentum" and r.rise_m == pytest.approx(3 * 1 * 10 / 4)
    r = briggs_rise(diameter_m=1, exit_velocity_ms=10, exit_temp_k=290, ambient_temp_k=293.15, wind_ms=4,
                    stability="F")
    assert r.regime == "momentum" and r.rise_m <= 3 * 1 * 10 / 4


def test_vectorised_matches_scalar():
    d = Dispersion("D", 4.0, 30.0, mixing_height_m=800.0)
    xs = np.array([50.0, 500.0, 5000.0])
    ys = np.array([0.0, 30.0, -200.0])
    vec = plume_concentration(d, 10.0, xs, ys)
    for i in range(3):
        assert float(plume_concentration(d, 10.0, xs[i], ys[i])) == pytest.approx(vec[i])


def test_fundamentals_example_stack_gives_the_40_m_effective_height():
    """*Fundamentals of Air Pollution* 3rd ed. ch. 20 §I.J names the source of the ch. 19 example: h = 20 m,
    d = 0.537 m, vs = 20 m/s, Ts = 350 K, whose effective height with u = 2 m/s was H = 40 m. Briggs (ISC3) with
    Ta = 293 K: Fb = 2.30 m⁴/s³ (< 55), Δh = 21.425·Fb^0.75/u = 20.0 m → H = 40 m."""
    r = briggs_rise(diameter_m=0.537, exit_velocity_ms=20, exit_temp_k=350, ambient_temp_k=293, wind_ms=2,
                    stability="B")
    assert r.regime == "buoyancy"
    assert r.buoyancy_flux == pytest.approx(2.30, abs=0.01)
    assert 20 + r.rise_m == pytest.approx(40.0, abs=0.5)
