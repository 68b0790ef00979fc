from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ecohub.domain.errors import InputError
from ecohub.domain.kinds import Interval
from ecohub.domain.parameters import resolve
from ecohub.domain.timeutil import TimeParser, parse_time


@pytest.mark.parametrize("text,expected", [
    ("2019-01-08T13:00:00+08:00", datetime(2019, 1, 8, 5, tzinfo=UTC)),
    ("2019-01-08 13:00", datetime(2019, 1, 8, 5, tzinfo=UTC)),  # naive = Beijing
    ("2019-01-08", datetime(2019, 1, 7, 16, tzinfo=UTC)),
    ("2019-01-08T05:00:00Z", datetime(2019, 1, 8, 5, tzinfo=UTC)),
    ("2019-01-08T05:00:00.5+00:00", datetime(2019, 1, 8, 5, 0, 0, 500000, tzinfo=UTC)),
])
def test_parse_time(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2019-13-01", "1969-12-31", "08/01/2019"])
def test_bad_times_name_the_value(text):
    with pytest.raises(InputError) as e:
        parse_time(text, "when")
    assert e.value.field == "when"


def test_time_parser_cache_gives_same_answer():
    p = TimeParser(max_size=2)
    for t in ["2019-01-08 01:00", "2019-01-08 02:00", "2019-01-08 03:00", "2019-01-08 01:00"]:
        assert p.epoch(t) == int(parse_time(t).timestamp())


def test_parameters_by_name_code_and_alias():
    assert resolve("PM25").name == "pm25" and resolve("a34004").name == "pm25" and resolve("pm2.5").name == "pm25"
    assert resolve("011").name == "cod" and resolve("w21003").name == "nh3n"
    with pytest.raises(ValueError, match="xyz"):
        resolve("xyz")
    assert Interval.parse("Hourly") is Interval.hour
