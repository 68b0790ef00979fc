"""Deviations real devices make: the default (lenient) dialect accepts what is unambiguous with a
named warning, ``STRICT`` rejects it with the reason the standard form gives; genuinely ambiguous
input stays rejected by both.  Sources of each deviation: docs/hj212.md "Deviations"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecohub.protocols.hj212 import (
    STANDARD,
    STRICT,
    WARNINGS,
    DataArea,
    Dialect,
    HJ212Error,
    Packet,
    Reassembler,
    StreamFramer,
    WarningTally,
    answer_for,
    decode,
    decode_segment,
    dialect_named,
    encode,
    frame_segment,
    hj212_crc,
    records,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hj212"
MN = "010000A8900016F000169DC0"


def seg(head: str = f"QN=20160801085857223;ST=32;CN=2011;PW=123456;MN={MN};Flag=5",
        cp: str = "DataTime=20160801085800;w01018-Rtd=12.5,w01018-Flag=N") -> str:
    return f"{head};CP=&&{cp}&&"


def codes(p: Packet) -> list[str]:
    return [w.code for w in p.warnings]


def strict_reject(data: bytes | str, dialect: Dialect = STRICT) -> HJ212Error:
    with pytest.raises(HJ212Error) as info:
        decode(data, dialect) if isinstance(data, bytes) else decode_segment(data, dialect)
    return info.value


# --- the split bit without PNUM/PNO (Flag=3/7/11) -------------------------------------------------


@pytest.mark.parametrize("flag,version", [(3, "2005"), (7, "2017"), (11, "2025")])
def test_split_bit_without_parts_is_a_whole_packet(flag: int, version: str) -> None:
    frame = frame_segment(seg(f"QN=20160801085857223;ST=32;CN=2011;PW=123456;MN={MN};Flag={flag}"))
    p = decode(frame)
    assert codes(p) == ["split_flag_without_parts"]
    w = p.warnings[0]
    assert (w.field, w.value) == ("PNUM", None) and f"Flag={flag}" in w.message
    assert p.version == version and p.pnum is None and not p.is_split and p.ack_required
    assert [r.parameter for r in records(p)] == ["cod"]  # its data are kept
    assert Reassembler().add(p) is p  # a whole message, not a part
    ack = answer_for(p)  # answered as it asked: 9014 with its QN
    assert ack is not None and ack.cn == "9014" and ack.qn == p.qn
    err = strict_reject(frame)
    assert (err.reason, err.field) == ("missing_field", "PNUM")


def test_real_packets_with_split_bit_and_modbus_crc() -> None:
    rows = [json.loads(x) for x in (FIXTURES / "real_deviations.jsonl").read_text().splitlines() if x.strip()]
    assert len(rows) == 3
    for row in rows:
        raw = row["packet"].encode()
        assert decode(raw, Dialect(crc="either")).flag == 3
        p = decode(raw, dialect_named("lenient", crc=row["crc"]))
        assert codes(p) == row["deviations"] and p.ack_required
        err = strict_reject(raw, dialect_named("strict", crc=row["crc"]))
        assert err.reason == "missing_field"
        assert strict_reject(raw, STANDARD).reason == "bad_crc"  # MODBUS CRC: a per-device setting


def test_parts_without_split_bit_are_parts() -> None:
    p = decode(frame_segment(seg(f"QN=20160801085857223;ST=32;CN=2011;PW=123456;MN={MN};Flag=5;PNUM=2;PNO=1")))
    assert codes(p) == ["parts_without_split_flag"] and p.is_split
    assert decode(frame_segment(seg(f"QN=20160801085857223;ST=32;CN=2011;PW=123456;MN={MN};Flag=5;PNUM=2;PNO=1")),
                  STRICT).pnum == 2  # unambiguous: accepted by both, with the warning


# --- system code ------------------------------------------------------------------------------------


@pytest.mark.parametrize("st", ["101", "1", "A7B"])
def test_odd_length_system_code_is_kept(st: str) -> None:
    frame = frame_segment(seg(f"QN=20160801085857223;ST={st};CN=2011;PW=123456;MN={MN};Flag=5"))
    p = decode(frame)
    assert p.st == st and codes(p) == ["st_length"] and p.warnings[0].value == st
    assert records(p)[0].value == 12.5
    err = strict_reject(frame)
    assert (err.reason, err.field) == ("bad_field", "ST")
    assert decode(encode(p)).st == st  # the simulator can send it back


@pytest.mark.parametrize("st", ["", "123456", "1-2", "ST"])
def test_system_code_that_cannot_be_read_stays_rejected(st: str) -> None:
    frame = frame_segment(seg(f"QN=20160801085857223;ST={st};CN=2011;PW=123456;MN={MN};Flag=5"))
    for dialect in (STANDARD, STRICT):
        if st == "ST":  # two characters: a (bad) code, kept with a warning / unknown_code when strict_codes
            assert codes(decode(frame, dialect)) == ["st_unknown"]
            assert strict_reject(frame, Dialect(strict_codes=True)).reason == "unknown_code"
            continue
        assert strict_reject(frame, dialect).reason == "bad_field"


def test_unknown_codes_are_warned() -> None:
    p = decode(frame_segment(seg(f"QN=20160801085857223;ST=77;CN=4321;PW=123456;MN={MN};Flag=5")))
    assert codes(p) == ["st_unknown", "cn_unknown"]
    assert strict_reject(frame_segment(seg(f"QN=20160801085857223;ST=77;CN=2011;PW=123456;MN={MN};Flag=5")),
                         Dialect(strict_codes=True)).field == "ST"


# --- values, CRC and trailer the Java parser tolerates ----------------------------------------------


def test_datatime_with_milliseconds_issue5() -> None:
    # xiaoyao9184/hj-t212-parser#5: DataTime=20160824003817000 (yyyyMMddHHmmssSSS) in its own README
    p = decode_segment(seg(cp="DataTime=20160824003817000;w01018-Rtd=1,w01018-SampleTime=20160824003800123"))
    assert codes(p) == ["time_ms"] and p.warnings[0].field == "DataTime"
    assert records(p)[0].time.second == 17
    assert codes(decode_segment(seg(cp="DataTime=20160824003817000;w01018-Rtd=1"), STRICT)) == ["time_ms"]


def test_qn_not_17_digits_is_warned() -> None:
    p = decode_segment(seg(f"QN=1617760825759;ST=32;CN=2011;PW=123456;MN={MN};Flag=5"))
    assert codes(p) == ["qn_format"] and p.warnings[0].value == "1617760825759"


def test_lowercase_crc_is_warned() -> None:
    frame = frame_segment(seg())
    lower = frame[:-6] + frame[-6:-2].lower() + b"\r\n"
    if lower == frame:  # a CRC of digits only: force a letter by changing the QN
        frame = frame_segment(seg(f"QN=20160801085857224;ST=32;CN=2011;PW=123456;MN={MN};Flag=5"))
        lower = frame[:-6] + frame[-6:-2].lower() + b"\r\n"
    assert codes(decode(frame)) == []
    assert codes(decode(lower)) == ["crc_lowercase"] and codes(decode(lower, STRICT)) == ["crc_lowercase"]


def test_crc_is_checked_unless_the_device_profile_says_otherwise() -> None:
    # hj-t212-parser VerifyFeature.DATA_CRC is off by default; a wrong CRC is a corrupted packet here
    frame = frame_segment(seg())
    bad = frame[:-6] + (b"0000" if frame[-6:-2] != b"0000" else b"1111") + b"\r\n"
    assert strict_reject(bad, STANDARD).reason == "bad_crc"
    assert decode(bad, Dialect(crc="unchecked")).cp["w01018-Rtd"] == "12.5"


@pytest.mark.parametrize("trailer", [b"", b"\n", b"\r\n"])
def test_trailer_is_optional(trailer: bytes) -> None:
    # hj-t212-parser ParserFeature.FOOTER_CONSTANT is off by default
    frame = frame_segment(seg())[:-2] + trailer
    assert codes(decode(frame)) == [] and codes(decode(frame, STRICT)) == []


@pytest.mark.parametrize(
    "cp,field",
    [
        ("DataTime=20160801085800;w01018-Rtd", "CP"),  # SegmentParserFeature.ALLOW_ISOLATED_KEY
        ("DataTime=20160801085800;w01018&-Rtd=1", "CP"),  # IGNORE_INVAILD_SYMBOL
        ("DataTime=20160801085800;w01018-Rtd=1&&x=1", "CP"),  # ALLOW_KEY_NOT_CLOSED / nested &&
    ],
)
def test_ambiguous_cp_stays_rejected(cp: str, field: str) -> None:
    for dialect in (STANDARD, STRICT):
        err = strict_reject(seg(cp=cp), dialect)
        assert err.reason == "bad_cp" and err.field == field


def test_unknown_version_bits_stay_rejected() -> None:
    # hj-t212-parser reads only V0 (2017 or else 2005); which edition Flag=13 means is not knowable
    for dialect in (STANDARD, STRICT):
        err = strict_reject(seg(f"QN=20160801085857223;ST=32;CN=2011;PW=123456;MN={MN};Flag=13"), dialect)
        assert (err.reason, err.field) == ("bad_flag", "Flag")
    assert decode_segment(seg(f"QN=20160801085857223;ST=32;CN=2011;PW=123456;MN={MN};Flag=13"),
                          Dialect(version="2017")).version == "2017"


def test_short_crc_through_the_stream_framer() -> None:
    body = f"QN=20160801085857223;ST=91;CN=9014;PW=123456;MN={MN};Flag=4;CP=&&&&".encode()
    for i in range(2000):
        b = body.replace(b"20160801085857223", b"2016080108585%04d" % i)
        if hj212_crc(b) < 0x1000:
            body = b
            break
    frame = b"##%04d" % len(body) + body + b"%X" % hj212_crc(body) + b"\r\n"
    events = StreamFramer().feed(frame + frame_segment(seg()))
    frames = [e.data for e in events if e.is_frame]
    assert len(frames) == 2
    assert codes(decode(frames[0])) == ["crc_short"]
    assert strict_reject(frames[0]).reason == "length_mismatch"


def test_every_warning_code_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "hj212.md").read_text(encoding="utf-8")
    for code in WARNINGS:
        assert f"`{code}`" in doc, code


def test_warnings_in_to_dict_and_cli(tmp_path: Path) -> None:
    from ecohub.cli.hj212_cmds import hj212_app

    frame = frame_segment(seg(f"QN=20160801085857223;ST=101;CN=2011;PW=123456;MN={MN};Flag=7"))
    d = decode(frame).to_dict()
    assert [w["code"] for w in d["warnings"]] == ["st_length", "split_flag_without_parts"]  # type: ignore[index]
    f = tmp_path / "p.txt"
    f.write_bytes(frame + frame_segment(seg()))
    out = CliRunner().invoke(hj212_app(), ["parse", str(f), "--json"])
    assert out.exit_code == 0, out.output
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    assert [[w["code"] for w in r["warnings"]] for r in rows] == [["st_length", "split_flag_without_parts"], []]
    assert rows[0]["warnings"][0] == {"code": "st_length", "field": "ST", "value": "101",
                                      "message": "ST=101 is not a 2-character system code: kept as given"}
    strict = CliRunner().invoke(hj212_app(), ["parse", str(f), "--json", "--strict"])
    rows = [json.loads(x) for x in strict.stdout.splitlines()]
    assert rows[0]["reason"] == "bad_field" and rows[1]["warnings"] == []
    text = CliRunner().invoke(hj212_app(), ["parse", str(f)])
    assert "WARNING split_flag_without_parts" in text.stdout


def test_dialect_profiles() -> None:
    assert dialect_named(None) is STANDARD and dialect_named("strict") is STRICT
    d = dialect_named("strict", crc="modbus")
    assert not d.lenient and d.crc == "modbus"
    with pytest.raises(ValueError):
        dialect_named("sloppy")


def test_encoder_round_trips_deviant_packets() -> None:
    """The simulator can send each deviation (encode validates with the lenient dialect)."""
    p = Packet(st="101", cn="2011", pw="123456", mn=MN, qn="20160801085857223", flag=7,
               cp=DataArea("DataTime=20160801085800;w01018-Rtd=1.5"))
    back = decode(encode(p))
    assert back == p and codes(back) == ["st_length", "split_flag_without_parts"]
    with pytest.raises(HJ212Error):
        encode(p, STRICT)


def test_warning_tally_per_device() -> None:
    tally = WarningTally(max_devices=2)
    odd = decode(frame_segment(seg(f"QN=20160801085857223;ST=101;CN=2011;PW=123456;MN={MN};Flag=7")))
    for t in (1.0, 2.0, 3.0):
        tally.add(MN, odd.warnings, when=t)
    tally.add(MN, decode(frame_segment(seg())).warnings, when=4.0)  # a clean packet changes nothing
    rows = tally.for_device(MN)
    assert [(r["code"], r["count"], r["first_seen"], r["last_seen"]) for r in rows] == [
        ("split_flag_without_parts", 3, 1.0, 3.0), ("st_length", 3, 1.0, 3.0)]
    assert rows[1]["value"] == "101"
    tally.add("B", odd.warnings, when=5.0)
    tally.add("C", odd.warnings, when=6.0)  # bounded: the least recently warned device is forgotten
    assert set(tally.snapshot()) == {"B", "C"} and tally.for_device(MN) == []
