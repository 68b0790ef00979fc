"""Stream layout: the ingest stream ``ECOHUB_INGEST`` on ``ecohub.ingest.<kind>.<region>`` (the site's kind and
6-digit region code, so a deployment can run writers per kind or region with a subject filter) and
``ecohub.ingest.side`` (quarantine rows and device events of no site), and the dead-letter stream
``ECOHUB_DEAD`` on ``ecohub.dead.<reason>``.

Both are bounded (``max_msgs``/``max_bytes`` with *discard new*): when the writers lag until the stream is full,
publishing fails, the receiver retries without answering its device, its bounded queue fills and it stops
reading its sockets — back-pressure that never grows memory."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

__all__ = ["DEAD_STREAM", "STREAM", "BusConfig", "ensure_streams", "subject_for"]

STREAM = "ECOHUB_INGEST"
DEAD_STREAM = "ECOHUB_DEAD"
PREFIX = "ecohub.ingest"
DEAD_PREFIX = "ecohub.dead"
_TOKEN = re.compile(r"[^A-Za-z0-9_-]")


@dataclass
class BusConfig:
    url: str = "nats://127.0.0.1:4222"
    max_msgs: int = 1_000_000  # messages in the ingest stream before publishing is refused (back-pressure)
    max_bytes: int = 2 * 1024**3
    duplicate_window: float = 120.0  # seconds JetStream remembers a Nats-Msg-Id
    publish_timeout: float = 5.0
    inflight: int = 8  # publishes awaiting the stream's ack per receiver
    batch_packets: int = 200  # packets per message at most
    fetch: int = 64  # messages a writer takes per fetch
    ack_wait: float = 30.0  # seconds before an unacked message is redelivered (extended while writing)
    max_ack_pending: int = 1024  # per consumer: bounded in-flight work of the writers
    durable: str = "ecohub-writers"
    subject: str = PREFIX + ".>"  # the writers' filter (e.g. ecohub.ingest.air.>)


def token(s: object) -> str:
    return _TOKEN.sub("_", str(s)) or "_"


def subject_for(kind: str | None, region: str | None) -> str:
    if kind is None:
        return f"{PREFIX}.side"
    return f"{PREFIX}.{token(kind)}.{token(region or '000000')}"


async def ensure_streams(js, cfg: BusConfig) -> None:  # type: ignore[no-untyped-def]
    """Create (or update) the two streams; file storage, bounded, discard new."""
    from nats.js.api import DiscardPolicy, StorageType, StreamConfig

    for name, subjects, max_msgs, max_bytes in (
            (STREAM, [f"{PREFIX}.>"], cfg.max_msgs, cfg.max_bytes),
            (DEAD_STREAM, [f"{DEAD_PREFIX}.>"], 1_000_000, 1024**3)):
        sc = StreamConfig(name=name, subjects=subjects, storage=StorageType.FILE, max_msgs=max_msgs,
                          max_bytes=max_bytes, discard=DiscardPolicy.NEW, duplicate_window=cfg.duplicate_window)
        try:
            await js.add_stream(sc)
        except Exception:  # noqa: BLE001 - it exists with other limits: update them
            await js.update_stream(sc)


async def bus_ready(url: str, timeout: float = 2.0) -> tuple[bool, str]:
    """Readiness of the bus: NATS reachable and the ingest stream present (``(ok, detail)``)."""
    import nats

    try:
        nc = await asyncio.wait_for(nats.connect(url, connect_timeout=timeout, max_reconnect_attempts=0,
                                                 allow_reconnect=False), timeout)
    except Exception as e:  # noqa: BLE001 - any failure means not ready; the detail says why
        return False, f"cannot connect to {url}: {type(e).__name__}: {e}"
    try:
        info = await nc.jetstream(timeout=timeout).stream_info(STREAM)
        return True, f"{STREAM}: {info.state.messages} messages"
    except Exception as e:  # noqa: BLE001
        return False, f"stream {STREAM}: {type(e).__name__}: {e}"
    finally:
        await nc.close()
