"""River spill: the analytical 1-D solution — mass conservation, a hand-worked case, times, bad input, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ecohub.cli.main import app
from ecohub.domain.errors import InputError
from ecohub.emergency.river import (
    concentration,
    fischer_dispersion,
    peak_time,
    reach_from_dict,
    section_times,
    spill,
)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.05, 3.0), st.floats(1.0, 500.0), st.floats(5.0, 2000.0), st.floats(0.0, 2.0),
       st.floats(600.0, 5 * 86400.0))
def test_mass_is_conserved(u, disp, area, k_day, t):
    """∫ A·C dx over the whole river = M·exp(−k·t) at any time."""
    k = k_day / 86400
    s = math.sqrt(2 * disp * t)
    xs = np.linspace(u * t - 10 * s, u * t + 10 * s, 4001)
    total = area * np.trapezoid(concentration(5e5, area, u, disp, k, xs, t), xs)
    assert total == pytest.approx(5e5 * math.exp(-k * t), rel=1e-6)


def test_hand_worked_case():
    """M = 1000 kg, A = 100 m², u = 0.5 m/s, D = 50 m²/s, k = 0, section 10 km below the release:
    t_peak = (√(50² + 0.25·10⁸) − 50)/0.25 = (5000.25 − 50)/0.25 = 19 801 s = 5.50 h;
    C_peak = 10⁶/(100·√(4π·50·19 801))·exp(−(10 000 − 9 900.5)²/(4·50·19 801)) = 2.835·0.9975 = 2.828 mg/L."""
    assert peak_time(10_000, 0.5, 50, 0) == pytest.approx(19_801, abs=1)
    assert concentration(1e6, 100, 0.5, 50, 0, 10_000, 19_801) == pytest.approx(2.828, abs=0.001)
    reach = reach_from_dict({"velocity_ms": 0.5, "area_m2": 100, "dispersion_m2s": 50,
                             "sections": [{"name": "A", "km": 10}]})
    r = spill(1000, reach, threshold_mg_l=0.05)["sections"][0]
    assert r["peak_time_h"] == pytest.approx(5.50, abs=0.01) and r["peak_mg_l"] == pytest.approx(2.828, abs=0.001)
    for key in ("arrival_time_h", "pass_time_h"):
        t = r[key] * 3600
        assert concentration(1e6, 100, 0.5, 50, 0, 10_000, t) == pytest.approx(0.05, rel=0.01)  # times in h, 3 dp
    assert r["arrival_time_h"] < r["peak_time_h"] < r["pass_time_h"]
    exact = section_times(1e6, reach, 10_000, 0.05)
    for key in ("arrival_time_s", "pass_time_s"):
        assert concentration(1e6, 100, 0.5, 50, 0, 10_000, exact[key]) == pytest.approx(0.05, rel=1e-5)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.05, 3.0), st.floats(1.0, 500.0), st.floats(0.0, 2.0), st.floats(100.0, 1e5))
def test_peak_time_is_the_maximum(u, disp, k_day, x):
    k = k_day / 86400
    tp = peak_time(x, u, disp, k)
    c = concentration(1.0, 1.0, u, disp, k, x, tp)
    assert c >= concentration(1.0, 1.0, u, disp, k, x, tp * 0.99)
    assert c >= concentration(1.0, 1.0, u, disp, k, x, tp * 1.01)


def test_decay_lowers_the_peak_and_sections_upstream_are_marked():
    base = {"velocity_ms": 0.3, "area_m2": 50, "dispersion_m2s": 20,
            "sections": [{"name": "上游", "km": 1}, {"name": "取水口", "km": 25, "type": "intake"}]}
    r0 = spill(500, reach_from_dict(base), release_km=5)
    r1 = spill(500, reach_from_dict({**base, "decay_per_day": 0.5}), release_km=5)
    assert r0["sections"][0]["upstream"] is True
    assert r1["sections"][1]["peak_mg_l"] < r0["sections"][1]["peak_mg_l"]
    assert r0["sections"][1]["type"] == "intake"
    assert "1%" in r0["arrival_definition"] and r0["screening"]


def test_fischer_default_dispersion():
    """u = 0.5 m/s, W = 50 m, h = 2 m, S = 0.0002: u* = √(9.81·2·0.0002) = 0.0626 m/s;
    D = 0.011·0.25·2500/(2·0.0626) = 54.9 m²/s."""
    assert fischer_dispersion(0.5, 50, 2, 0.0002) == pytest.approx(54.9, abs=0.1)
    r = reach_from_dict({"velocity_ms": 0.5, "width_m": 50, "depth_m": 2, "slope": 0.0002})
    assert r.area_m2 == 100 and r.dispersion_source.startswith("Fischer")


@pytest.mark.parametrize(("reach", "field"), [
    ({"velocity_ms": 0, "area_m2": 10, "dispersion_m2s": 5}, "velocity_ms"),
    ({"velocity_ms": 0.5, "dispersion_m2s": 5}, "area_m2"),
    ({"velocity_ms": 0.5, "area_m2": 10}, "dispersion_m2s"),
    ({"velocity_ms": 0.5, "area_m2": -1, "dispersion_m2s": 5}, "area_m2"),
    ({"velocity_ms": 0.5, "area_m2": 10, "dispersion_m2s": 5, "decay_per_day": -1}, "decay_per_day"),
    ({"velocity_ms": 0.5, "area_m2": 10, "dispersion_m2s": 5, "sections": [{"name": "x", "km": "abc"}]},
     "sections[0].km"),
    ({"velocity_ms": 0.5, "area_m2": 10, "dispersion_m2s": 5, "sections": [{"km": 3, "type": "lake"}]},
     "sections[0].type"),
])
def test_bad_reach(reach, field):
    with pytest.raises(InputError) as e:
        reach_from_dict(reach)
    assert e.value.field == field


def test_river_spill_cli(tmp_path):
    f = tmp_path / "reach.json"
    f.write_text(json.dumps({"name": "滹沱河（示例）", "velocity_ms": 0.5, "area_m2": 100, "dispersion_m2s": 50,
                             "sections": [{"name": "A", "km": 10}, {"name": "水厂取水口", "km": 30, "type": "intake"}]},
                            ensure_ascii=False), encoding="utf-8")
    r = CliRunner().invoke(app, ["river-spill", "--reach", str(f), "--mass-kg", "1000", "--threshold", "0.05",
                                 "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert [s["name"] for s in res["sections"]] == ["A", "水厂取水口"]
    assert res["sections"][0]["peak_time_h"] == pytest.approx(5.5, abs=0.01)
    bad = CliRunner().invoke(app, ["river-spill", "--reach", str(f), "--mass-kg", "-3"])
    assert bad.exit_code == 2 and "mass_kg" in bad.output
    f.write_text("{not json", encoding="utf-8")
    bad = CliRunner().invoke(app, ["river-spill", "--reach", str(f), "--mass-kg", "3"])
    assert bad.exit_code == 2 and "not JSON" in bad.output
