"""HJ 212-2025 SM4 encryption of the CP (mode/padding/text form UNCONFIRMED; see docs/hj212.md)."""

from __future__ import annotations

import pytest

from ecohub.protocols.hj212 import (
    DataArea,
    Dialect,
    HJ212Error,
    Packet,
    decode,
    decrypt_cp,
    encode,
    encrypt_cp,
    records,
)

KEY_HEX = "0123456789abcdeffedcba9876543210"


@pytest.mark.parametrize("encoding", ["hex", "base64"])
@pytest.mark.parametrize("padding", ["pkcs7", "zero"])
@pytest.mark.parametrize("mode", ["ecb", "cbc"])
@pytest.mark.parametrize("key", [KEY_HEX, "0000000000000000", bytes(range(16))])
def test_cp_roundtrip(encoding: str, padding: str, mode: str, key) -> None:
    iv = bytes(16) if mode == "cbc" else None
    text = "DataTime=20260101120000;a21026-Rtd=12.5,a21026-Flag=N;i12001-Info=正常"
    c = encrypt_cp(text, key, mode=mode, iv=iv, padding=padding, encoding=encoding)
    assert "=" not in c.rstrip("=") and ";" not in c
    assert decrypt_cp(c, key, mode=mode, iv=iv) == text  # text form and padding detected


def test_nopadding_needs_whole_blocks() -> None:
    assert decrypt_cp(encrypt_cp("PolId=w01018;x=1", KEY_HEX, padding="none"), KEY_HEX) == "PolId=w01018;x=1"
    with pytest.raises(HJ212Error):
        encrypt_cp("PolId=w01018", KEY_HEX, padding="none")


def _packet(cn: str = "2011") -> Packet:
    return Packet(st="22", cn=cn, pw="123456", mn="010000A8900016F000169DC0", qn="20260101120000123", flag=9,
                  cp=DataArea("DataTime=20260101120000;a21026-Rtd=12.5,a21026-Flag=N;a34004-Rtd=35,a34004-Flag=N"))


def test_2025_packet_roundtrip() -> None:
    d = Dialect(sm4_key=KEY_HEX)
    p = _packet()
    frame = encode(p, d)
    assert b"a21026" not in frame  # CN 2011 of HJ 212-2025 is encrypted
    back = decode(frame, d)
    assert back == p and back.version == "2025"
    recs = records(back)
    assert {r.parameter for r in recs} == {"so2", "pm25"}
    hidden = decode(frame)  # no key: still a valid frame, CP kept as ciphertext
    assert hidden.encrypted and hidden.to_dict()["encrypted"] is True
    with pytest.raises(HJ212Error) as info:
        records(hidden)
    assert info.value.reason == "decrypt_failed"


def test_answers_and_non_data_commands_stay_plain() -> None:
    d = Dialect(sm4_key=KEY_HEX)
    p = _packet(cn="9014")
    p = Packet(st="91", cn="9014", pw=p.pw, mn=p.mn, qn=p.qn, flag=8)
    assert b"CP=&&&&" in encode(p, d)
    q = Packet(st="22", cn="1062", pw="123456", mn="X1", qn="20260101120000123", flag=9, cp=DataArea("RtdInterval=30"))
    assert b"RtdInterval=30" in encode(q, d)
    # a 2017 packet is never encrypted
    r = Packet(st="22", cn="2011", pw="1", mn="M", qn="20260101120000123", flag=5, cp=_packet().cp)
    assert b"a21026-Rtd" in encode(r, d)


def test_garbage_ciphertext() -> None:
    d = Dialect(sm4_key=KEY_HEX)
    for body in ("ABCDEF", "00" * 16, "QUJD"):
        seg = f"QN=20260101120000123;ST=22;CN=2011;PW=123456;MN=X;Flag=9;CP=&&{body}&&"
        with pytest.raises(HJ212Error) as info:
            from ecohub.protocols.hj212 import decode_segment

            decode_segment(seg, d)
        assert info.value.reason == "decrypt_failed"


def test_bad_keys() -> None:
    for key in ("short", b"\x00" * 15, "zz" * 16):
        with pytest.raises(HJ212Error):
            encrypt_cp("a=1", key)
