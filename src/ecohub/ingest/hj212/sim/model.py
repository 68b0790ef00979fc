"""The simulated devices: :class:`SimDevice`, :func:`make_devices`, :func:`register_devices`, and the
deterministic values a device sends (a function of MN, factor and time; air stations replay the real hourly
data shipped in ``ecohub/data/demo/air_hourly.csv.gz``, :func:`ecohub.data.air_runs.load_runs`)."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from ecohub.data.air_runs import StationRun, load_runs
from ecohub.protocols.hj212 import BEIJING

HOUR = 3600
SIM_USCC_BODY = "91130100MA0E0HUB1"  # + check character: the simulator's enterprise (演示)
SIM_REGION = "130100"

# factor → (base value, relative amplitude, decimals, old 2005 code, has Zs)
Factors = dict[str, tuple[float, float, int, str | None, bool]]
GAS: Factors = {
    "a21026": (35.0, 0.4, 3, "02", True), "a21002": (80.0, 0.3, 3, "03", True), "a34013": (8.0, 0.5, 3, "01", True),
    "a19001": (9.5, 0.1, 2, "S01", False), "a00000": (120.0, 0.15, 2, "B02", False),
    "a01012": (65.0, 0.08, 1, "S03", False), "a01013": (0.25, 0.2, 3, "S08", False),
    "a01014": (8.0, 0.2, 2, "S05", False), "a21005": (20.0, 0.5, 3, "04", False),
    "a21003": (45.0, 0.3, 3, None, False),
}
WATER: Factors = {
    "w01018": (40.0, 0.3, 2, "011", False), "w21003": (2.5, 0.4, 3, "060", False),
    "w21011": (0.3, 0.4, 3, "101", False), "w21001": (12.0, 0.3, 2, "065", False),
    "w01001": (7.2, 0.03, 2, "001", False), "w00000": (15.0, 0.3, 3, "B01", False),
}
AIR_CODES = {"pm25": "a34004", "pm10": "a34002", "so2": "a21026", "no2": "a21004", "co": "a21005", "o3": "a05024"}
_ST = {"gas": "31", "water": "32", "air": "22"}
_FLOW = {"a00000", "w00000"}
#: flow Cou (m³, HJ 212-2017 Appendix B) per (flow unit · s): gas m³/s, water L/s
_FLOW_COU = {"gas": 1.0, "water": 1e-3}
#: pollutants with an emitted amount (Cou, kg): C (mg/m³ or mg/L) × Q (m³/s or L/s) × s × 10⁻⁶
_MASS = frozenset({"a21026", "a21002", "a34013", "a21005", "w01018", "w21003", "w21011", "w21001"})


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
    # … written in this SM4 variant (HJ 212-2025: a preset of ``SM4_PRESETS`` — ``standard`` (C-style byte list,
    # ECB without padding and a clear tail, CRC over the plaintext), ``hex-pkcs7`` … — or a
    # ``form/padding/crc/length`` spec); None: the codec's default text
    sm4_variant: str | None = None

    @property
    def st(self) -> str:
        return _ST[self.kind]


def _air_station_codes() -> list[str]:
    import csv

    with resources.files("ecohub.data.demo").joinpath("air_stations.csv").open(encoding="utf-8") as f:
        return [r["code"] for r in csv.DictReader(f)]


def make_devices(n: int, *, protocol: str = "2017", mix: str = "gas", password: str = "123456",
                 prefix: str = "SIM", sm4_key: str | None = None, sm4_variant: str | None = None
                 ) -> list[SimDevice]:
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
                             sm4_key if protocol == "2025" else None,
                             sm4_variant if protocol == "2025" and sm4_key else None))
    return out


def register_devices(store: Any, devices: list[SimDevice], *, register_variant: bool = True,
                     dialect: str | None = None) -> int:
    """Register the devices' sites (under one simulator enterprise, region 130100) and the devices, so the
    gateway accepts them. All devices with the same password share **one** argon2 hash (computed once; a
    1,000-device fleet would otherwise take minutes of argon2), which the gateway's cache exploits too.
    ``register_variant``: tell the platform each device's SM4 variant (else it detects it, with a warning);
    ``dialect``: the devices' decoding profile (``None``: lenient, ``"strict"``). Idempotent; returns the
    number of devices."""
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
                      "sm4_key": d.sm4_key, "sm4_variant": d.sm4_variant if register_variant else None,
                      "dialect": dialect}
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

    _air_runs: dict[str, StationRun] | None = None

    def __init__(self, dev: SimDevice):
        self.dev = dev
        self.seed = zlib.crc32(dev.mn.encode())
        self.table: Factors = (
            GAS if dev.kind == "gas" else WATER if dev.kind == "water" else {})
        self.run: StationRun | None = None
        if dev.kind == "air":
            if _Values._air_runs is None:
                _Values._air_runs = load_runs()
            runs = _Values._air_runs
            self.run = runs.get(dev.station or "") or next(iter(runs.values()))

    def value(self, code: str, t: int) -> float:
        base, amp, dec, _, _ = self.table[code]
        day = math.sin(2 * math.pi * ((t % 86400) / 86400.0) + (self.seed % 628) / 100.0)
        v = base * (1.0 + amp * (0.6 * day + 0.4 * _noise(self.seed, code, t)))
        return round(v, dec)

    def air(self, param: str, t: int) -> float | None:
        run = self.run
        assert run is not None
        arr = run.values.get(param)
        if arr is None:
            return None
        v = float(arr[(t // 3600 - run.start_h) % run.period_h])
        return None if math.isnan(v) else v

    def factors_rt(self, t: int) -> list[tuple[str, dict[str, float | str]]]:
        out: list[tuple[str, dict[str, float | str]]] = []
        if self.run is not None:
            for param, code in AIR_CODES.items():
                v = self.air(param, t)
                if v is not None:
                    out.append((code, {"Rtd": v, "Flag": "N"}))
            return out
        for code, (_, _, dec, _, zs) in self.table.items():
            v = self.value(code, t)
            kinds: dict[str, float | str] = {"Rtd": v}
            if zs:
                kinds["ZsRtd"] = round(v * 1.12, dec)
            kinds["Flag"] = "N"
            out.append((code, kinds))
        return out

    def factors_period(self, t: int, seconds: int) -> list[tuple[str, dict[str, float | str]]]:
        """Min/Avg/Max(/Cou) of the period starting at ``t``.

        A period longer than ten minutes (2061 hourly, 2031 daily) is made of the device's ten-minute values
        (the 2051 packets of the same period): Avg is their mean, Min/Max their extremes, and the cumulative
        amount Cou their sum — per ten minutes ``C · Q · 600 s`` with the units of HJ 212-2017 Appendix B:
        flue gas C mg/m³ × Q m³/s → mg, × 10⁻⁶ → kg; wastewater C mg/L × Q L/s → mg, × 10⁻⁶ → kg; flow Cou
        in m³ (gas Q m³/s × s; water Q L/s × s ÷ 1000). So an hour's Cou is what the device integrated, and the
        platform's C × Q from the hour's means differs from it only by the within-hour covariance of C and Q."""
        out: list[tuple[str, dict[str, float | str]]] = []
        if self.run is not None:
            for param, code in AIR_CODES.items():
                v = self.air(param, t)
                if v is not None:
                    out.append((code, {"Min": round(v * 0.8, 1), "Avg": v, "Max": round(v * 1.2, 1), "Flag": "N"}))
            return out
        step = 600 if seconds > 600 and seconds % 600 == 0 else seconds
        subs = [t + i * step + 7 for i in range(seconds // step)]  # a value of each sub-period (deterministic)
        flow_code = "a00000" if self.dev.kind == "gas" else "w00000"
        flow = [self.value(flow_code, s) for s in subs]
        for code, (_, _, dec, _, zs) in self.table.items():
            vals = flow if code == flow_code else [self.value(code, s) for s in subs]
            avg = round(sum(vals) / len(vals), dec)
            kinds: dict[str, float | str] = {"Min": round(min(vals) * 0.9, dec), "Avg": avg,
                                             "Max": round(max(vals) * 1.1, dec)}
            if code in _FLOW:
                kinds["Cou"] = round(sum(vals) * step * _FLOW_COU[self.dev.kind], 1)
            elif code in _MASS:
                kinds["Cou"] = round(sum(c * q for c, q in zip(vals, flow, strict=True)) * step * 1e-6, 6)
            if zs:
                kinds["ZsAvg"] = round(avg * 1.12, dec)
            kinds["Flag"] = "N"
            out.append((code, kinds))
        return out


def _fmt(v) -> str:
    if isinstance(v, float):
        return repr(v) if "e" not in repr(v) else f"{v:.6f}"
    return str(v)



def _bj(t: int) -> str:
    return datetime.fromtimestamp(t, BEIJING).strftime("%Y%m%d%H%M%S")


def newest_time(store: Any, devices: list[SimDevice]) -> datetime | None:
    """The newest time stored from HJ 212 for the devices' sites (``None``: nothing yet) — where a new
    time-lapse run continues (:func:`~ecohub.ingest.hj212.sim.stats.next_start`)."""
    from sqlalchemy import func, select

    from ecohub.store.schema import observation, series, site, source

    codes = [d.site_code for d in devices]
    if not codes:
        return None
    newest = None
    with store.engine.connect() as conn:
        src = conn.scalar(select(source.c.id).where(source.c.name == "hj212"))
        if src is None:
            return None
        for i in range(0, len(codes), 500):
            q = (select(func.max(observation.c.time))
                 .select_from(observation.join(series, series.c.id == observation.c.series_id)
                              .join(site, site.c.id == series.c.site_id))
                 .where(site.c.code.in_(codes[i:i + 500]), observation.c.source_id == src))
            t = conn.scalar(q)
            if t is not None and (newest is None or t > newest):
                newest = t
    return newest
