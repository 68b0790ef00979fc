"""GB 15618-2018, GB 36600-2018, HJ 640-2012 and the radiation background rule: worked values from the
standards' tables, every class boundary (units: mg/kg dry soil; dB(A); nGy/h)."""

from __future__ import annotations

import numpy as np
import pytest

from ecohub.standards import gb15618, gb36600, hj640, radiation

# --- GB 15618-2018 ---------------------------------------------------------------------------------------------
# Worked cells, restated from the printed tables (pollutant, land use, pH, screening, intervention or None).
GB15618_CELLS = [
    ("cd", "paddy", 5.0, 0.3, 1.5), ("cd", "paddy", 6.0, 0.4, 2.0), ("cd", "paddy", 7.0, 0.6, 3.0),
    ("cd", "paddy", 8.0, 0.8, 4.0), ("cd", "other", 7.0, 0.3, 3.0), ("cd", "other", 8.0, 0.6, 4.0),
    ("hg", "paddy", 7.0, 0.6, 4.0), ("hg", "other", 5.0, 1.3, 2.0), ("hg", "other", 8.0, 3.4, 6.0),
    ("as", "paddy", 8.0, 20, 100), ("as", "other", 6.0, 40, 150), ("pb", "paddy", 8.0, 240, 1000),
    ("pb", "other", 7.0, 120, 700), ("cr", "paddy", 7.0, 300, 1000), ("cr", "other", 5.0, 150, 800),
    ("cu", "orchard", 5.0, 150, None), ("cu", "other", 8.0, 100, None), ("ni", "paddy", 6.0, 70, None),
    ("ni", "other", 8.0, 190, None), ("zn", "other", 7.0, 250, None), ("bap", "paddy", 8.0, 0.55, None),
    ("hch", "other", 5.0, 0.10, None), ("ddt", "other", 5.0, 0.10, None),
]


@pytest.mark.parametrize("pollutant,land,ph,screen,interv", GB15618_CELLS)
def test_gb15618_cells_and_boundaries(pollutant, land, ph, screen, interv):
    assert float(gb15618.screening_value(pollutant, ph, land)) == pytest.approx(screen)
    c = lambda v: int(gb15618.classify(pollutant, v, ph, land))  # noqa: E731
    assert c(screen) == 0  # "等于或者低于" the screening value → below_screening
    assert c(screen * 1.001) == 1
    if interv is None:
        assert np.isnan(float(gb15618.intervention_value(pollutant, ph)))
        assert c(screen * 1000) == 1  # no intervention value: at most "between"
    else:
        assert float(gb15618.intervention_value(pollutant, ph)) == pytest.approx(interv)
        assert c(interv) == 1
        assert c(interv * 1.001) == 2


@pytest.mark.parametrize("ph,band", [(4.0, 0), (5.5, 0), (5.51, 1), (6.5, 1), (6.51, 2), (7.5, 2), (7.51, 3), (9, 3)])
def test_gb15618_ph_band_edges(ph, band):
    # Table 1 headings: pH≤5.5, 5.5<pH≤6.5, 6.5<pH≤7.5, pH>7.5
    assert int(gb15618.ph_band(ph)) == band


def test_gb15618_rotation_uses_the_stricter_value():
    # Table 1 note: paddy-dryland rotation → the stricter of paddy and other (Cd pH 8: min(0.8, 0.6); Hg: 1.0)
    assert float(gb15618.screening_value("cd", 8.0, "rotation")) == 0.6
    assert float(gb15618.screening_value("hg", 8.0, "rotation")) == 1.0


def test_gb15618_bad_input():
    with pytest.raises(ValueError, match="ph: missing"):
        gb15618.classify("cd", 0.2, np.nan, "paddy")
    with pytest.raises(ValueError, match="land_use: 'forest'"):
        gb15618.screening_value("cd", 6.0, "forest")
    with pytest.raises(ValueError, match="pollutant: 'xx'"):
        gb15618.screening_value("xx", 6.0, "paddy")
    assert int(gb15618.classify("cd", np.nan, 6.0, "paddy")) == gb15618.MISSING


def test_gb15618_vectorised():
    got = gb15618.classify("cd", [0.3, 0.31, 1.5, 1.51], [5.5, 5.5, 5.5, 5.5], ["paddy"] * 4)
    assert got.tolist() == [0, 1, 1, 2]


# --- GB 36600-2018 ---------------------------------------------------------------------------------------------
GB36600_CELLS = [  # name, (screening 1, screening 2, intervention 1, intervention 2) — Table 1
    ("as", (20, 60, 120, 140)), ("cd", (20, 65, 47, 172)), ("cr6", (3.0, 5.7, 30, 78)),
    ("pb", (400, 800, 800, 2500)), ("hg", (8, 38, 33, 82)), ("benzene", (1, 4, 10, 40)),
    ("vinyl_chloride", (0.12, 0.43, 1.2, 4.3)), ("bap", (0.55, 1.5, 5.5, 15)), ("naphthalene", (25, 70, 255, 700)),
    ("tca_111", (701, 840, 840, 840)),
]


