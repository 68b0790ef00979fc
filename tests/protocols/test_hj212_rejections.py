"""Every rejection reason, with the field and value named."""

from __future__ import annotations

import pytest

from ecohub.protocols.hj212 import (
    REASONS,
    STRICT,
    Dialect,
    HJ212Error,
    decode,
    decode_segment,
    frame_segment,
    modbus_crc,
)

MN = "010000A8900016F000169DC0"
GOOD_SEG = f"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN={MN};Flag=5;CP=&&RtdInterval=30&&"


def seg(cp: str = "DataTime=20210107140000;a21026-Rtd=1.5,a21026-Flag=N", *, head: str | None = None) -> str:
    head = head or f"QN=20210107140000123;ST=22;CN=2011;PW=123456;MN={MN};Flag=5"
    return f"{head};CP=&&{cp}&&"


def reject(data, dialect: Dialect = Dialect()) -> HJ212Error:
    with pytest.raises(HJ212Error) as info:
        decode(data, dialect) if not isinstance(data, str) or data.startswith("##") else decode_segment(data, dialect)
    err = info.value
    assert err.reason in REASONS
    assert str(err)
    return err


def test_good_packet_decodes() -> None:
    p = decode(frame_segment(GOOD_SEG))
    assert p.cp["RtdInterval"] == "30" and p.ack_required and not p.is_split


@pytest.mark.parametrize(
    "data,reason,field",
    [
        (b"", "bad_header", "header"),
        (b"hello world", "bad_header", "header"),
        (b"#0101QN=1", "bad_header", "header"),
        (b"##01a1" + GOOD_SEG.encode() + b"1C80", "bad_length", "length"),
        (b"##2000" + b"x" * 2000 + b"1C80", "too_long", "length"),
        (b"##0100" + GOOD_SEG.encode() + b"1C80", "length_mismatch", "length"),
        (b"##0102" + GOOD_SEG.encode() + b"1C80", "length_mismatch", "length"),
        (b"##0101" + GOOD_SEG.encode() + b"1C81", "bad_crc", "CRC"),
        (b"##0101" + GOOD_SEG.encode() + b"1CG0", "bad_crc", "CRC"),
        (b"##0101" + GOOD_SEG.encode() + b"1C8", "length_mismatch", "length"),
        (b"##0101" + GOOD_SEG.encode() + b"1C80garbage", "length_mismatch", "length"),
    ],
)
def test_frame_rejections(data: bytes, reason: str, field: str) -> None:
    err = reject(data)
    assert (err.reason, err.field) == (reason, field)


def test_bad_crc_message_names_expected_value() -> None:
    err = reject(b"##0101" + GOOD_SEG.encode() + b"1C81")
    assert "1C81" in str(err) and "1C80" in str(err) and err.value == "1C81"


