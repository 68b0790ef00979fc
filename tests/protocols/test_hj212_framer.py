"""StreamFramer: the raw TCP capture in random chunks, garbage, oversized lengths, bounds."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from ecohub.protocols.hj212 import Dialect, StreamFramer, decode, frame_segment, iter_frames

MN = "010000A8900016F000169DC0"


def pkt(i: int = 0) -> bytes:
    return frame_segment(
        f"QN=2021010714{i % 60:02d}00123;ST=22;CN=2011;PW=123456;MN={MN};Flag=5;"
        f"CP=&&DataTime=20210107140000;a21026-Rtd={i}.5,a21026-Flag=N&&"
    )


def run(framer: StreamFramer, data: bytes, rng: random.Random, lo: int = 1, hi: int = 400):
    events, i = [], 0
    while i < len(data):
        k = rng.randint(lo, hi)
        events += framer.feed(data[i : i + k])
        assert framer.buffered <= 2 * 1036 + framer.report_limit
        i += k
    return events + framer.flush()


def accounted(framer: StreamFramer, events) -> int:
    return sum(e.size for e in events) + framer.trailer_bytes


def test_capture_log_random_chunks(capture_log: bytes) -> None:
    for seed in range(8):
        rng = random.Random(seed)
        framer = StreamFramer()
        events = run(framer, capture_log, rng, 1, rng.choice([3, 50, 700, 5000]))
        frames = [e for e in events if e.is_frame]
        packets = [decode(e.data) for e in frames]
        assert len(packets) == 86
        assert all(p.mn == "LB4200001" for p in packets)
        garbage = [e for e in events if e.kind == "garbage"]
        assert garbage and sum(e.size for e in garbage) > 5000  # HTTP probes, TLS ClientHello, log lines
        assert any(b"HTTP/1.1" in e.data for e in garbage)
        assert accounted(framer, events) == len(capture_log)
        # events are in stream order and contiguous
        offsets = [e.offset for e in events]
        assert offsets == sorted(offsets)


def test_capture_log_verify_crc(capture_log: bytes) -> None:
    events = list(iter_frames(capture_log, verify_crc=True))
    assert sum(e.is_frame for e in events) == 86
    assert not [e for e in events if e.kind == "rejected"]


def test_many_packets_one_read_and_one_packet_many_reads() -> None:
    data = b"".join(pkt(i) for i in range(50))
    framer = StreamFramer()
    events = framer.feed(data)
    assert [decode(e.data).cp["a21026-Rtd"] for e in events] == [f"{i}.5" for i in range(50)]
    framer = StreamFramer()
    events = []
    for b in data:
        events += framer.feed(bytes([b]))
    events += framer.flush()
    assert sum(e.is_frame for e in events) == 50 and not [e for e in events if not e.is_frame]


def test_garbage_between_packets_and_missing_trailers() -> None:
    data = b"junk##x#" + pkt(1) + b"\x16\x03\x01\x02\x00##ab" + pkt(2).rstrip(b"\r\n") + pkt(3) + b"tail#"
    framer = StreamFramer()
    events = framer.feed(data) + framer.flush()
    frames = [decode(e.data).cp["a21026-Rtd"] for e in events if e.is_frame]
    assert frames == ["1.5", "2.5", "3.5"]
    garbage = b"".join(e.data for e in events if e.kind == "garbage")
    assert garbage == b"junk##x#" + b"\x16\x03\x01\x02\x00##ab" + b"tail#"
    assert accounted(framer, events) == len(data)


def test_declared_length_above_maximum() -> None:
    data = b"##9999" + b"A" * 3000 + pkt(7)
    framer = StreamFramer()
    events = run(framer, data, random.Random(3))
    rejected = [e for e in events if e.kind == "rejected"]
    assert rejected[0].reason == "too_long" and rejected[0].data == b"##9999"
    assert [decode(e.data).cp["a21026-Rtd"] for e in events if e.is_frame] == ["7.5"]
    small = StreamFramer(max_length=50)
    assert small.feed(pkt(1))[0].reason == "too_long"
    assert StreamFramer(Dialect(max_length=2000)).feed(b"##1500")[:1] == []


def test_wrong_declared_length_resynchronises() -> None:
    good = pkt(5)
    too_long = b"##0300" + good[6:]  # declares more than there is: the CRLF shows the real end
    too_short = b"##0020" + good[6:]  # declares less: no hex CRC where the length puts it (";ST=")
    for bad in (too_long, too_short):
        framer = StreamFramer()
        events = framer.feed(bad + good) + framer.flush()
        assert [e.reason for e in events if e.kind == "rejected"] == ["length_mismatch"]
        assert [decode(e.data).cp["a21026-Rtd"] for e in events if e.is_frame] == ["5.5"]
        assert accounted(framer, events) == len(bad + good)


def test_bad_crc_resync_finds_packet_inside() -> None:
    inner = pkt(9)
    false_start = b"##0012ab" + inner  # its "CRC" lands on QN digits of the real packet: hex
    assert false_start[18:22].isdigit()
    framer = StreamFramer(verify_crc=True)
    events = framer.feed(false_start) + framer.flush()
    assert [(e.kind, e.reason, e.data) for e in events if not e.is_frame] == [("rejected", "bad_crc", b"##0012ab")]
    assert [decode(e.data).cp["a21026-Rtd"] for e in events if e.is_frame] == ["9.5"]
    # without CRC verification the false frame is passed on (decode rejects it) — the trade-off
    events = StreamFramer().feed(false_start)
    assert events[0].is_frame and events[0].data.startswith(b"##0012ab")


def test_length_mismatch_resyncs_at_inner_frame_start() -> None:
    data = b"##0500xyz" + pkt(4)  # declared 500: the real packet's CRLF comes first
    framer = StreamFramer()
    events = framer.feed(data) + framer.flush()
    assert [(e.kind, e.reason, e.data) for e in events if not e.is_frame] == [("rejected", "length_mismatch", b"##0500xyz")]
    assert [decode(e.data).cp["a21026-Rtd"] for e in events if e.is_frame] == ["4.5"]


def test_truncated_at_end_of_stream() -> None:
    framer = StreamFramer()
    assert framer.feed(pkt(1)[:40]) == []
    events = framer.flush()
    assert [(e.kind, e.reason, e.size) for e in events] == [("rejected", "truncated", 40)]
    assert framer.buffered == 0


def test_bounded_buffer_on_endless_garbage() -> None:
    framer = StreamFramer(report_limit=512)
    rng = random.Random(5)
    for _ in range(200):
        framer.feed(bytes(rng.randrange(256) for _ in range(997)).replace(b"#", b"."))
        assert framer.buffered <= 512 + 1
    events = framer.flush()
    assert events[0].kind == "garbage" and events[0].size == 200 * 997 and len(events[0].data) == 512


def test_chars_dialect_frames_by_crlf() -> None:
    body = f"QN=20160801085857223;ST=32;CN=3020;PW=123456;MN={MN};Flag=5;CP=&&PolId=w01018;i12001-Info=正常&&"
    frame = frame_segment(body, Dialect(length_unit="chars"))
    framer = StreamFramer(Dialect(length_unit="chars"))
    events = framer.feed(frame[:30]) + framer.feed(frame[30:] + frame)
    assert [decode(e.data, Dialect(length_unit="chars")).cp["i12001-Info"] for e in events if e.is_frame] == ["正常", "正常"]


_GARBAGE = st.binary(max_size=60).map(lambda b: b.replace(b"#", b"."))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 30).map(pkt), _GARBAGE), max_size=12), st.integers(1, 64))
def test_framer_finds_every_packet_between_garbage(pieces: list[bytes], chunk: int) -> None:
    data = b"".join(pieces)
    framer = StreamFramer()
    events = []
    for i in range(0, len(data), chunk):
        events += framer.feed(data[i : i + chunk])
    events += framer.flush()
    assert accounted(framer, events) == len(data)
    want = [p.rstrip(b"\r\n") for p in pieces if p.startswith(b"##")]
    assert [e.data for e in events if e.is_frame] == want


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000), st.integers(1, 300))
def test_framer_any_bytes(data: bytes, chunk: int) -> None:
    framer = StreamFramer(verify_crc=True)
    events = []
    for i in range(0, len(data), chunk):
        events += framer.feed(data[i : i + chunk])
    events += framer.flush()
    assert accounted(framer, events) == len(data)
    assert framer.buffered == 0
