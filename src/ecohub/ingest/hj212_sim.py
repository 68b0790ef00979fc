"""HJ 212 device simulator (``ecohub hj212 simulate``): N data loggers (数采仪) over real TCP.

Each simulated device connects to the gateway, uploads a realistic mix, waits for its 9014 answers,
retransmits unanswered packets (same QN) after ``ack_timeout`` up to ``recount`` times (HJ 212-2017
Table 1: OverTime / ReCount), re-sends what is still unanswered after a reconnection, and answers the
platform's commands like a real data logger (9011 QnRtn → uploads → 9012 ExeRtn):

- **flue-gas outlets** (ST=31): ten factors per real-time packet — SO2 a21026, NOx a21002, particulate
  a34013 (each with ``-ZsRtd``), O2 a19001, flow a00000, temperature a01012, pressure a01013, humidity
  a01014, CO a21005, NO a21003 — and hourly/minute packets with ``-Min/-Avg/-Max/-Cou``;
- **wastewater outlets** (ST=32): COD, NH3-N, TP, TN, pH, flow;
- **air stations** (ST=22): the real hourly PM2.5, PM10, SO2, NO2, CO and O3 of a CNEMC station shipped
  in ``ecohub/data/demo/air_hourly.csv.gz`` (replayed; the station is chosen per device).

Mix per device, in order of its packets: 2081 boot time on the first connection, then 2011 real-time
data; every 20th packet is a 2051 (10-minute) packet instead, every 120th a 2061 hourly packet, every 60th a
2021 status packet (``SB1-RS``). Values are a deterministic function of (MN, factor, time), so a
back-fill of a period already sent repeats the same values (the store counts duplicates, not conflicts).

Time: with ``time_lapse`` (the default when devices send faster than their real-time interval) the
``DataTime`` of real-time packets advances by ``rtd_interval`` (30 s) per packet and the run ends at the
present; QN is always the device's clock. Editions: 2017 (Flag=5), 2025 (Flag=9, CP SM4-encrypted when a
key is given) or 2005 (HJ/T 212-2005 codes, no QN and no Flag: the gateway answers nothing and the
simulator does not wait).

Faults (probability per packet; ``drift`` per device): ``bad-crc`` (the first transmission has a wrong
CRC), ``split`` (one packet in 2–3 writes), ``merge`` (two packets in one write), ``disconnect`` (the
connection is dropped after a packet), ``drift`` (the device clock is 10–30 min off until the platform
sets it), ``garbage`` (random bytes before a packet).

Python API: :func:`make_devices`, :func:`register_devices`, :func:`run_simulation` (async) /
:func:`simulate` (sync) → :class:`SimStats`; ``ecohub.demo.devices.simulate_demo_devices`` for ``ecohub demo``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ecohub.protocols.hj212 import (
    BEIJING,
    HJ212Error,
    Packet,
    StreamFramer,
    decode,
    encode,
    encrypt_cp,
    exe_rtn,
    frame_segment,
    notify_ack,
    qn_rtn,
)
from ecohub.protocols.hj212.times import format_qn

__all__ = [
    "FAULTS",
    "SimDevice",
    "SimStats",
    "make_devices",
    "register_devices",
    "run_simulation",
    "simulate",
    "parse_faults",
]

FAULTS = ("bad-crc", "split", "merge", "disconnect", "drift", "garbage")
SIM_USCC_BODY = "91130100MA0E0HUB1"  # + check character: the simulator's enterprise (演示)
SIM_REGION = "130100"

# factor → (base value, relative amplitude, decimals, old 2005 code, has Zs)
GAS = {
    "a21026": (35.0, 0.4, 3, "02", True), "a21002": (80.0, 0.3, 3, "03", True), "a34013": (8.0, 0.5, 3, "01", True),
    "a19001": (9.5, 0.1, 2, "S01", False), "a00000": (120.0, 0.15, 2, "B02", False),
    "a01012": (65.0, 0.08, 1, "S03", False), "a01013": (0.25, 0.2, 3, "S08", False),
    "a01014": (8.0, 0.2, 2, "S05", False), "a21005": (20.0, 0.5, 3, "04", False),
    "a21003": (45.0, 0.3, 3, None, False),
}
WATER = {
    "w01018": (40.0, 0.3, 2, "011", False), "w21003": (2.5, 0.4, 3, "060", False),
    "w21011": (0.3, 0.4, 3, "101", False), "w21001": (12.0, 0.3, 2, "065", False),
    "w01001": (7.2, 0.03, 2, "001", False), "w00000": (15.0, 0.3, 3, "B01", False),
}
AIR_CODES = {"pm25": "a34004", "pm10": "a34002", "so2": "a21026", "no2": "a21004", "co": "a21005", "o3": "a05024"}
_ST = {"gas": "31", "water": "32", "air": "22"}
_FLOW = {"a00000", "w00000"}


@dataclass(frozen=True)
class SimDevice:
    """One simulated data logger."""

    mn: str
    password: str
    site_code: str
    kind: str = "gas"  # gas | water | air
    protocol: str = "2017"  # 2017 | 2025 | 2005
    station: str | None = None  # air: the CNEMC station whose real data are replayed
    sm4_key: str | None = None  # HJ 212-2025: encrypt the CP

    @property
    def st(self) -> str:
        return _ST[self.kind]


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
    latencies: list[float] = field(default_factory=list)
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
        self.latencies.extend(other.latencies)
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


# --- devices --------------------------------------------------------------------------------------------------
def _air_station_codes() -> list[str]:
    import csv
    from importlib import resources

    with resources.files("ecohub.data.demo").joinpath("air_stations.csv").open(encoding="utf-8") as f:
        return [r["code"] for r in csv.DictReader(f)]


def make_devices(n: int, *, protocol: str = "2017", mix: str = "gas", password: str = "123456",
                 prefix: str = "SIM", sm4_key: str | None = None) -> list[SimDevice]:
    """``n`` devices with deterministic MNs and site codes. ``mix``: ``gas`` (all flue-gas outlets — the
    ten-pollutant benchmark load), ``mixed`` (70 % gas, 15 % water outlets, 15 % air stations replaying real
    data). MNs: 24 hex digits (2017/2025) or 14 characters (2005)."""
    if protocol not in ("2005", "2017", "2025"):
        raise ValueError("protocol must be 2005, 2017 or 2025")
    stations = _air_station_codes() if mix == "mixed" else []
    tag = zlib.crc32(prefix.encode()) & 0xFFFF
    out = []
    for i in range(n):
        kind = "gas"
        if mix == "mixed":
            r = i % 20
            kind = "water" if r in (3, 10, 17) else "air" if r in (6, 13, 19) else "gas"
        # 2017/2025: 24 hex digits (EPC-96 form); 2005: 14 characters
        mn = f"{prefix[:2]}{i:012d}" if protocol == "2005" else f"0100005A{tag:04X}{i:012X}"
        letter = {"gas": "G", "water": "W", "air": "A"}[kind]
        station = stations[i % len(stations)] if kind == "air" and stations else None
        out.append(SimDevice(mn, password, f"{prefix}-{letter}{i:05d}", kind, protocol, station,
                             sm4_key if protocol == "2025" else None))
    return out


def register_devices(store, devices: list[SimDevice]) -> int:
    """Register the devices' sites (under one simulator enterprise, region 130100) and the devices, so the
    gateway accepts them. All devices with the same password share **one** argon2 hash (computed once; a
    1,000-device fleet would otherwise take minutes of argon2), which the gateway's cache exploits too.
    Idempotent; returns the number of devices."""
    from argon2 import PasswordHasher
    from sqlalchemy import insert, select, update

    from ecohub.domain.uscc import check_character
    from ecohub.store import registry as R
    from ecohub.store.schema import device, site

    hashes: dict[str, str] = {}
    now = datetime.now(UTC)
    uscc = SIM_USCC_BODY + check_character(SIM_USCC_BODY)
    with store.engine.begin() as conn:
        ent = R.add_enterprise(conn, uscc, "模拟设备企业（演示）", SIM_REGION)
        existing = {r.code: r.id for r in conn.execute(select(site.c.code, site.c.id)
                                                       .where(site.c.code.in_([d.site_code for d in devices])))}
        rows = []
        for i, d in enumerate(devices):
            if d.site_code in existing:
                continue
            kind = {"gas": "gas_outlet", "water": "water_outlet", "air": "air_station"}[d.kind]
            rows.append({"code": d.site_code, "kind": kind, "name": f"模拟{d.site_code}",
                         "lon": 114.0 + (i % 100) * 0.05, "lat": 37.5 + (i // 100 % 60) * 0.05,
                         "region_code": SIM_REGION, "enterprise_id": ent if kind != "air_station" else None,
                         "attrs": {"simulated": True, "station": d.station}, "created_at": now})
        if rows:
            conn.execute(insert(site), rows)
        ids = {r.code: r.id for r in conn.execute(select(site.c.code, site.c.id)
                                                  .where(site.c.code.in_([d.site_code for d in devices])))}
        have = {r.mn: r.id for r in conn.execute(select(device.c.mn, device.c.id)
                                                 .where(device.c.mn.in_([d.mn for d in devices])))}
        new = []
        for d in devices:
            h = hashes.get(d.password)
            if h is None:
                h = hashes[d.password] = PasswordHasher().hash(d.password)
            values = {"site_id": ids[d.site_code], "protocol": d.protocol, "password_hash": h,
                      "sm4_key": d.sm4_key}
            if d.mn in have:
                conn.execute(update(device).where(device.c.id == have[d.mn]).values(**values))
            else:
                new.append({"mn": d.mn, "created_at": now, **values})
        if new:
            conn.execute(insert(device), new)
    return len(devices)


# --- values -------------------------------------------------------------------------------------------------
def _noise(seed: int, code: str, t: int) -> float:
    """Deterministic pseudo-random number in [-1, 1) from (device, factor, time)."""
    h = zlib.crc32(f"{code}{t}".encode(), seed)
    return (h % 20001) / 10000.0 - 1.0


class _Values:
    """Deterministic values of one device: f(MN, factor, time)."""

    _air_runs = None

    def __init__(self, dev: SimDevice):
        self.dev = dev
        self.seed = zlib.crc32(dev.mn.encode())
        self.table = GAS if dev.kind == "gas" else WATER if dev.kind == "water" else None
        self.run = None
        if dev.kind == "air":
            if _Values._air_runs is None:
                from ecohub.data.air_runs import load_runs

                _Values._air_runs = load_runs()
            runs = _Values._air_runs
            self.run = runs.get(dev.station) or next(iter(runs.values()))

    def value(self, code: str, t: int) -> float | None:
        base, amp, dec, _, _ = self.table[code]
        day = math.sin(2 * math.pi * ((t % 86400) / 86400.0) + (self.seed % 628) / 100.0)
        v = base * (1.0 + amp * (0.6 * day + 0.4 * _noise(self.seed, code, t)))
        return round(v, dec)

    def air(self, param: str, t: int) -> float | None:
        run = self.run
        arr = run.values.get(param)
        if arr is None:
            return None
        v = float(arr[(t // 3600 - run.start_h) % run.period_h])
        return None if math.isnan(v) else v

    def factors_rt(self, t: int) -> list[tuple[str, dict[str, float | str]]]:
        if self.run is not None:
            out = []
            for param, code in AIR_CODES.items():
                v = self.air(param, t)
                if v is not None:
                    out.append((code, {"Rtd": v, "Flag": "N"}))
            return out
        out = []
        for code, (_, _, dec, _, zs) in self.table.items():
            v = self.value(code, t)
            kinds: dict[str, float | str] = {"Rtd": v}
            if zs:
                kinds["ZsRtd"] = round(v * 1.12, dec)
            kinds["Flag"] = "N"
            out.append((code, kinds))
        return out

    def factors_period(self, t: int, seconds: int) -> list[tuple[str, dict[str, float | str]]]:
        """Min/Avg/Max(/Cou) of the period starting at ``t``."""
        if self.run is not None:
            out = []
            for param, code in AIR_CODES.items():
                v = self.air(param, t)
                if v is not None:
                    out.append((code, {"Min": round(v * 0.8, 1), "Avg": v, "Max": round(v * 1.2, 1), "Flag": "N"}))
            return out
        out = []
        for code, (_, _, dec, _, zs) in self.table.items():
            avg = self.value(code, t + 7)  # a value of the period (deterministic)
            kinds: dict[str, float | str] = {"Min": round(avg * 0.9, dec), "Avg": avg, "Max": round(avg * 1.1, dec)}
            if code in _FLOW:
                kinds["Cou"] = round(avg * seconds, 1)
            elif code in ("a21026", "a21002", "a34013", "a21005", "w01018", "w21003", "w21011", "w21001"):
                flow = self.value("a00000" if self.dev.kind == "gas" else "w00000", t + 7)
                factor = 1e-6 if self.dev.kind == "gas" else 1e-3  # mg/m3·m3 → kg ; mg/L·L → kg
                kinds["Cou"] = round(avg * flow * seconds * factor, 4)
            if zs:
                kinds["ZsAvg"] = round(avg * 1.12, dec)
            kinds["Flag"] = "N"
            out.append((code, kinds))
        return out


def _fmt(v) -> str:
    if isinstance(v, float):
        return repr(v) if "e" not in repr(v) else f"{v:.6f}"
    return str(v)


# --- one device ----------------------------------------------------------------------------------------------
class _Pending:
    __slots__ = ("qn", "frame", "first", "last", "attempts", "cn", "record", "future", "corrupt")

    def __init__(self, qn, frame, cn, record, future=None, corrupt=False):
        self.qn = qn
        self.frame = frame
        self.first = 0.0
        self.last = 0.0
        self.attempts = 0
        self.cn = cn
        self.record = record
        self.future = future
        self.corrupt = corrupt


class _Device:
    def __init__(self, dev: SimDevice, sim: _Simulation, index: int):
        self.dev = dev
        self.sim = sim
        self.cfg = sim
        self.values = _Values(dev)
        self.rng = random.Random(sim.seed * 1_000_003 + index)
        self.pending: OrderedDict[str, _Pending] = OrderedDict()
        self.writer: asyncio.StreamWriter | None = None
        self.connected = asyncio.Event()
        self.k = 0  # packets generated
        self.last_t = 0
        self.booted = False
        self.last_qn = ""
        self.clock_offset = 0.0
        if "drift" in sim.faults and self.rng.random() < sim.faults["drift"]:
            self.clock_offset = self.rng.choice((-1, 1)) * self.rng.uniform(600, 1800)
            sim.stats.faults["drift"] = sim.stats.faults.get("drift", 0) + 1
        self.rtd_interval = sim.rtd_interval
        self.held: bytes | None = None  # merge fault: frame waiting for the next one
        self.flag = None if dev.protocol == "2005" else (9 if dev.protocol == "2025" else 5)
        self.version_bits = {"2005": 0, "2017": 1, "2025": 2}[dev.protocol]
        self.tasks: set[asyncio.Task] = set()  # commands being executed
        self.reader_task: asyncio.Task | None = None

    # clock and numbering
    def now(self) -> float:
        return time.time() + self.clock_offset

    def new_qn(self) -> str:
        qn = format_qn(datetime.fromtimestamp(self.now(), BEIJING))
        if qn <= self.last_qn:
            qn = str(int(self.last_qn) + 1)
        self.last_qn = qn
        return qn

    # building packets
    def build(self, cn: str, cp_items: list[str], *, ack: bool = True) -> tuple[str | None, bytes, int | None]:
        dev = self.dev
        cp = ";".join(cp_items)
        if dev.sm4_key and dev.protocol == "2025" and cn[0] == "2":
            cp = encrypt_cp(cp, dev.sm4_key)
        if dev.protocol == "2005":
            seg = f"ST={dev.st};CN={cn};PW={dev.password};MN={dev.mn};CP=&&{cp}&&"
            return None, frame_segment(seg), None
        qn = self.new_qn()
        flag = (self.version_bits << 2) | (1 if ack else 0)
        seg = f"QN={qn};ST={dev.st};CN={cn};PW={dev.password};MN={dev.mn};Flag={flag};CP=&&{cp}&&"
        return qn, frame_segment(seg), flag

    def data_items(self, t: int, factors) -> tuple[list[str], dict[str, float]]:
        old = self.dev.protocol == "2005"
        table = self.values.table
        items = [f"DataTime={_bj(t)}"]
        record: dict[str, float] = {}
        for code, kinds in factors:
            c = code
            if old and table is not None:
                c = table[code][3]
                if c is None:
                    continue
            items.append(",".join(f"{c}-{k}={_fmt(v)}" for k, v in kinds.items()))
            main = kinds.get("Rtd", kinds.get("Avg"))
            if main is not None:
                record[code] = main
        return items, record

    def next_packet(self) -> tuple[str, list[str], dict | None, int]:
        """(CN, CP items, record for verification, data time) of the device's next packet of the mix."""
        sim = self.sim
        k = self.k
        self.k += 1
        if sim.time_lapse:
            t = sim.t0 + k * self.rtd_interval
        else:  # DataTime has whole seconds: never two real-time packets of one device in the same second
            t = max(int(self.now()), self.last_t + 1)
        self.last_t = t
        if sim.mix_realtime:
            items, rec = self.data_items(t, self.values.factors_rt(t))
            return "2011", items, rec, t
        if k % 120 == 119:
            h = (t // 3600 - 1) * 3600
            items, rec = self.data_items(h, self.values.factors_period(h, 3600))
            return "2061", items, rec, h
        if k % 20 == 19:  # MinInterval 10 min: the previous 10-minute period
            m = (t // 600 - 1) * 600
            items, rec = self.data_items(m, self.values.factors_period(m, 600))
            return "2051", items, rec, m
        if k % 60 == 30:
            return "2021", [f"DataTime={_bj(t)}", "SB1-RS=1", "SB2-RS=1"], None, t
        items, rec = self.data_items(t, self.values.factors_rt(t))
        return "2011", items, rec, t

    # sending
    async def send_packet(self, cn: str, items: list[str], record, *, ack: bool = True,
                          future: asyncio.Future | None = None, data_time: int | None = None) -> None:
        qn, frame, flag = self.build(cn, items, ack=ack)
        st = self.sim.stats
        st.by_cn[cn] = st.by_cn.get(cn, 0) + 1
        wants_ack = flag is not None and flag & 1
        if not wants_ack:
            st.no_ack_expected += 1
            await self.write(frame, fresh=True)
            if future is not None and not future.done():
                future.set_result(True)
            return
        keep = (self.dev.mn, cn, data_time, record) if (self.sim.keep_acked and record is not None) else None
        corrupt = "bad-crc" in self.sim.faults and self.rng.random() < self.sim.faults["bad-crc"]
        p = _Pending(qn, frame, cn, keep, future, corrupt)
        self.pending[qn] = p
        await self.transmit(p)

    async def transmit(self, p: _Pending) -> None:
        if self.writer is None:
            return  # sent after the reconnection
        now = time.monotonic()
        if p.attempts == 0:
            p.first = now
        elif p.attempts > 0:
            self.sim.stats.retransmitted += 1
        p.last = now
        p.attempts += 1
        frame = p.frame
        if p.corrupt:
            p.corrupt = False
            self.sim.stats.faults["bad-crc"] = self.sim.stats.faults.get("bad-crc", 0) + 1
            crc = frame[-6:-2]
            bad = b"%04X" % ((int(crc, 16) + 1) & 0xFFFF)
            frame = frame[:-6] + bad + b"\r\n"
        await self.write(frame, fresh=p.attempts == 1)

    async def write(self, frame: bytes, fresh: bool = True) -> None:
        w = self.writer
        if w is None:
            return
        sim = self.sim
        st = sim.stats
        faults = sim.faults
        rng = self.rng
        st.sent += 1 if fresh else 0
        data = frame
        if faults:
            if "garbage" in faults and rng.random() < faults["garbage"]:
                junk = bytes(rng.choice(b"abcdefXYZ0123456789 ;=,&\r\n\x00\xff") for _ in range(rng.randint(5, 80)))
                data = junk + data
                st.faults["garbage"] = st.faults.get("garbage", 0) + 1
            if "merge" in faults:
                if self.held is not None:
                    data = self.held + data
                    self.held = None
                elif rng.random() < faults["merge"]:
                    self.held = data
                    st.faults["merge"] = st.faults.get("merge", 0) + 1
                    return
            if "split" in faults and rng.random() < faults["split"] and len(data) > 8:
                st.faults["split"] = st.faults.get("split", 0) + 1
                cuts = sorted(rng.sample(range(1, len(data)), min(2, len(data) - 1)))
                prev = 0
                for cut in [*cuts, len(data)]:
                    try:
                        w.write(data[prev:cut])
                        await w.drain()
                    except (ConnectionError, OSError, RuntimeError):
                        return
                    st.bytes_sent += cut - prev
                    prev = cut
                    if cut < len(data):
                        await asyncio.sleep(0.005)
                await self.maybe_disconnect()
                return
        try:
            w.write(data)
            st.bytes_sent += len(data)
            if w.transport.get_write_buffer_size() > 65536:
                await w.drain()
        except (ConnectionError, OSError, RuntimeError):
            return
        await self.maybe_disconnect()

    async def maybe_disconnect(self) -> None:
        f = self.sim.faults.get("disconnect")
        if f and self.rng.random() < f and self.writer is not None:
            st = self.sim.stats
            st.faults["disconnect"] = st.faults.get("disconnect", 0) + 1
            self.writer.transport.abort()
            self.writer = None
            self.connected.clear()

    # receiving
    async def reader_loop(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        framer = StreamFramer()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for ev in framer.feed(data):
                    if ev.kind != "frame":
                        continue
                    try:
                        p = decode(ev.data)
                    except HJ212Error:
                        continue
                    await self.on_packet(p)
        except (ConnectionError, OSError):
            pass
        finally:
            if self.writer is writer:
                self.writer = None
                self.connected.clear()
                self.sim.stats.disconnects += 1

    async def on_packet(self, p: Packet) -> None:
        cn = p.cn
        if cn in ("9014", "9013"):
            pend = self.pending.pop(p.qn, None)
            if pend is not None:
                st = self.sim.stats
                st.acked += 1
                st.latencies.append(time.monotonic() - pend.first)
                if pend.record is not None:
                    st.acked_packets.append(pend.record)
                if pend.future is not None and not pend.future.done():
                    pend.future.set_result(True)
            return
        if cn[0] == "9":
            return
        # a platform request
        st = self.sim.stats
        st.commands[cn] = st.commands.get(cn, 0) + 1
        if cn in ("2012", "2022"):
            await self.write(encode(notify_ack(p)), fresh=False)
            return
        if cn not in ("1012", "1062", "2061", "2051", "2031"):
            await self.write(encode(qn_rtn(p, 2)), fresh=False)  # refused
            return
        await self.write(encode(qn_rtn(p, 1)), fresh=False)
        task = asyncio.get_running_loop().create_task(self.execute(p))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def execute(self, p: Packet) -> None:
        cn = p.cn
        code = 1
        if cn == "1012":
            sys_t = p.cp.get("SystemTime")
            if sys_t:
                target = datetime.strptime(sys_t, "%Y%m%d%H%M%S").replace(tzinfo=BEIJING).timestamp()
                self.clock_offset = target - time.time()
                if abs(self.clock_offset) < 5:
                    self.clock_offset = 0.0
        elif cn == "1062":
            with contextlib.suppress(TypeError, ValueError):
                self.rtd_interval = int(p.cp.get("RtdInterval"))
        else:
            code = await self.history(p)
        await self.write(encode(exe_rtn(p, code)), fresh=False)
        st = self.sim.stats
        key = f"{cn}:done"
        st.commands[key] = st.commands.get(key, 0) + 1

    async def history(self, p: Packet) -> int:
        """Upload one packet per period from BeginTime to EndTime, each answered by 9014; ExeRtn 1 or 100."""
        try:
            b = datetime.strptime(p.cp["BeginTime"], "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)
            e = datetime.strptime(p.cp["EndTime"], "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)
        except (KeyError, ValueError):
            return 3
        step = {"2061": 3600, "2051": 600, "2031": 86400}[p.cn]
        t = int(b.timestamp())
        t -= (t + 8 * 3600) % step if step == 86400 else t % step
        end = int(e.timestamp())
        futures = []
        loop = asyncio.get_running_loop()
        n = 0
        while t <= end and n < 2000:
            items, rec = self.data_items(t, self.values.factors_period(t, step))
            fut = loop.create_future()
            await self.send_packet(p.cn, items, rec, future=fut, data_time=t)
            futures.append(fut)
            t += step
            n += 1
        if not futures:
            return 100
        try:
            await asyncio.wait_for(asyncio.gather(*futures), self.sim.ack_timeout * (self.sim.recount + 2))
        except TimeoutError:
            return 2
        return 1

    # life
    async def connect(self, stop_at: float) -> bool:
        sim = self.sim
        delay = 0.05
        while time.monotonic() < stop_at:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(sim.host, sim.port), 5.0)
            except (OSError, TimeoutError):
                sim.stats.connect_failures += 1
                await asyncio.sleep(delay + self.rng.random() * delay)
                delay = min(delay * 2, 1.0)
                continue
            self.writer = writer
            sim.stats.connects += 1
            if self.reader_task is not None:
                self.reader_task.cancel()
            self.reader_task = asyncio.get_running_loop().create_task(self.reader_loop(reader, writer))
            self.connected.set()
            unanswered = list(self.pending.values())
            if not self.booted:
                self.booted = True
                await self.send_packet("2081", [f"RestartTime={_bj(int(self.now()) - 60)}"], None)
            for p in unanswered:  # what is still unanswered goes again
                await self.transmit(p)
            return True
        return False

    def check_timeouts(self) -> list[_Pending]:
        now = time.monotonic()
        sim = self.sim
        due = []
        for p in list(self.pending.values()):
            if p.attempts and now - p.last >= sim.ack_timeout:
                if p.attempts > sim.recount:
                    self.pending.pop(p.qn, None)
                    sim.stats.failed += 1
                    if len(sim.stats.failed_packets) < 1000:
                        sim.stats.failed_packets.append((self.dev.mn, p.qn, p.cn, p.attempts))
                    if p.future is not None and not p.future.done():
                        p.future.set_result(False)
                else:
                    due.append(p)
        return due

    async def run(self, start_at: float, period: float, gen_until: float, end_at: float) -> None:
        try:
            await self._run(start_at, period, gen_until, end_at)
        finally:  # also when cancelled (stop_event): no task or socket left behind
            left = [t for t in (*self.tasks, self.reader_task) if t is not None and not t.done()]
            for t in left:
                t.cancel()
            if self.writer is not None:
                self.writer.transport.abort()
                self.writer = None
            if left:
                await asyncio.gather(*left, return_exceptions=True)

    async def _run(self, start_at: float, period: float, gen_until: float, end_at: float) -> None:
        sim = self.sim
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        if not await self.connect(end_at):
            return
        next_t = time.monotonic()
        last_check = next_t
        while True:
            now = time.monotonic()
            if now >= gen_until:
                break
            if self.writer is None:
                if not await self.connect(gen_until):
                    break
            cn, items, rec, t = self.next_packet()
            await self.send_packet(cn, items, rec, data_time=t)
            if now - last_check >= 0.25:
                last_check = now
                for p in self.check_timeouts():
                    await self.transmit(p)
            next_t += period
            delay = next_t - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -1.0:
                next_t = time.monotonic()  # behind: do not burst to catch up
        if self.held is not None and self.writer is not None:  # a merge fault holding the last packet
            held, self.held = self.held, None
            with contextlib.suppress(ConnectionError, OSError, RuntimeError):
                self.writer.write(held)
        # drain: wait for the answers still due (retransmitting), then close
        while (self.pending or self.tasks) and time.monotonic() < end_at:
            if self.writer is None and self.pending:
                if not await self.connect(end_at):
                    break
            for p in self.check_timeouts():
                await self.transmit(p)
            await asyncio.sleep(0.05)
        sim.stats.unanswered += len(self.pending)
        for t in list(self.tasks):
            t.cancel()
        if self.reader_task is not None:
            self.reader_task.cancel()
        if self.writer is not None:
            w, self.writer = self.writer, None
            w.close()
            with contextlib.suppress(Exception):
                await w.wait_closed()


def _bj(t: int) -> str:
    return datetime.fromtimestamp(t, BEIJING).strftime("%Y%m%d%H%M%S")


class _Simulation:
    def __init__(self, host, port, devices, *, rate, duration, faults, ack_timeout, recount, rtd_interval,
                 time_lapse, mix_realtime, keep_acked, seed, drain):
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
        self.keep_acked = keep_acked
        self.seed = seed
        self.drain = drain
        per_device = rate / max(len(devices), 1)
        self.time_lapse = per_device * rtd_interval > 1.0 if time_lapse is None else time_lapse
        expected = int(per_device * duration) + 2 if math.isfinite(duration) else 0
        now = int(time.time())
        self.t0 = ((now - expected * rtd_interval) // 3600) * 3600 if self.time_lapse else now
        self.stats = SimStats(devices=len(devices))


async def run_simulation(devices: list[SimDevice], host: str = "127.0.0.1", port: int = 6010, *,
                         rate: float | None = None, duration: float = 10.0, faults: dict[str, float] | None = None,
                         ack_timeout: float = 10.0, recount: int = 3, rtd_interval: int = 30,
                         time_lapse: bool | None = None, mix: str = "realistic", keep_acked: bool = False,
                         seed: int = 1, drain: float | None = None, ramp: float = 1.0,
                         stop_event: asyncio.Event | None = None) -> SimStats:
    """Run ``devices`` against the gateway at ``host:port`` for ``duration`` seconds at ``rate`` packets/s in
    total (default: one packet per device per second), then wait up to ``drain`` seconds (default
    ``ack_timeout × (recount + 1)``) for the last answers. ``mix``: ``realistic`` or ``realtime`` (2011 only:
    the benchmark load). ``keep_acked``: keep (MN, CN, DataTime, {code: value}) of every answered data packet
    in ``stats.acked_packets`` (for checks against the store). Connections start spread over ``ramp`` s."""
    n = len(devices)
    rate = float(rate if rate is not None else n)
    sim = _Simulation(host, port, devices, rate=rate, duration=duration, faults=faults or {},
                      ack_timeout=ack_timeout, recount=recount, rtd_interval=rtd_interval, time_lapse=time_lapse,
                      mix_realtime=(mix == "realtime"), keep_acked=keep_acked, seed=seed,
                      drain=ack_timeout * (recount + 1) if drain is None else drain)
    period = n / rate if rate > 0 else math.inf
    t_start = time.monotonic()
    gen_until = t_start + duration
    end_at = gen_until + sim.drain
    devs = [_Device(d, sim, i) for i, d in enumerate(devices)]
    tasks = [asyncio.ensure_future(dv.run(t_start + ramp * i / max(n, 1), period, gen_until, end_at))
             for i, dv in enumerate(devs)]
    if stop_event is not None:
        async def _stopper():
            await stop_event.wait()
            for t in tasks:
                t.cancel()
        stopper = asyncio.ensure_future(_stopper())
    await asyncio.gather(*tasks, return_exceptions=True)
    if stop_event is not None:
        stopper.cancel()
    sim.stats.duration = min(time.monotonic(), gen_until) - t_start
    return sim.stats


def simulate(devices: list[SimDevice], host: str = "127.0.0.1", port: int = 6010, **kwargs) -> SimStats:
    """Synchronous :func:`run_simulation` (its own event loop; uvloop when installed)."""
    try:
        import uvloop  # type: ignore[import-not-found]

        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(run_simulation(devices, host, port, **kwargs))
    finally:
        loop.close()
