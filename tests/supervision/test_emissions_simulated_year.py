"""Issue 14's proof, end to end: a permit with two flue-gas outlets whose data come from the HJ 212 device
simulator through the real gateway over TCP — a time-compressed year of hourly 2061 packets (8,760 per outlet,
each with ``-Avg`` of every factor, the flow, and the devices' ``-Cou``) — then the worker's rollup, the annual
tonnage computed two ways (Cou and C × Q, within the tolerance stated in docs/permits.md) and the
``permit_tonnage`` alert: the permitted tonnage is set so that 80 % is crossed on a known day, and the alert is
absent at the start of that day and present at its end (100 % likewise later in the year).

SQLite runs the whole year (~60 s here); PostgreSQL, whose gateway writes and rollup are slower on this machine,
the first 100 days of it (the same code paths; the alert days placed inside them)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from permit_support import LIMITS_HEAD, OUTLETS_HEAD, PERMITS_HEAD, TONNAGE_HEAD, write_dir
from sqlalchemy import select

from ecohub.domain.timeutil import BEIJING
from ecohub.domain.uscc import check_character
from ecohub.ingest.hj212 import GatewayConfig, start_in_thread
from ecohub.ingest.hj212.sim import make_devices, register_devices, simulate
from ecohub.ingest.hj212.sim.model import SIM_USCC_BODY, _Values
from ecohub.store.queries import Scope
from ecohub.store.schema_alerts import alert
from ecohub.supervision.permits import rollup
from ecohub.supervision.permits.emissions import check_tonnage, enterprise_emissions, year_bounds
from ecohub.supervision.permits.register import import_register

pytestmark = pytest.mark.slow

YEAR = 2025
UNIT = SIM_USCC_BODY + check_character(SIM_USCC_BODY)  # the simulator's enterprise
NUMBER = UNIT + "001P"
CODES = {"so2_gas": "a21026", "nox": "a21002"}
#: Stated tolerance of the Cou / C×Q cross-check (docs/permits.md, "Cross-check tolerance").
TOLERANCE = 0.02
DAYS = {"sqlite": 365, "postgresql": 100}  # simulated days per backend (module doc)


def _expected(devs, start: int, hours: int) -> dict[str, np.ndarray]:
    """What the simulated devices sent, per pollutant: the hourly Cou (kg) and C × Q (kg) summed over the two
    outlets, from the simulator's own model (not read back from the store)."""
    out = {f"{p}_{m}": np.zeros(hours) for p in CODES for m in ("cou", "cxq")}
    for d in devs:
        v = _Values(d)
        for i in range(hours):
            f = dict(v.factors_period(start + 3600 * i, 3600))
            q = float(f["a00000"]["Avg"])
            for p, code in CODES.items():
                out[f"{p}_cou"][i] += float(f[code]["Cou"])
                out[f"{p}_cxq"][i] += float(f[code]["Avg"]) * q * 3600 * 1e-6  # mg/m³ · m³/s · s → kg
    return out


def _register(store, tmp_path, devs) -> None:
    a, b = devs[0].site_code, devs[1].site_code
    tables = {
        "permits": [PERMITS_HEAD, [NUMBER, UNIT, "重点", "火力发电 4411", "2024-01-15", "2024-01-15", "2029-01-14",
                                   "issue"]],
        "outlets": [OUTLETS_HEAD, [NUMBER, "DA001", a, "主要排放口", "", ""], [NUMBER, "DA002", b, "general", "", ""]],
        "limits": [LIMITS_HEAD, *([NUMBER, o, c, "100", "mg/m³", "hour", "6", "GB 13223-2011"]
                                  for o in ("DA001", "DA002") for c in CODES.values())],
    }
    assert import_register(store, write_dir(tmp_path / "reg", tables)).errors == []


def _set_tonnage(store, tmp_path, tonnes: dict[str, float]) -> None:
    rows = [[NUMBER, {"so2_gas": "so2"}.get(p, p), f"{t:.6f}", "t"] for p, t in tonnes.items()]
    assert import_register(store, write_dir(tmp_path / "ton", {"tonnage": [TONNAGE_HEAD, *rows]})).errors == []


def _alerts(store) -> dict[str, tuple[str, datetime]]:
    with store.engine.connect() as c:
        return {r.cause_key: (r.severity, r.opened_at) for r in c.execute(
            select(alert.c.cause_key, alert.c.severity, alert.c.opened_at).where(alert.c.rule == "permit_tonnage"))}


