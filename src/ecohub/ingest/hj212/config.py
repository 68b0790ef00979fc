"""The gateway's settings (:class:`GatewayConfig`) and what its ``on_event`` hook receives (:class:`GatewayEvent`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["GatewayConfig", "GatewayEvent", "config_dict"]


@dataclass
class GatewayConfig:
    """Bounds and timings of the gateway (defaults in brackets in ``docs/hj212-gateway.md``)."""

    host: str = "127.0.0.1"
    port: int = 6010
    max_connections: int = 5000  # further connections are accepted and closed at once
    max_length: int = 1024  # data-segment bytes (HJ 212-2017 §6.3.1); longer frames are rejected
    read_chunk: int = 8192  # bytes per socket read
    stream_limit: int = 8192  # bytes buffered per socket (StreamReader) before its reading pauses
    max_pending_per_address: int = 64  # connections from one IP address that have not sent a single frame yet;
    # more from that address are closed at once. A device sends its first packet at once, so a burst of
    # reconnecting devices behind one (carrier NAT) address is not held back; silent sockets are
    # (with first_packet_timeout) what it stops
    first_packet_timeout: float = 120.0  # seconds a connection has for its first valid (authenticated) packet
    idle_timeout: float = 1800.0  # seconds without a byte before a connection is closed
    max_garbage: int = 65536  # garbage bytes (with or without '#') a connection may send before its first frame
    quarantine_garbage: int = 3  # garbage / broken-frame samples quarantined per connection
    max_write_buffer: int = 262144  # unread answers (bytes) before a connection is dropped
    queue_packets: int = 10000  # packets waiting for the writer (then readers block)
    # back-pressure (:mod:`.flow`): packets read and not yet answered, per connection and in all; at the bound
    # the connection's socket is not read (pause_reading) and the device's TCP window closes
    max_inflight_per_conn: int = 64
    max_inflight: int = 10000  # in all, at most …
    min_inflight: int = 1000  # … and at least (whatever the measured rate says)
    ack_timeout: float = 10.0  # seconds the devices wait for an answer (Settings.hj212_ack_timeout) …
    inflight_latency: float = 0.25  # … this fraction of it: the target time a packet spends inside the gateway
    socket_rcvbuf: int = 4096  # SO_RCVBUF of the device sockets (0: the OS's, which autotunes to MBs): what
    # the gateway does not read stays with the device
    batch_records: int = 50000  # observations per write transaction at most
    batch_linger: float = 0.0  # seconds to wait for more packets before a small batch is written
    device_rate: float = 50.0  # sustained packets/s per device (token bucket) …
    device_burst: float = 500.0  # … and its burst
    auth_ttl: float = 600.0  # seconds a verified (MN, PW) stays verified
    negative_ttl: float = 30.0  # seconds an unknown MN / a wrong PW is remembered
    max_auth_failures: int = 3  # per connection, then it is closed
    qn_memory: int = 256  # recent QNs per device (retransmission detection)
    split_timeout: float = 600.0  # seconds to collect the parts of a split message (Flag.D)
    max_split_groups: int = 16  # open split messages per connection
    max_split_parts: int = 64  # PNUM above this is rejected
    command_poll: float = 1.0  # seconds between looks at the command queue
    command_timeout: float = 10.0  # HJ 212-2017 Table 1 (GPRS/4G): 10 s …
    command_retries: int = 3  # … × 3
    auto_time_sync: bool = True  # send 1012 set-time when a device's QN clock is off by more than …
    max_clock_drift: float = 300.0  # … this many seconds (at most once per hour per device)
    write_retry_max: float = 5.0  # back-off cap (s) when the database refuses a batch
    writers: int = 0  # writers (0: 2 on PostgreSQL — their database waits overlap —, 1 on SQLite)
    writer_process: bool = False  # write in child processes (ecohub gateway: on) instead of threads


@dataclass
class GatewayEvent:
    """What the ``on_event`` hook receives."""

    kind: str  # device_auth_failure | device_online | device_offline | clock_drift | command_finished
    mn: str | None
    peer: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


def config_dict(cfg: GatewayConfig) -> dict[str, Any]:
    return asdict(cfg)
