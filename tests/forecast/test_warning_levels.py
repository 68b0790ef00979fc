"""Heavy-pollution warning levels at each boundary of the 2018 and 2024 schemes (STANDARDS.md §8)."""

import math

import pytest

from ecohub.forecast.warning_levels import change, warning_level


@pytest.mark.parametrize("seq, level", [
    ([200, 200, 200], 0),            # AQI > 200 is strict: 200 is not a trigger
    ([201, 100, 100], 1),            # one day > 200 → blue
    ([100, 201, 201], 2),            # two consecutive → yellow
    ([201, 100, 201], 1),            # not consecutive → blue only
    ([201, 201, 201], 2),            # three days but none > 300 → yellow
    ([201, 201, 301], 3),            # three days and one > 300 → orange
    ([201, 201, 300], 2),            # 300 is not > 300
    ([201, 301, 301], 3),            # three days with two > 300 but not four days → orange
    ([201, 301, 301, 201], 4),       # four days > 200 and two consecutive > 300 → red
    ([201, 301, 201, 301], 3),       # four days, > 300 twice but not consecutive → orange
    ([100, 100, 500], 4),            # reaching 500 → red
    ([100, 100, 499], 1),
    ([math.nan, 201, 201], 2),       # unknown day breaks nothing after it
    ([201, math.nan, 201], 1),       # unknown day breaks the run
])
def test_2018_scheme(seq, level):
    assert warning_level(seq, "2018").level == level


@pytest.mark.parametrize("seq, level", [
    ([150, 150, 150], 0),
    ([151, 100, 100], 0),            # one day > 150 only
    ([151, 151, 100], 2),            # > 150 for 2 days → yellow
    ([201, 100, 100], 2),            # any day > 200 → yellow
    ([151, 151, 151], 3),            # > 150 for 3 days → orange
    ([201, 201, 100], 3),            # > 200 for 2 days → orange
    ([201, 201, 201], 3),            # > 200 for 3 days but none > 300 → orange
    ([201, 201, 301], 4),            # > 200 for 3 days with one > 300 → red
    ([301, 100, 301], 2),            # > 300 days not consecutive with > 200 run of 3 → yellow
])
def test_2024_scheme(seq, level):
    assert warning_level(seq, "2024").level == level


def test_unknown_scheme_refused():
    with pytest.raises(ValueError, match="scheme"):
        warning_level([100], "2019")


def test_reason_and_names():
    w = warning_level([201, 201, 301], "2018")
    assert (w.color, w.name_zh) == ("orange", "橙色预警")
    assert "3 consecutive" in w.reason


@pytest.mark.parametrize("prev, cur, what", [(0, 1, "issue"), (1, 3, "upgrade"), (3, 2, "downgrade"),
                                             (2, 0, "lift"), (2, 2, "keep"), (0, 0, "none")])
def test_change(prev, cur, what):
    assert change(prev, cur) == what
