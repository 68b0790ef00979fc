"""Faults, settings and results of a simulation run."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import datetime

from ecohub.protocols.hj212 import BEIJING

FAULTS = ("bad-crc", "split", "merge", "disconnect", "drift", "garbage")


@dataclass
class SimStats:
    """What a simulation did. ``acked`` counts packets answered by 9014 (or 9013); ``failed`` those still
    unanswered after ``recount`` retransmissions; ``unanswered`` those still waiting when the run ended;
    ``no_ack_expected`` packets whose Flag asks for no answer (2005)."""

    devices: int = 0
    sent: int = 0
    acked: int = 0
    retransmitted: int = 0
    failed: int = 0
    unanswered: int = 0
    no_ack_expected: int = 0
    bytes_sent: int = 0
    connects: int = 0
    connect_failures: int = 0
    disconnects: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    by_cn: dict[str, int] = field(default_factory=dict)
    commands: dict[str, int] = field(default_factory=dict)
    duration: float = 0.0
    started: float = 0.0  # time.monotonic() when the run started …
    last_ack: float = 0.0  # … and when its last answer came
    latencies: list[float] = field(default_factory=list)
    loop_lags: list[float] = field(default_factory=list)  # how late the simulator's event loop ran (s)
    acked_packets: list[tuple] = field(default_factory=list)  # (mn, cn, DataTime, {code: value}) if kept
    failed_packets: list[tuple] = field(default_factory=list)  # (mn, qn, cn, transmissions) given up

    def quantile(self, q: float) -> float | None:
        if not self.latencies:
            return None
        s = sorted(self.latencies)
        return s[min(len(s) - 1, int(q * len(s)))]

    def merge(self, other: SimStats) -> None:
        for name in ("devices", "sent", "acked", "retransmitted", "failed", "unanswered", "no_ack_expected",
                     "bytes_sent", "connects", "connect_failures", "disconnects"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("faults", "by_cn", "commands"):
            d = getattr(self, name)
            for k, v in getattr(other, name).items():
                d[k] = d.get(k, 0) + v
        self.duration = max(self.duration, other.duration)
        self.started = min(self.started, other.started) if self.started else other.started
        self.last_ack = max(self.last_ack, other.last_ack)
        self.latencies.extend(other.latencies)
        self.loop_lags.extend(other.loop_lags)
        self.acked_packets.extend(other.acked_packets)
        self.failed_packets.extend(other.failed_packets)

    def as_dict(self) -> dict:
        p50, p99 = self.quantile(0.5), self.quantile(0.99)
        return {
            "devices": self.devices, "sent": self.sent, "acked": self.acked, "retransmitted": self.retransmitted,
            "failed": self.failed, "unanswered": self.unanswered, "no_ack_expected": self.no_ack_expected,
            "bytes_sent": self.bytes_sent, "connects": self.connects, "connect_failures": self.connect_failures,
            "disconnects": self.disconnects, "faults": dict(self.faults), "by_cn": dict(self.by_cn),
            "commands": dict(self.commands), "duration_s": round(self.duration, 3),
            "sent_per_s": round(self.sent / self.duration, 1) if self.duration else None,
            "acked_per_s": round(self.acked / self.duration, 1) if self.duration else None,
            "ack_latency_p50_ms": None if p50 is None else round(p50 * 1000, 2),
            "ack_latency_p99_ms": None if p99 is None else round(p99 * 1000, 2),
        }


def parse_faults(text: str | None) -> dict[str, float]:
    """``"bad-crc=0.01,split=0.05,drift"`` → ``{"bad-crc": 0.01, "split": 0.05, "drift": 0.1}`` (0.1 when no
    probability is given). Raises ``ValueError`` naming an unknown fault or a bad probability."""
    out: dict[str, float] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        name, _, p = part.partition("=")
        name = name.strip()
        if name not in FAULTS:
            raise ValueError(f"fault {name!r}: must be one of {', '.join(FAULTS)}")
        try:
            prob = float(p) if p else 0.1
        except ValueError:
            raise ValueError(f"fault {name}={p!r}: the probability must be a number 0-1") from None
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"fault {name}={p!r}: the probability must be between 0 and 1")
        out[name] = prob
    return out


FUTURE_SLACK = 86400  # the gateway quarantines data more than one day ahead


def next_start(newest: datetime | None, rtd_interval: int = 30) -> int | None:
    """Where a time-lapse run continues: one real-time interval after ``newest`` (the newest stored time of
    the devices' sites), ``None`` when nothing is stored."""
    if newest is None:
        return None
    return int(newest.timestamp()) // rtd_interval * rtd_interval + rtd_interval


class Simulation:
    """The settings of a run (shared by its devices) and its :class:`SimStats`."""

    def __init__(self, host, port, devices, *, rate, duration, faults, ack_timeout, recount, rtd_interval,
                 time_lapse, mix_realtime, keep_acked, seed, drain, start=None, sndbuf=None, mix_hourly=False,
                 packets=None):
        self.host = host
        self.port = port
        self.devices = devices
        self.rate = rate
        self.duration = duration
        self.faults = faults
        self.ack_timeout = ack_timeout
        self.recount = recount
        self.rtd_interval = rtd_interval
        self.mix_realtime = mix_realtime
        self.mix_hourly = mix_hourly  # 2061 only, one hour of device time per packet
        self.packets = packets  # per device at most (None: as many as the duration allows)
        self.keep_acked = keep_acked
        self.seed = seed
        self.drain = drain
        self.sndbuf = sndbuf  # small device send buffer: writes wait for the socket (see run_simulation)
        per_device = rate / max(len(devices), 1)
        if mix_hourly:  # the data times step by an hour, whatever the real-time interval
            time_lapse, rtd_interval = True, 3600
        self.time_lapse = per_device * rtd_interval > 1.0 if time_lapse is None else time_lapse
        expected = int(per_device * duration) + 2 if math.isfinite(duration) else 0
        if packets is not None:
            expected = packets if not math.isfinite(duration) else min(expected, packets)
        now = int(time.time())
        self.span = expected * rtd_interval  # seconds of simulated time a time-lapse run covers
        if start is not None:  # continue a previous run (or start where asked) instead of repeating its times
            self.time_lapse = True
            self.t0 = int(start) // rtd_interval * rtd_interval
            if self.t0 + self.span > now + FUTURE_SLACK:
                latest = datetime.fromtimestamp(now + FUTURE_SLACK - self.span, BEIJING)
                raise ValueError(f"start {datetime.fromtimestamp(self.t0, BEIJING):%Y-%m-%d %H:%M:%S} (Beijing): "
                                 f"this run covers {self.span} s of device time and would send data more than one "
                                 f"day ahead, which the gateway quarantines; start at {latest:%Y-%m-%d %H:%M:%S} "
                                 "at the latest, or send fewer packets")
        else:
            self.t0 = ((now - self.span) // 3600) * 3600 if self.time_lapse else now
        self.stats = SimStats(devices=len(devices))
