"""The API's JSON serialiser (orjson when installed) writes the same values as the standard library path it
replaced: Beijing-time ISO times, dates, numpy scalars, Chinese text unescaped, floats that read back equal."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import pytest

from ecohub.api import http


def _stdlib(payload) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=http._default,
                      allow_nan=False).encode()


PAYLOADS = [
    [{"site": "1029A", "name": "万寿西宫", "time": datetime(2026, 1, 10, 16, tzinfo=UTC), "value": 42.5,
      "flag": None, "day": date(2026, 1, 11), "n": np.int64(7), "mean": np.float64(0.1), "ok": True}],
    {"results": [{"v": v} for v in (0.1, 1e-05, 12345678.9, 1e20, -0.0, 3, 2.5e-7)], "meta": {"count": 7}},
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_same_values_as_the_standard_library(payload):
    fast = http.dumps(payload)
    assert json.loads(fast) == json.loads(_stdlib(payload))


def test_text_unescaped_and_times_in_beijing():
    fast = http.dumps(PAYLOADS[0])
    assert "万寿西宫".encode() in fast and b'"2026-01-11T00:00:00+08:00"' in fast and b'"2026-01-11"' in fast


def test_keys_that_are_str_subclasses():
    class Name(str):
        pass

    assert json.loads(http.dumps({Name("site"): "A1"})) == {"site": "A1"}


def test_unserialisable_still_refused():
    with pytest.raises(TypeError):
        http.dumps({"x": object()})


def test_integers_past_64_bits_are_written_too():
    """orjson refuses integers past 64 bits (a caller may send one and an error echoes it): the standard
    library writes them (schemathesis found a 500 on POST /assessments/soil)."""
    big = {"detail": [{"loc": ["body", "depth"], "input": 2**70}], "n": -(2**64)}
    assert json.loads(http.dumps(big)) == big
