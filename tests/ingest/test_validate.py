"""The checks shared by every ingest channel, and the JSON record format of MQTT and HTTP."""

from __future__ import annotations

import math
import time

import pytest

from ecohub.domain.errors import InputError
from ecohub.ingest.mqtt import parse_broker_url, route
from ecohub.ingest.validate import RecordValidator, SeriesBuffer, json_safe, records_of
from ecohub.store import registry as R
from ecohub.store.writer import ObservationWriter


@pytest.fixture
def check(sqlite_store):
    with sqlite_store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("1029A", "air_station", "职工医院", 114.5, 38.0, "130100"))
        R.add_enterprise(c, "91350100M000100Y43", "示例电厂", "130100")
        R.upsert_site(c, R.SiteInput("GAS1", "gas_outlet", "1#排口", 114.7, 38.1, "130100", "91350100M000100Y43"))
    return RecordValidator(sqlite_store, "hour")


def field_of(fn, *a, **kw) -> str:
    with pytest.raises(InputError) as e:
        fn(*a, **kw)
    return e.value.field


def test_key_caches_and_picks_flue_gas(check):
    k = check.key("1029A", "a21026")
    assert k == check.key("1029A", "so2") == check.key("1029A", "so2", "hour")
    assert k[2] == "hour" and check.key("1029A", "so2", "day")[2] == "day"
    assert check.key("GAS1", "a21026")[1] == check.params["so2_gas"]
    assert field_of(check.key, "1029A", "xyz") == "parameter"
    assert field_of(check.key, "NOPE", "pm25") == "site"
    assert field_of(check.key, "", "pm25") == "site"


def test_site_registered_later_is_found(check, sqlite_store):
    with pytest.raises(InputError, match="unknown site"):
        check.key("LATE1", "pm25")
    with sqlite_store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("LATE1", "air_station", "新站", 114.5, 38.0, "130100"))
    check._unknown.clear()  # the negative cache would otherwise hold it for 30 s
    assert check.key("LATE1", "pm25")[0] > 0


def test_epoch_value_flag(check):
    assert check.epoch("2024-05-01T13:00:00+08:00") == check.epoch("2024-05-01 05:00Z") == 1714539600
    assert field_of(check.epoch, "nope") == "time"
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    assert check.epoch(soon) > 0
    with pytest.raises(InputError, match="future"):
        check.epoch(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2 * 86400)))
    assert check.value(" 1.5 ", None) == 1.5 and check.value("", "D") is None
    assert field_of(check.value, "", None) == "value"
    assert check.number(3, None) == 3.0 and check.number(None, "M") is None
    for bad in (None, True, "3", [3], math.nan, math.inf, 10 ** 400):
        assert field_of(check.number, bad, None) == "value"
    assert check.flag(" N ") == "N" and check.flag("") is None and check.flag(None) is None
    for bad in ("TOOLONG", "N-1", 1):
        assert field_of(check.flag, bad) == "flag"


def test_json_record(check):
    key, t, v, flag = check.json_record({"site": "1029A", "parameter": "pm25", "time": "2024-05-01 13:00",
                                         "value": 35, "flag": "N"})
    assert (t, v, flag) == (1714539600, 35.0, "N") and key[2] == "hour"
    # the transport's site (MQTT topic) and interval
    key2, *_ = check.json_record({"parameter": "pm25", "time": "2024-05-01 13:00", "value": 1}, site="1029A",
                                 interval="minute")
    assert key2[2] == "minute"
    assert check.json_record({"parameter": "pm25", "time": "2024-05-01 13:00", "value": 1, "interval": "d"},
                             site="1029A", interval="minute")[0][2] == "day"
    assert field_of(check.json_record, {"site": "1030A", "parameter": "pm25", "time": "2024-05-01", "value": 1},
                    site="1029A") == "site"
    assert field_of(check.json_record, ["x"]) == "record"
    assert field_of(check.json_record, {"site": 5, "parameter": "pm25", "time": "2024-05-01", "value": 1}) == "site"
    assert field_of(check.json_record, {"site": "1029A", "time": "2024-05-01", "value": 1}) == "parameter"
    assert field_of(check.json_record, {"site": "1029A", "parameter": "pm25", "value": 1}) == "time"
    assert field_of(check.json_record, {"site": "1029A", "parameter": "pm25", "time": "2024-05-01"}) == "value"


def test_records_of():
    assert records_of([1, 2]) == [1, 2]
    assert records_of({"observations": []}) == []
    for bad in ({"x": 1}, {"observations": 3}, 5, "x", None):
        with pytest.raises(InputError):
            records_of(bad)


def test_json_safe():
    assert json_safe(math.nan) == "nan" and json_safe(1.5) == 1.5 and json_safe(None) is None
    assert json_safe(True) is True and isinstance(json_safe(10 ** 400), str)
    assert len(json_safe("x" * 1000)) == 200 and json_safe({"a": 1}) == '{"a":1}'


def test_series_buffer_creates_series_in_bulk(check, sqlite_store):
    w = ObservationWriter(sqlite_store, "mqtt")
    buf = SeriesBuffer(sqlite_store, w)
    k = check.key("1029A", "pm25")
    buf.add(k, 1714539600, 1.0, None)
    buf.add(k, 1714543200, 2.0, None)
    assert buf.flush().imported == 2
    buf.add(k, 1714546800, 3.0, None)  # series now known: straight to the writer
    assert w.pending() == 1 and buf.flush().imported == 1


def test_topic_scheme():
    assert route("ecohub/v1/obs/1029A") == ("1029A", None)
    assert route("ecohub/v1/obs/1029A/hour") == ("1029A", "hour")
    assert route("ecohub/v1/batch") == (None, None)
    assert route("ecohub/v1/batch/d") == (None, "day")
    assert route("he/ecohub/v1/obs/X1", "he/ecohub/v1") == ("X1", None)
    for bad in ("ecohub/v1/obs", "ecohub/v1/obs/", "ecohub/v1/obs/a/b/c", "ecohub/v1/obs/1029A/weekly",
                "ecohub/v2/batch", "ecohub/v1/status", "other"):
        with pytest.raises(InputError):
            route(bad)


def test_broker_url():
    b = parse_broker_url("mqtt://127.0.0.1:1883")
    assert (b.host, b.port, b.tls) == ("127.0.0.1", 1883, False)
    b = parse_broker_url("mqtts://u%40x:p%3Aw@broker.example")
    assert (b.port, b.tls, b.username, b.password) == (8883, True, "u@x", "p:w")
    for bad in ("http://x", "mqtt://", "mqtt://h:99999"):
        with pytest.raises(InputError):
            parse_broker_url(bad)
