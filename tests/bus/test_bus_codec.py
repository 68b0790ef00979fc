"""The bus message codec: records round-trip; a bad message is refused with the field and the value."""

from __future__ import annotations

from datetime import UTC, datetime

import msgpack
import pytest

from ecohub.bus.codec import BusMessage, DecodeError, decode, encode, msg_id
from ecohub.bus.streams import subject_for


def test_round_trip_and_idempotency_key():
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    m = BusMessage(rows=[((3, 7, "minute"), 1_767_000_000, 12.5, "N"), ((3, 8, "hour"), 1_767_003_600, None, "D")],
                   quarantine=[("1.2.3.4:5 MN=X", "bad CRC", "CRC", "##0000")],
                   events=[{"mn": "X", "kind": "online", "received_at": at, "payload": {"peer": "p"}}])
    data = encode(m)
    back = decode(data)
    assert back.rows == m.rows and back.quarantine == m.quarantine and back.source == "hj212"
    assert back.events[0]["received_at"] == at
    assert msg_id(data) == msg_id(encode(m))  # same records → same Nats-Msg-Id (duplicate window)
    assert msg_id(data) != msg_id(encode(BusMessage(rows=[((3, 7, "minute"), 1_767_000_000, 12.6, "N")])))


@pytest.mark.parametrize(("body", "needle"), [
    (b"\xc1garbage", "body: not msgpack"),
    (msgpack.packb([1, 2]), "body: expected a map"),
    (msgpack.packb({"v": 9, "s": "x"}), "v: unsupported version 9"),
    (msgpack.packb({"v": 1, "s": "hj212", "r": [[1, 2, "minute", 5]]}), "r[0]: expected"),
    (msgpack.packb({"v": 1, "s": "hj212", "r": [[0, 2, "minute", 5, 1.0, "N"]]}), "r[0].series"),
    (msgpack.packb({"v": 1, "s": "hj212", "r": [[1, 2, "week", 5, 1.0, "N"]]}), "r[0].interval: unknown interval 'week'"),
    (msgpack.packb({"v": 1, "s": "hj212", "r": [[1, 2, "hour", 5, float("nan"), "N"]]}), "r[0].value"),
    (msgpack.packb({"v": 1, "s": "hj212", "r": [[1, 2, "hour", "x", 1.0, "N"]]}), "r[0].time: not an epoch second ('x')"),
])
def test_bad_messages_are_refused_with_field_and_value(body, needle):
    with pytest.raises(DecodeError) as e:
        decode(body)
    assert needle in str(e.value)


def test_subjects_by_kind_and_region():
    assert subject_for("air", "320100") == "ecohub.ingest.air.320100"
    assert subject_for("a.b", "32 01") == "ecohub.ingest.a_b.32_01"  # tokens never split a subject
    assert subject_for(None, None) == "ecohub.ingest.side"