@pytest.mark.parametrize(
    "segment,reason,field",
    [
        ("QN=20160801085857223;ST=32;CN=1062;PW=100000;Flag=5;CP=&&RtdInterval=30&&", "missing_field", "MN"),
        (f"QN=20160801085857223;CN=1062;PW=100000;MN={MN};Flag=5;CP=&&&&", "missing_field", "ST"),
        (f"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN={MN};Flag=5", "missing_field", "CP"),
        (f"ST=32;CN=1062;PW=100000;MN={MN};Flag=5;CP=&&&&", "missing_field", "QN"),
        (f"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN={MN};Flag=7;CP=&&&&", "missing_field", "PNUM"),
        (f"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN={MN};Flag=7;PNUM=2;CP=&&&&", "missing_field", "PNO"),
        (seg("a21026-Rtd=1.5,a21026-Flag=N"), "missing_field", "DataTime"),
        (f"QN=20160801085857223;ST=3X2;CN=1062;PW=100000;MN={MN};Flag=5;CP=&&&&", "bad_field", "ST"),
        (f"QN=20160801085857223;ST=32;CN=10620;PW=100000;MN={MN};Flag=5;CP=&&&&", "bad_field", "CN"),
        ("QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=01;Flag=5;MN=02;CP=&&&&", "bad_field", "MN"),
        ("QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=;Flag=5;CP=&&&&", "bad_field", "MN"),
        (f"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN={MN}XYZ;Flag=5;CP=&&&&", "bad_field", "MN"),
        (f"QN=2016080108585722x;ST=32;CN=1062;PW=100000;MN={MN};Flag=5;CP=&&&&", "bad_field", "QN"),
        (f"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN={MN};Flag=7;PNUM=2;PNO=3;CP=&&&&", "bad_field", "PNO"),
        (seg("DataTime=20210107140000;a21026-Rtd=abc,a21026-Flag=N"), "bad_field", "a21026-Rtd"),
        (seg("DataTime=20210107140000;a21026-Rtd=1e5"), "bad_field", "a21026-Rtd"),
        (seg("DataTime=20210107140000;a21026-Rtd=nan"), "bad_field", "a21026-Rtd"),
        (f"QN=20160801085857223;ST=91;CN=9011;PW=123456;MN={MN};Flag=4;CP=&&QnRtn=1234&&", "bad_field", "QnRtn"),
        (f"QN=20161301085857223;ST=32;CN=1062;PW=100000;MN={MN};Flag=5;CP=&&&&", "bad_time", "QN"),
        (f"QN=20160230085857223;ST=32;CN=1062;PW=100000;MN={MN};Flag=5;CP=&&&&", "bad_time", "QN"),
        (seg("DataTime=20210230140000;a21026-Rtd=1.5"), "bad_time", "DataTime"),
        (seg("DataTime=2021013114000;a21026-Rtd=1.5"), "bad_time", "DataTime"),
        (seg("DataTime=20210107250000;a21026-Rtd=1.5"), "bad_time", "DataTime"),
        (seg("DataTime=20210107140000;a21026-SampleTime=20210107146000,a21026-Rtd=1.5"), "bad_time", "a21026-SampleTime"),
        (seg("DataTime=20210107140000;a21026-Rtd"), "bad_cp", "CP"),
        (seg("DataTime=20210107140000;;a21026-Rtd=1"), "bad_cp", "CP"),
        (seg("DataTime=20210107140000;a21026-Rtd=1=2"), "bad_cp", "a21026-Rtd"),
        (seg("DataTime=20210107140000;a21026-Rtd=1.5&x"), "bad_cp", "CP"),
        (seg("DataTime=20210107140000;a21026-Rtd=1.5,a21026-Rtd=1.6"), None, None),  # decodes; records() rejects
        (f"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN={MN};Flag=5;CP=RtdInterval=30", "bad_cp", "CP"),
        (f"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN={MN};Flag=5;CP=&&RtdInterval=30&&x", "bad_cp", "CP"),
        (f"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN={MN};Flag=256;CP=&&&&", "bad_flag", "Flag"),
        (f"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN={MN};Flag=13;CP=&&&&", "bad_flag", "Flag"),
        (f"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN={MN};Flag=x;CP=&&&&", "bad_flag", "Flag"),
        (seg("DataTime=20210107140000;a21026-Rtd=1.5,a21026-Flag=NN"), "bad_flag", "a21026-Flag"),
        (seg("DataTime=20210107140000;a21026-Rtd=1.5,a21026-EFlag=ABCDE"), "bad_flag", "a21026-EFlag"),
    ],
)
def test_segment_rejections(segment: str, reason: str | None, field: str | None) -> None:
    if reason is None:
        decode_segment(segment)
        return
    # the strict dialect rejects every row; the default (lenient) one all but the deviations it
    # accepts with a warning (tests/protocols/test_hj212_deviations.py)
    dialects = [STRICT] if segment in LENIENT_ACCEPTS else [STRICT, Dialect()]
    for dialect in dialects:
        err = reject(segment, dialect)
        assert (err.reason, err.field) == (reason, field), str(err)
        # the same through the framed path
        err2 = reject(frame_segment(segment), dialect)
        assert (err2.reason, err2.field) == (reason, field)
    if segment in LENIENT_ACCEPTS:
        assert decode_segment(segment).warnings


LENIENT_ACCEPTS = {
    f"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN={MN};Flag=7;CP=&&&&",  # split bit, no PNUM/PNO
    f"QN=20160801085857223;ST=3X2;CN=1062;PW=100000;MN={MN};Flag=5;CP=&&&&",  # 3-character ST
}


def test_unknown_code_only_in_strict_dialect() -> None:
    strict = Dialect(strict_codes=True)
    weird = f"QN=20160801085857223;ST=A7;CN=1062;PW=100000;MN={MN};Flag=5;CP=&&&&"
    decode_segment(weird)
    assert reject(weird, strict).reason == "unknown_code"
    weird_cn = f"QN=20160801085857223;ST=32;CN=4321;PW=100000;MN={MN};Flag=5;CP=&&&&"
    decode_segment(weird_cn)
    assert reject(weird_cn, strict).field == "CN"
    weird_flag = seg("DataTime=20210107140000;a21026-Rtd=1.5,a21026-Flag=Z")
    decode_segment(weird_flag)
    err = reject(weird_flag, strict)
    assert (err.reason, err.field) == ("unknown_code", "a21026-Flag")