def test_simulated_year_through_gateway_cou_vs_cxq_and_tonnage_alert(store, tmp_path):
    devs = make_devices(2, prefix="P14Y")  # flue-gas outlets (ST=31)
    register_devices(store, devs)
    _register(store, tmp_path, devs)
    start, end = year_bounds(YEAR)
    days = DAYS[store.dialect]
    hours = 24 * days
    stop = start + 3600 * hours
    warn_day = datetime.fromtimestamp(start, BEIJING) + timedelta(days=int(days * 0.7))  # 80 % crossed that day
    # a data logger uploading a year's backlog: the per-device rate limit raised for it (default 50 packets/s)
    gw = start_in_thread(store, port=0, config=GatewayConfig(device_rate=10_000, device_burst=10_000))
    try:
        stats = simulate(devs, port=gw.port, rate=3000, duration=math.inf, mix="hourly", packets=hours,
                         start=start, ack_timeout=60.0, recount=3, ramp=0.0)
    finally:
        gw.stop()
    assert stats.by_cn.get("2061") == 2 * hours and stats.failed == 0 and stats.unanswered == 0
    assert stats.acked == stats.sent  # every packet answered (9014): in the store
    rollup.maintain(store)  # the worker's pass
    exp = _expected(devs, start, hours)
    res = enterprise_emissions(store, Scope("system"), UNIT, YEAR, as_of=datetime.fromtimestamp(stop, UTC),
                               both_methods=True)
    assert res["elapsed_share"] == pytest.approx(hours / ((end - start) / 3600))
    for o in res["outlets"]:
        if o["pollutant"] in CODES:
            assert o["hours"] == {"cou": hours, "cxq": 0, "stopped": 0, "substituted": 0}, o
            assert o["missing_hours"] == 0
    for p in CODES:
        got = next(x for x in res["pollutants"] if x["pollutant"] == p)
        # what the devices sent arrived whole: the stored Cou and C×Q sums are the simulator's own to rounding
        assert got["actual_t"] == pytest.approx(exp[f"{p}_cou"].sum() / 1000, rel=1e-9)
        assert got["cxq_t"] == pytest.approx(exp[f"{p}_cxq"].sum() / 1000, rel=1e-6)
        # the two methods: within the stated tolerance, and really computed apart (they differ a little)
        assert got["cxq_t"] == pytest.approx(got["actual_t"], rel=TOLERANCE)
        assert got["cxq_t"] != got["actual_t"]
        # magnitude: ~35 mg/m³ × ~120 m³/s × 3600 s ≈ 15 kg an hour per outlet (132 t a year)
        assert 20 < got["actual_t"] * 1000 / hours < 40 if p == "so2_gas" else got["actual_t"] > 0
    # permitted SO2 tonnage: 80 % reached at noon (Beijing) of warn_day, by the simulator's own hourly Cou
    cum = np.cumsum(exp["so2_gas_cou"]) / 1000
    noon = int((warn_day + timedelta(hours=12)).timestamp())
    permitted = cum[(noon - start) // 3600 - 1] / 0.8
    _set_tonnage(store, tmp_path, {"so2_gas": permitted, "nox": 10 * cum[-1]})  # NOx far below 80 %
    over_day = datetime.fromtimestamp(start + 3600 * int(np.argmax(cum >= permitted)), BEIJING).replace(hour=0)
    assert warn_day < over_day < datetime.fromtimestamp(stop, BEIJING)  # 100 % is crossed later, in the data
    key = f"permit_tonnage:{UNIT}:so2_gas:{YEAR}"
    # the worker checks daily: nothing until the day 80 % is crossed …
    for k in range(1, 8):
        assert check_tonnage(store, YEAR, as_of=warn_day - timedelta(days=k * days // 10)) == []
    assert check_tonnage(store, YEAR, as_of=warn_day) == []
    assert _alerts(store) == {}
    # … the warning at its end (share just above 80 %), not major
    raised = check_tonnage(store, YEAR, as_of=warn_day + timedelta(days=1))
    assert [(r["cause_key"], r["severity"]) for r in raised] == [(key, "warning")]
    assert 0.8 < raised[0]["share"] < 0.81
    assert _alerts(store) == {key: ("warning", warn_day + timedelta(days=1))}
    # 100 %: still a warning at the start of the day it is crossed, major at its end — the same alert
    assert [r["severity"] for r in check_tonnage(store, YEAR, as_of=over_day)] == ["warning"]
    assert [r["severity"] for r in check_tonnage(store, YEAR, as_of=over_day + timedelta(days=1))] == ["major"]
    assert list(_alerts(store)) == [key] and _alerts(store)[key][0] == "major"
