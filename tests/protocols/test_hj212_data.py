"""Real and published packets: device captures, spec/command examples, a 4,565-packet session."""

from __future__ import annotations

from collections import Counter

import pytest

from ecohub.protocols.hj212 import HJ212Error, decode, decode_segment, encode, records


def test_device_packets_93_of_95(device_packets: list[dict]) -> None:
    framed = [d for d in device_packets if d["framed"]]
    assert len(framed) == 95
    ok, bad = [], []
    for d in framed:
        try:
            ok.append((d, decode(d["packet"])))
        except HJ212Error as exc:
            bad.append((d, exc))
    assert len(ok) == 93
    assert len(bad) == 2
    for d, exc in bad:
        assert exc.reason == "bad_crc" and exc.field == "CRC"
        assert d["crc_ok"] is False
    assert all(d["crc_ok"] for d, _ in ok)
    lb = [p for _, p in ok if p.mn == "LB4200001"]
    assert len(lb) == 86
    assert all(p.version == "2005" and p.qn is None and p.flag is None for p in lb)  # 2005 headers
    assert all(p.cp.factors.get("a21026") for p in lb)  # ... with 2017 codes
    # header fields agree with the data set's own parse
    for d, p in ok:
        assert (p.qn, p.st, p.cn, p.pw, p.mn) == (d["QN"], d["ST"], d["CN"], d["PW"], d["MN"])
        assert p.flag == (None if d["Flag"] is None else int(d["Flag"]))


def test_device_packets_reencode_byte_exact(device_packets: list[dict]) -> None:
    """encode(decode(x)) == x for every accepted packet (uppercase CRC emitted)."""
    for d in device_packets:
        if not d["framed"] or not d["crc_ok"]:
            continue
        raw = d["packet"]
        again = encode(decode(raw)).decode()
        assert again[:-6] == raw[:-4]
        assert again[-6:-2] == raw[-4:].upper()
        assert again.endswith("\r\n")


def test_device_packets_records(device_packets: list[dict]) -> None:
    n = 0
    for d in device_packets:
        if d["framed"] and d["crc_ok"]:
            n += len(records(decode(d["packet"])))
    assert n > 1000


def test_every_spec_and_command_example_decodes(spec_examples: list[dict]) -> None:
    assert len(spec_examples) == 48
    cns = Counter()
    for d in spec_examples:
        p = decode(d["packet"]) if d["framed"] else decode_segment(d["packet"])
        assert p.cn == d["CN"] and p.st == d["ST"] and p.mn == d["MN"]
        assert p.flag == int(d["Flag"])
        cns[p.cn] += 1
    assert len(cns) >= 30


def test_spec_examples_crc_of_unframed_segments(spec_examples: list[dict]) -> None:
    from ecohub.protocols.hj212 import crc_hex, frame_segment

    for d in spec_examples:
        if not d["framed"]:
            seg = d["packet"].encode()
            assert crc_hex(seg) == d["crc_computed_for_segment"]
            assert decode(frame_segment(seg)).cn == d["CN"]


def test_simulator_session_all_decode(simulator_session: list[dict]) -> None:
    assert len(simulator_session) == 4565
    cns = Counter()
    n_records = 0
    for d in simulator_session:
        p = decode(d["packet"])
        cns[p.cn] += 1
        n_records += len(records(p))
    assert cns["2011"] == 2210 and cns["9014"] == 2118
    assert n_records > 10000


@pytest.mark.parametrize("qn", ["1617936069734", "20160801085857223"])
def test_vendor_qn_forms_accepted(qn: str) -> None:
    from ecohub.protocols.hj212 import frame_segment

    p = decode(frame_segment(f"QN={qn};ST=21;CN=9011;PW=123456;MN=DXCBZ000000005;Flag=5;CP=&&QnRtn=1&&"))
    assert p.qn == qn
    assert (p.qn_time is None) == (len(qn) != 17)
