"""Split packets (Flag.D = 1, PNUM/PNO) reassembled, bounded and timed out."""

from __future__ import annotations

import pytest

from ecohub.protocols.hj212 import DataArea, HJ212Error, Packet, Reassembler, decode, encode, new_qn, records


def part(pno: int, pnum: int = 3, mn: str = "M1", dt: str = "20260101000000", qn: str | None = None) -> Packet:
    return decode(encode(Packet(st="31", cn="2061", pw="1", mn=mn, qn=qn or new_qn(), flag=7, pnum=pnum, pno=pno,
                                cp=DataArea(f"DataTime={dt};a2102{pno}-Avg={pno}.5,a2102{pno}-Flag=N"))))


def test_in_and_out_of_order() -> None:
    for order in ([1, 2, 3], [3, 1, 2], [2, 3, 1]):
        r = Reassembler()
        parts = {i: part(i) for i in (1, 2, 3)}
        outs = [r.add(parts[i]) for i in order]
        assert outs[:2] == [None, None]
        merged = outs[2]
        assert merged is not None and merged.pnum is None and merged.flag == 5 and merged.qn == parts[1].qn
        assert merged.cp.text == "DataTime=20260101000000;a21021-Avg=1.5,a21021-Flag=N;a21022-Avg=2.5,a21022-Flag=N;a21023-Avg=3.5,a21023-Flag=N"
        assert len(records(merged)) == 3 and r.pending == 0


def test_unsplit_passes_through_and_single_part() -> None:
    r = Reassembler()
    p = Packet(st="31", cn="9014", pw="1", mn="M", qn=new_qn(), flag=4)
    assert r.add(p) is p
    one = r.add(part(1, pnum=1))
    assert one is not None and one.pnum is None


def test_groups_keyed_by_device_and_time() -> None:
    r = Reassembler()
    assert r.add(part(1, mn="A")) is None
    assert r.add(part(1, mn="B")) is None
    assert r.add(part(1, mn="A", dt="20260101010000")) is None
    assert r.pending == 3
    assert r.add(part(2, mn="A")) is None and r.add(part(3, mn="A")) is not None
    assert r.pending == 2


def test_repeated_part_restarts_group() -> None:
    r = Reassembler()
    r.add(part(1))
    r.add(part(1))  # a new message with the same key: the old one is dropped as incomplete
    dropped = r.expired()
    assert len(dropped) == 1 and dropped[0].missing == [2, 3]


def test_timeout_and_bounds() -> None:
    t = [0.0]
    r = Reassembler(timeout=60, max_groups=5, max_parts=10, clock=lambda: t[0])
    for i in range(8):
        r.add(part(1, mn=f"D{i}"))
    assert r.pending == 5 and len(r.expired()) == 3
    t[0] = 61
    assert len(r.expired()) == 5 and r.pending == 0
    with pytest.raises(HJ212Error) as info:
        r.add(part(1, pnum=11))
    assert info.value.reason == "too_many"


def test_merged_message_keeps_the_parts_warnings() -> None:
    from ecohub.protocols.hj212 import decode, frame_segment

    head = "ST=32;CN=2011;PW=1;MN=M1;Flag={flag};PNUM=2;PNO={pno}"
    one = decode(frame_segment("QN=20160801085857223;" + head.format(flag=7, pno=1) + ";CP=&&DataTime=20160801085800;w01018-Rtd=1&&"))
    two = decode(frame_segment("QN=1617760825759;" + head.format(flag=5, pno=2) + ";CP=&&DataTime=20160801085800;w01001-Rtd=7&&"))
    r = Reassembler()
    assert r.add(one) is None
    merged = r.add(two)
    assert merged is not None and merged.pnum is None and merged.cp["w01001-Rtd"] == "7"
    assert [w.code for w in merged.warnings] == ["qn_format", "parts_without_split_flag"]
