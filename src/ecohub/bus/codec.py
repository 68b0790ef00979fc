"""One bus message: the records of one or more packets (observations, quarantine rows, device events), packed
with msgpack, and its idempotency key (``Nats-Msg-Id``: the SHA-256 of the body, so a re-publish of the same
records inside the stream's duplicate window is dropped by JetStream, and one after it is harmless because the
writer is idempotent).

Observations are ``[site id, parameter id, interval, epoch s, value, flag]``; quarantine rows ``[origin, reason,
field, raw]`` (channel hj212) or ``[origin, reason, field, raw, line, channel]`` (the JSON channels); events ``device_event`` rows (datetimes as msgpack timestamps)."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgpack

__all__ = ["BusMessage", "DecodeError", "decode", "encode", "msg_id"]

VERSION = 1
CHANNELS = ("hj212", "mqtt", "http")  # quarantine channels a bus message may carry


class DecodeError(ValueError):
    """A message the writer refuses (it goes to the dead-letter stream with this reason)."""


@dataclass
class BusMessage:
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # ((site, parameter, interval), t, value, flag)
    quarantine: list[tuple[Any, ...]] = field(default_factory=list)  # (origin, reason, field, raw)
    events: list[dict[str, Any]] = field(default_factory=list)
    source: str = "hj212"


def _default(o: Any) -> Any:
    if isinstance(o, datetime):
        return o if o.tzinfo is not None else o.replace(tzinfo=UTC)
    raise TypeError(f"cannot put {type(o).__name__} on the bus")


def encode(m: BusMessage) -> bytes:
    body = {"v": VERSION, "s": m.source,
            "r": [[k[0], k[1], k[2], t, v, f] for k, t, v, f in m.rows],
            "q": [list(q) for q in m.quarantine], "e": m.events}
    return msgpack.packb(body, default=_default, datetime=True, use_bin_type=True)


def msg_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:40]


def decode(data: bytes) -> BusMessage:
    """The message, validated: every refusal names the field and the value."""
    try:
        body = msgpack.unpackb(data, raw=False, timestamp=3, strict_map_key=False)
    except Exception as e:  # noqa: BLE001 - anything msgpack raises means the same: not a message of ours
        raise DecodeError(f"body: not msgpack ({type(e).__name__}: {e})") from e
    if not isinstance(body, dict):
        raise DecodeError(f"body: expected a map, got {type(body).__name__}")
    if body.get("v") != VERSION:
        raise DecodeError(f"v: unsupported version {body.get('v')!r}")
    source = body.get("s")
    if not isinstance(source, str) or not source:
        raise DecodeError(f"s: source missing or not text ({source!r})")
    rows: list[tuple[Any, ...]] = []
    for i, r in enumerate(body.get("r") or []):
        if not isinstance(r, list) or len(r) != 6:
            raise DecodeError(f"r[{i}]: expected [site, parameter, interval, time, value, flag], got {r!r:.200}")
        s, p, iv, t, v, f = r
        if not isinstance(s, int) or not isinstance(p, int) or s <= 0 or p <= 0:
            raise DecodeError(f"r[{i}].series: site/parameter ids must be positive integers ({s!r}, {p!r})")
        if iv not in ("rt", "minute", "hour", "day"):
            raise DecodeError(f"r[{i}].interval: unknown interval {iv!r}")
        if not isinstance(t, (int, float)) or not math.isfinite(t):
            raise DecodeError(f"r[{i}].time: not an epoch second ({t!r})")
        if v is not None and (not isinstance(v, (int, float)) or not math.isfinite(v)):
            raise DecodeError(f"r[{i}].value: not a finite number ({v!r})")
        if f is not None and not isinstance(f, str):
            raise DecodeError(f"r[{i}].flag: not text ({f!r})")
        rows.append(((s, p, iv), t, v, f))
    quarantine: list[tuple[Any, ...]] = []
    for i, q in enumerate(body.get("q") or []):
        if not isinstance(q, list) or len(q) not in (4, 6):
            raise DecodeError(f"q[{i}]: expected [origin, reason, field, raw(, line, channel)], got {q!r:.200}")
        if len(q) == 6 and (q[5] not in CHANNELS or not (q[4] is None or isinstance(q[4], int))):
            raise DecodeError(f"q[{i}]: line must be a number or null and channel one of {', '.join(CHANNELS)} "
                              f"({q[4]!r}, {q[5]!r})")
        quarantine.append(tuple(q))
    events = body.get("e") or []
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise DecodeError(f"e: expected a list of maps, got {events!r:.200}")
    return BusMessage(rows, quarantine, events, source)
