"""Properties of the Gaussian plume and puff (hypothesis): linearity, symmetry, reflection, mass, limits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecohub.emergency.plume import (
    Dispersion,
    centerline_maximum,
    halfwidth_area,
    isopleth_halfwidths,
    plume_concentration,
    puff_concentration,
)

CLASSES = st.sampled_from(["A", "B", "C", "D", "E", "F", "A-B", "B-C", "C-D"])
SCHEMES = st.sampled_from(["pg", "briggs-rural", "briggs-urban"])
WIND = st.floats(0.5, 20.0)
HEIGHT = st.floats(0.0, 200.0)
X = st.floats(10.0, 40_000.0)
FAST = settings(max_examples=60, deadline=None)


@FAST
@given(CLASSES, SCHEMES, WIND, HEIGHT, X, st.floats(-500, 500), st.floats(0.01, 1e4), st.floats(0.1, 100))
def test_linear_in_emission_rate(cls, scheme, u, h, x, y, q, k):
    d = Dispersion(cls, u, h, scheme)
    a = float(plume_concentration(d, q, x, y))
    b = float(plume_concentration(d, q * k, x, y))
    assert b == pytest.approx(a * k, rel=1e-9, abs=1e-300)


@FAST
@given(CLASSES, SCHEMES, WIND, HEIGHT, X, st.floats(0, 2000))
def test_symmetric_crosswind_and_peaks_on_axis(cls, scheme, u, h, x, y):
    d = Dispersion(cls, u, h, scheme)
    left, right, axis = (float(plume_concentration(d, 1.0, x, v)) for v in (y, -y, 0.0))
    assert left == right
    assert axis >= left


@FAST
@given(CLASSES, SCHEMES, WIND, X, st.floats(0, 300))
def test_reflection_doubles_a_ground_release_at_ground(cls, scheme, u, x, y):
    with_r = Dispersion(cls, u, 0.0, scheme, ground_reflection=True)
    without = Dispersion(cls, u, 0.0, scheme, ground_reflection=False)
    assert float(plume_concentration(with_r, 5.0, x, y)) == pytest.approx(
        2 * float(plume_concentration(without, 5.0, x, y)), rel=1e-12)


@FAST
@given(CLASSES, SCHEMES, WIND, HEIGHT, X)
def test_inversely_proportional_to_wind_speed(cls, scheme, u, h, x):
    a = float(plume_concentration(Dispersion(cls, u, h, scheme), 1.0, x, 0.0))
    b = float(plume_concentration(Dispersion(cls, 2 * u, h, scheme), 1.0, x, 0.0))
    assert b == pytest.approx(a / 2, rel=1e-12, abs=1e-300)


@FAST
@given(CLASSES, WIND, HEIGHT, st.floats(-1e5, 0.0))
def test_nothing_upwind(cls, u, h, x):
    assert float(plume_concentration(Dispersion(cls, u, h), 1.0, x, 0.0)) == 0.0


@FAST
@given(CLASSES, SCHEMES, WIND, st.floats(10.0, 150.0))
def test_falls_with_distance_beyond_the_maximum(cls, scheme, u, h):
    """Beyond the distance of the maximum the ground-level centre-line concentration decreases (the P-G σz fits
    are piecewise, so a 0.5 % step at a segment joint is tolerated; Briggs' are smooth: strictly)."""
    d = Dispersion(cls, u, h, scheme)

    def f(x):
        return plume_concentration(d, 1.0, x, 0.0)
    _, xmax = centerline_maximum(f)
    xs = np.geomspace(xmax * 1.05, 50_000, 400)
    c = f(xs)
    tol = 1.005 if scheme == "pg" else 1.0 + 1e-12
    assert np.all(c[1:] <= c[:-1] * tol)


def _flux(d: Dispersion, x: float, q: float, z_top: float) -> float:
    """∫∫ u·C dy dz: crosswind integral on a fine y grid at each height, then over z (dz ≤ σz/20)."""
    sy, sz = (float(v) for v in d.sigmas(x))
    ys = np.linspace(-8 * sy, 8 * sy, 321)
    zs = np.linspace(0, z_top, min(max(801, int(z_top / (sz / 20))), 40_001))
    cy = np.array([np.trapezoid(plume_concentration(d, q, x, ys, z), ys) for z in zs[:: max(1, len(zs) // 400)]])
    # the crosswind integral is Gaussian in y at every z: check it, then integrate V(z) on the fine grid
    col = plume_concentration(d, q, x, 0.0, zs) * math.sqrt(2 * math.pi) * sy
    assert np.allclose(cy, col[:: max(1, len(zs) // 400)], rtol=1e-6, atol=1e-300)
    return d.wind_ms * float(np.trapezoid(col, zs))


@FAST
@given(CLASSES, SCHEMES, WIND, HEIGHT, X)
def test_mass_flux_through_a_cross_section_is_q(cls, scheme, u, h, x):
    """∫∫ u·C dy dz over the half-space z ≥ 0 equals Q (ground reflection conserves mass)."""
    d = Dispersion(cls, u, h, scheme)
    sz = float(d.sigmas(x)[1])
    assert _flux(d, x, 2.0, h + 9 * sz) == pytest.approx(2.0, rel=1e-3)


@FAST
@given(st.sampled_from(["A", "B", "C", "D"]), WIND, st.floats(0.0, 150.0), st.floats(200.0, 2000.0), X)
def test_mass_flux_below_the_lid_is_q(cls, u, h, lid, x):
    """With a mixing lid, everything stays between the ground and the lid: ∫_0^L ∫ u·C dy dz = Q."""
    if h >= lid:
        h = lid / 2
    d = Dispersion(cls, u, h, mixing_height_m=lid)
    assert _flux(d, x, 1.0, lid) == pytest.approx(1.0, rel=1e-3)


def test_plume_above_the_lid_gives_nothing_at_ground():
    d = Dispersion("C", 3.0, 300.0, mixing_height_m=200.0)
    assert float(plume_concentration(d, 1.0, 2000.0, 0.0)) == 0.0


@settings(max_examples=20, deadline=None)
@given(CLASSES, WIND, HEIGHT, st.floats(30.0, 3000.0))
def test_puff_conserves_mass(cls, u, h, t):
    """∫∫∫ C dV of a puff over z ≥ 0 is the released mass at any time (ground reflection)."""
    d = Dispersion(cls, u, h)
    sy, sz = (float(v) for v in d.sigmas(u * t))
    xs = np.linspace(u * t - 7 * sy, u * t + 7 * sy, 81)
    ys = np.linspace(-7 * sy, 7 * sy, 81)
    zs = np.linspace(0, h + 8 * sz, max(201, int((h + 8 * sz) / (sz / 10))))
    xx, yy, zz = np.meshgrid(xs, ys, zs, indexing="ij")
    c = puff_concentration(d, 1000.0, xx, yy, zz, t)
    total = np.trapezoid(np.trapezoid(np.trapezoid(c, zs, axis=2), ys, axis=1), xs)
    assert total == pytest.approx(1000.0, rel=3e-3)


@FAST
@given(CLASSES, WIND, HEIGHT, st.floats(1e-4, 1e-1))
def test_isopleth_area_shrinks_with_the_threshold(cls, u, h, t):
    d = Dispersion(cls, u, h)

    def f0(x):
        return plume_concentration(d, 100.0, x, 0.0)

    def sy(x):
        return d.sigmas(x)[0]
    a1 = sum(halfwidth_area(x, w) for x, w in isopleth_halfwidths(f0, sy, t))
    a2 = sum(halfwidth_area(x, w) for x, w in isopleth_halfwidths(f0, sy, 2 * t))
    assert a2 <= a1


@FAST
@given(CLASSES, WIND, HEIGHT, st.floats(1e-4, 1e-2), st.floats(0.05, 0.95), st.floats(0.0, 0.999))
def test_isopleth_halfwidth_is_exactly_the_threshold(cls, u, h, t, fx, fy):
    """A point on the isopleth's half-width has the threshold concentration (the contour is exact)."""
    d = Dispersion(cls, u, h)

    def f0(x):
        return plume_concentration(d, 100.0, x, 0.0)
    stretches = isopleth_halfwidths(f0, lambda x: d.sigmas(x)[0], t)
    if not stretches:
        return
    x, w = stretches[0]
    i = min(max(1, int(fx * (len(x) - 2))), len(x) - 2)
    assert float(plume_concentration(d, 100.0, x[i], w[i])) == pytest.approx(t, rel=1e-9)
    assert float(plume_concentration(d, 100.0, x[i], w[i] * fy)) >= t * (1 - 1e-9)


def test_reflection_factor_of_two_at_source_height_zero_is_exact_for_puffs_too():
    a = Dispersion("D", 3.0, 0.0)
    b = Dispersion("D", 3.0, 0.0, ground_reflection=False)
    assert float(puff_concentration(a, 1.0, 300.0, 0.0, 0.0, 100.0)) == pytest.approx(
        2 * float(puff_concentration(b, 1.0, 300.0, 0.0, 0.0, 100.0)))
    assert math.isfinite(float(puff_concentration(a, 1.0, 300.0, 0.0, 0.0, 0.0)))