@pytest.mark.parametrize("name,vals", GB36600_CELLS)
@pytest.mark.parametrize("cls", [1, 2])
def test_gb36600_cells_and_boundaries(name, vals, cls):
    lu = f"construction_{cls}"
    scr, itv = vals[cls - 1], vals[cls + 1]
    assert float(gb36600.screening_value(name, lu)) == pytest.approx(scr)
    assert float(gb36600.intervention_value(name, lu)) == pytest.approx(itv)
    c = lambda v: int(gb36600.classify(name, v, lu))  # noqa: E731
    assert c(scr) == 0 and c(itv * 1.001) == 2
    if itv > scr:
        assert c(scr * 1.001) == 1 and c(itv) == 1


def test_gb36600_table_is_complete_and_ordered():
    assert len(gb36600.TABLE1) == 45  # the 45 basic items
    for name, (s1, s2, i1, i2) in gb36600.TABLE1.items():
        assert s1 <= s2 and i1 <= i2 and s1 <= i1 and s2 <= i2, name
        assert name in gb36600.NAMES_ZH


def test_gb36600_arsenic_background_override():
    # Table 1 note ①: a regional background above the screening value replaces it
    assert int(gb36600.classify("as", 25, "construction_1")) == 1
    assert int(gb36600.classify("as", 25, "construction_1", screening_override=30)) == 0


# --- HJ 640-2012 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("period,mean,grade", [
    ("day", 50.0, 1), ("day", 50.04, 1), ("day", 50.1, 2), ("day", 55.0, 2), ("day", 55.1, 3), ("day", 60.0, 3),
    ("day", 60.1, 4), ("day", 65.0, 4), ("day", 65.1, 5), ("night", 40.0, 1), ("night", 40.1, 2),
    ("night", 45.0, 2), ("night", 50.1, 4), ("night", 55.0, 4), ("night", 55.1, 5),
])
def test_hj640_regional_grades(period, mean, grade):
    assert int(hj640.regional_grade(mean, period)) == grade


@pytest.mark.parametrize("period,mean,grade", [
    ("day", 68.0, 1), ("day", 68.1, 2), ("day", 70.0, 2), ("day", 70.1, 3), ("day", 72.0, 3), ("day", 72.1, 4),
    ("day", 74.0, 4), ("day", 74.1, 5), ("night", 58.0, 1), ("night", 58.1, 2), ("night", 62.0, 3),
    ("night", 64.0, 4), ("night", 64.1, 5),
])
def test_hj640_road_grades(period, mean, grade):
    assert int(hj640.road_traffic_grade(mean, period)) == grade


def test_hj640_energy_mean_and_weighting():
    # 10·lg((10^6 + 10^7)/2) = 67.4036 dB — two levels 60 and 70 dB
    assert float(hj640.energy_mean([60.0, 70.0])) == pytest.approx(67.4036, abs=1e-4)
    assert float(hj640.energy_mean([55.0, np.nan, 55.0])) == pytest.approx(55.0)
    assert np.isnan(float(hj640.energy_mean([np.nan])))
    # length-weighted road mean: (70·1 + 66·3)/4 = 67.0
    assert hj640.road_length_weighted_mean([70, 66], [1, 3]) == pytest.approx(67.0)
    assert hj640.compliance_rate([True, False, None, True]) == pytest.approx(200 / 3)


def test_hj640_statistical_levels():
    s = hj640.statistical_levels(np.arange(1, 101, dtype=float))
    assert s["l10"] == pytest.approx(90.1) and s["l50"] == pytest.approx(50.5) and s["l90"] == pytest.approx(10.9)
    assert s["lmax"] == 100


def test_hj640_period_completeness():
    assert hj640.period_level([55.0] * 12, "day")[2] is True
    assert hj640.period_level([55.0] * 11, "day")[2] is False
    assert hj640.period_level([45.0] * 6, "night") == (pytest.approx(45.0), 6, True)


# --- radiation ---------------------------------------------------------------------------------------------------
def test_radiation_background_rule():
    hist = np.array([100.0, 102.0] * 20)
    bg = radiation.background_range(hist)
    assert bg["mean"] == pytest.approx(101.0)
    s = float(np.std(hist, ddof=1))
    assert bg["high"] == pytest.approx(101 + 3 * s)
    assert radiation.classify([101.0, bg["high"], bg["high"] + 0.01, bg["low"] - 0.01, np.nan], bg).tolist() == [
        "normal", "normal", "high", "low", ""]
    with pytest.raises(ValueError, match="at least 24"):
        radiation.background_range([100.0] * 5)