def test_decrypt_failed_with_wrong_key() -> None:
    from ecohub.protocols.hj212 import DataArea, Packet, encode

    p = Packet(st="22", cn="2011", pw="123456", mn=MN, qn="20260101000000000", flag=9,
               cp=DataArea("DataTime=20260101000000;a21026-Rtd=1.5,a21026-Flag=N"))
    frame = encode(p, Dialect(sm4_key="0123456789abcdeffedcba9876543210"))
    err = reject(frame, Dialect(sm4_key="00112233445566778899aabbccddeeff"))
    assert err.reason == "decrypt_failed"


def test_bad_type_and_non_utf8() -> None:
    with pytest.raises(HJ212Error) as info:
        decode(12345)  # type: ignore[arg-type]
    assert info.value.reason == "bad_type"
    body = b"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=" + MN.encode() + b";Flag=5;CP=&&Info=\xff\xfe&&"
    err = reject(frame_segment(body))
    assert err.reason == "bad_field" and err.field == "data"


def test_dialect_crc_options() -> None:
    body = GOOD_SEG.encode()
    modbus_frame = b"##0101" + body + b"%04X" % modbus_crc(body)
    assert reject(modbus_frame).reason == "bad_crc"
    assert decode(modbus_frame, Dialect(crc="modbus")).cn == "1062"
    assert decode(modbus_frame, Dialect(crc="either")).cn == "1062"
    assert decode(b"##0101" + body + b"1C80", Dialect(crc="either")).cn == "1062"
    assert decode(b"##0101" + body + b"0000", Dialect(crc="unchecked")).cn == "1062"
    assert reject(b"##0101" + body + b"zzzz", Dialect(crc="unchecked")).reason == "bad_crc"
    short = b"##0094" + b"QN=20160801085857223;ST=32;CN=9011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&QnRtn=1&&" + b"2a80"
    assert decode(short).cn == "9011"


def test_short_crc_dialect() -> None:
    from ecohub.protocols.hj212 import hj212_crc

    body = b"QN=20160801085857223;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&"
    crc = hj212_crc(body)
    text = b"%X" % crc
    if len(text) == 4:  # find a body whose CRC has a leading zero nibble
        for i in range(1000):
            body2 = body.replace(b"20160801085857223", b"2016080108585%04d" % i)
            if hj212_crc(body2) < 0x1000:
                body, text = body2, b"%X" % hj212_crc(body2)
                break
    frame = b"##%04d" % len(body) + body + text + b"\r\n"
    err = reject(frame, STRICT)
    assert err.reason == "length_mismatch" and "short_crc" in str(err)
    assert decode(frame, Dialect(short_crc=True)).cn == "9014"
    lenient = decode(frame)  # the default accepts it when the short CRC verifies, with a warning
    assert [w.code for w in lenient.warnings] == ["crc_short"]
    wrong = frame.replace(text + b"\r\n", b"%X" % ((int(text, 16) + 1) % 0x1000) + b"\r\n")
    assert reject(wrong).reason == "length_mismatch"  # a short CRC that does not verify is no CRC


def test_length_counts_bytes_not_chars() -> None:
    body = f"QN=20160801085857223;ST=32;CN=3020;PW=123456;MN={MN};Flag=5;CP=&&PolId=w01018;i12001-Info=正常&&"
    raw = body.encode()
    assert len(raw) != len(body)
    p = decode(frame_segment(body))
    assert p.cp["i12001-Info"] == "正常"
    as_chars = b"##%04d" % len(body) + raw + b"%04X" % __import__("ecohub.protocols.hj212", fromlist=["x"]).hj212_crc(raw)
    assert reject(as_chars).reason == "length_mismatch"
    assert decode(as_chars, Dialect(length_unit="chars")).cp["i12001-Info"] == "正常"


def test_version_override_and_require_qn() -> None:
    surface_water_2021 = "QN=20210301111100112;ST=21;CN=2011;PW=123456;MN=ZLDSZ20210127;Flag=8;CP=&&DataTime=20210301111100;w01001-Rtd=8.33,w01001-Flag=N&&"
    assert decode_segment(surface_water_2021).version == "2025"  # version bits 000010
    assert decode_segment(surface_water_2021, Dialect(version="2017")).version == "2017"
    no_qn = "ST=22;CN=2011;PW=123456;MN=LB4200001;CP=&&DataTime=20210107140000;a21026-Rtd=1&&"
    assert decode_segment(no_qn).version == "2005"
    assert reject(no_qn, Dialect(require_qn=True)).reason == "missing_field"


def test_error_is_valueerror_and_picklable() -> None:
    import pickle

    err = reject(b"##0101" + GOOD_SEG.encode() + b"1C81")
    assert isinstance(err, ValueError)
    again = pickle.loads(pickle.dumps(err))
    assert (again.reason, again.field, again.value, str(again)) == (err.reason, err.field, err.value, str(err))
    assert err.to_dict()["reason"] == "bad_crc"
