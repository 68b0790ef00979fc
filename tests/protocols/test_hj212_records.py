"""records(): flat values with canonical parameters and UTC times (HJ 212 times are UTC+8)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ecohub.protocols.hj212 import HJ212Error, decode, decode_segment, frame_segment, records
from ecohub.protocols.hj212.codes import OLD_CODES, PARAMETERS, code_2017, factor, parameter_for


def test_realtime_capture_records(device_packets: list[dict]) -> None:
    raw = next(d["packet"] for d in device_packets if "DataTime=20210107140300" in d["packet"])
    recs = records(decode(raw))
    by = {r.parameter: r for r in recs if r.parameter}
    assert by["so2"].value == 1.961 and by["so2"].code == "a21026" and by["so2"].kind == "Rtd"
    assert by["o3"].value == 8.276 and by["pm25"].value == 24.82 and by["pm10"].value == 123.97
    assert by["wind_dir"].value == 99 and by["pressure"].value == 1032.5
    r = by["so2"]
    assert r.time == datetime(2021, 1, 7, 6, 3, 0, tzinfo=UTC)  # 14:03 Beijing
    assert r.time.tzinfo is UTC
    assert r.interval == "rt" and r.flag == "N" and r.mn == "LB4200001"
    unknown = [x for x in recs if x.parameter is None]
    assert {x.code for x in unknown} >= {"a99999", "a34006"}


def test_hourly_record_kinds_and_interval() -> None:
    seg = (
        "QN=20260101003000000;ST=31;CN=2061;PW=123456;MN=X1;Flag=5;CP=&&DataTime=20260101000000;"
        "a21026-Min=1.1,a21026-Avg=2.2,a21026-Max=3.3,a21026-Cou=0.5,a21026-ZsAvg=2.9,a21026-Flag=N;"
        "a19001-Avg=9.1,a19001-Flag=N&&"
    )
    recs = records(decode(frame_segment(seg)))
    kinds = {(r.parameter, r.kind): r.value for r in recs}
    assert kinds == {("so2", "Min"): 1.1, ("so2", "Avg"): 2.2, ("so2", "Max"): 3.3, ("so2", "Cou"): 0.5,
                     ("so2", "ZsAvg"): 2.9, ("o2", "Avg"): 9.1}
    assert {r.interval for r in recs} == {"hour"}
    assert recs[0].time == datetime(2025, 12, 31, 16, 0, tzinfo=UTC)  # New Year 00:00 Beijing


@pytest.mark.parametrize("cn,interval", [("2011", "rt"), ("2051", "min"), ("2061", "hour"), ("2031", "day")])
def test_intervals(cn: str, interval: str) -> None:
    seg = f"QN=20260101003000000;ST=32;CN={cn};PW=1;MN=X;Flag=4;CP=&&DataTime=20260101000000;w01018-Avg=5&&"
    assert records(decode_segment(seg))[0].interval == interval


def test_2005_codes_mapped() -> None:
    raw = "##0136ST=32;CN=2011;PW=000000;MN=LD130133000015;CP=&&DataTime=20160824003817;011-Rtd=231.0,011-Flag=N;B01-Rtd=36.91;060-Rtd=1.803,060-Flag=N&&1dc0"
    recs = {r.code: r for r in records(decode(raw))}
    assert (recs["011"].code_2017, recs["011"].parameter) == ("w01018", "cod")
    assert (recs["B01"].code_2017, recs["B01"].parameter, recs["B01"].flag) == ("w00000", "flow", None)
    assert (recs["060"].code_2017, recs["060"].parameter) == ("w21003", "nh3n")
    assert recs["011"].time == datetime(2016, 8, 23, 16, 38, 17, tzinfo=UTC)


def test_sample_time_and_eflag() -> None:
    seg = ("QN=20231008123340461;ST=22;CN=2011;PW=123456;MN=X;Flag=5;CP=&&DataTime=20231008123340;"
           "w01008-SampleTime=20231008123000,w01008-Rtd=123.456,w01008-EFlag=A12&&")
    (r,) = records(decode_segment(seg))
    assert r.sample_time == datetime(2023, 10, 8, 4, 30, tzinfo=UTC)
    assert r.eflag == "A12" and r.value == 123.456


def test_no_records_for_commands_and_requests() -> None:
    assert records(decode_segment("QN=20240601085857223;ST=32;CN=2061;PW=1;MN=X;Flag=9;CP=&&BeginTime=20240601080000;EndTime=20240601090000&&")) == []
    assert records(decode_segment("QN=20240601085857223;ST=91;CN=9014;PW=1;MN=X;Flag=4;CP=&&&&")) == []
    assert records(decode_segment("QN=20240601085857223;ST=32;CN=2011;PW=1;MN=X;Flag=9;CP=&&&&")) == []


def test_duplicate_values_rejected_by_records() -> None:
    p = decode_segment("QN=20240601085857223;ST=32;CN=2011;PW=1;MN=X;Flag=5;CP=&&DataTime=20240601080000;a21026-Rtd=1,a21026-Rtd=2&&")
    with pytest.raises(HJ212Error) as info:
        records(p)
    assert info.value.reason == "bad_cp" and info.value.field == "a21026-Rtd"


def test_electricity_vendor_kinds(device_packets: list[dict]) -> None:
    raw = next(d["packet"] for d in device_packets if "100000-Ia" in d["packet"])
    recs = records(decode(raw))
    assert {"Ia", "Ua", "Pt"} <= {r.kind for r in recs}
    assert all(r.parameter is None for r in recs)


def test_code_tables() -> None:
    required = {"pm25", "pm10", "so2", "no2", "co", "o3", "nox", "no", "o2", "flow", "temp", "humidity", "pressure",
                "wind_speed", "wind_dir", "ph", "do", "codmn", "cod", "bod5", "nh3n", "tp", "tn", "turbidity",
                "conductivity", "water_temp", "ss", "cu", "zn", "f", "se", "as", "hg", "cd", "cr6", "pb", "cn",
                "phenol", "oil", "las", "sulfide", "fecal_coliform", "nmhc", "smoke", "noise_leq"}
    assert required <= set(PARAMETERS.values())
    assert parameter_for("a34013") == "smoke" and parameter_for("01") == "smoke"
    assert code_2017("S01") == "a19001" and OLD_CODES["101"] == "w21011"
    f = factor("011")
    assert f is not None and f.code == "w01018" and f.unit == "mg/L" and f.amount_unit == "kg"
    assert factor("w20117").unit == "µg/L"  # type: ignore[union-attr]
    assert parameter_for("zz9999") is None
