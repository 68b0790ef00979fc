"""The HJ 212 gateway stores the statistics of a factor beside its primary value: ``-Min``, ``-Max``, ``-Cou``
and the converted ``-ZsRtd`` / ``-ZsAvg`` into the derived parameters ``<name>_min/_max/_cou/_zs`` (same site,
same interval). Both backends (``store`` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from test_hj212_gateway import Client, _rows, acks, bj, devices, gateway, packet

from ecohub.domain.parameters import BY_CODE, BY_NAME, PARAMETERS
from ecohub.ingest.hj212 import primary_values
from ecohub.protocols.hj212 import decode, records

_SQL = ("SELECT p.name, s.interval, o.value FROM observation o JOIN series s ON s.id = o.series_id "
        "JOIN parameter p ON p.id = s.parameter_id")


def _stored(store) -> dict[tuple[str, str], float]:
    return {(name, interval): value for name, interval, value in _rows(store, _SQL)}


def test_derived_parameters_in_the_catalogue():
    assert len({p.name for p in PARAMETERS}) == len(PARAMETERS)
    so2 = BY_NAME["so2_gas"]
    assert BY_NAME["so2_gas_zs"].unit == so2.unit and BY_NAME["so2_gas_zs"].name_zh == so2.name_zh + "(折算)"
    assert BY_NAME["so2_gas_min"].unit == BY_NAME["so2_gas_max"].unit == "mg/m³"
    assert BY_NAME["so2_gas_cou"].unit == "kg" and BY_NAME["so2_gas_cou"].name_zh == "二氧化硫(废气)排放量"
    assert BY_NAME["nh3n_cou"].unit == "kg" and BY_NAME["hg_cou"].unit == "kg"
    assert BY_NAME["flow_water_cou"].unit == BY_NAME["flow_gas_cou"].unit == "m³"
    assert BY_NAME["flow_water_cou"].name_zh == "累计流量"
    assert "pm25_zs" not in BY_NAME and "leq_min" not in BY_NAME  # ambient air and noise: none
    assert "ph_cou" not in BY_NAME and "ph_max" in BY_NAME  # no amount for a non-concentration
    derived = [p for p in PARAMETERS if p.name.endswith(("_zs", "_min", "_max", "_cou")) and p.hj212_2017 is None
               and p.name.rsplit("_", 1)[0] in BY_NAME]
    assert all(p.hj212_2005 is None for p in derived)
    assert all(p.name not in {q.name for q in BY_CODE.values()} for p in derived)


def test_primary_values_with_stats_are_the_records_of_the_stored_kinds():
    cp = ("DataTime=20260301120000;a21026-Min=10.1,a21026-Avg=12.0,a21026-Max=15.5,a21026-Cou=3.25,"
          "a21026-ZsAvg=14.0,a21026-ZsMin=11.0,a21026-ZsMax=17.0,a21026-Flag=N")
    p = decode(packet("MN1", cp, cn="2061")[1])
    t, values, others = primary_values(p, stats=True)
    kinds = ("Avg", "Min", "Max", "Cou", "ZsAvg")
    recs = [r for r in records(p) if r.kind in kinds]
    assert sorted((r.code, r.kind, r.value, r.flag) for r in recs) == sorted(values)
    assert values[0][1] == "Avg" and others == 2  # ZsMin, ZsMax
    assert primary_values(p)[1] == [("a21026", "Avg", 12.0, "N")] and primary_values(p)[2] == 6


def test_hourly_statistics_are_stored_into_the_derived_series(store):
    devs = devices(store, 20, mix="mixed", prefix="STW")
    gas = next(d for d in devs if d.kind == "gas")
    water = next(d for d in devs if d.kind == "water")
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    t = bj(hour)
    gas_cp = (f"DataTime={t};a21026-Min=10.1,a21026-Avg=12.0,a21026-Max=15.5,a21026-Cou=3.25,a21026-ZsAvg=14.0,"
              f"a21026-ZsMin=11.0,a21026-ZsMax=17.0,a21026-Flag=N;a00000-Avg=20.5,a00000-Cou=73800,a00000-Flag=N")
    water_cp = (f"DataTime={t};w21003-Min=1.1,w21003-Avg=1.5,w21003-Max=2.25,w21003-Cou=0.8,w21003-Flag=N;"
                f"w20111-Min=0.2,w20111-Avg=0.5,w20111-Max=0.9,w20111-Cou=2.0,w20111-Flag=N;"
                f"w00000-Avg=15.1,w00000-Cou=54360.0,w00000-Flag=N")
    with gateway(store) as h:
        c = Client(h.port)
        q1, f1 = packet(gas.mn, gas_cp, cn="2061")
        q2, f2 = packet(water.mn, water_cp, cn="2061", st="32")
        c.send(f1 + f2)
        assert sorted(acks(c.read(2))) == sorted([q1, q2])
        c.close()
        st = h.stats()
    vals = _stored(store)
    want = {
        ("so2_gas", "hour"): 12.0, ("so2_gas_min", "hour"): 10.1, ("so2_gas_max", "hour"): 15.5,
        ("so2_gas_cou", "hour"): 3.25, ("so2_gas_zs", "hour"): 14.0,
        ("flow_gas", "hour"): 20.5, ("flow_gas_cou", "hour"): 73800.0,
        ("nh3n", "hour"): 1.5, ("nh3n_min", "hour"): 1.1, ("nh3n_max", "hour"): 2.25, ("nh3n_cou", "hour"): 0.8,
        # mercury: HJ 212-2017 µg/L → mg/L for the concentrations, g → kg for the amount
        ("hg", "hour"): 0.0005, ("hg_min", "hour"): 0.0002, ("hg_max", "hour"): 0.0009, ("hg_cou", "hour"): 0.002,
        ("flow_water", "hour"): 15.1, ("flow_water_cou", "hour"): 54360.0,
    }
    assert vals.keys() == want.keys()
    for k, v in want.items():
        assert vals[k] == pytest.approx(v), k
    assert st["stored"] == len(want)
    assert st["not_stored_kinds"] == 2  # a21026-ZsMin, a21026-ZsMax
    times = {r[0] for r in _rows(store, "SELECT o.time FROM observation o")}
    assert len(times) == 1


def test_realtime_converted_value_is_stored_and_unknown_codes_are_quarantined_once(store):
    devs = devices(store, 20, mix="mixed", prefix="STR")
    gas = next(d for d in devs if d.kind == "gas")
    air = next(d for d in devs if d.kind == "air")
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    cp = (f"DataTime={bj(now)};a21002-Rtd=45.5,a21002-ZsRtd=60.25,a21002-Flag=N;"
          f"a99999-Rtd=1.0,a99999-ZsRtd=2.0,a99999-Flag=N")
    with gateway(store) as h:
        c = Client(h.port)
        q1, f1 = packet(gas.mn, cp)
        # ambient air: no derived parameters, the statistic is counted, not stored
        q2, f2 = packet(air.mn, f"DataTime={bj(now)};a34004-Rtd=35,a34004-ZsRtd=36,a34004-Flag=N", st="22")
        c.send(f1 + f2)
        assert sorted(acks(c.read(2))) == sorted([q1, q2])
        c.close()
        st = h.stats()
    vals = _stored(store)
    assert vals == {("nox", "rt"): pytest.approx(45.5), ("nox_zs", "rt"): pytest.approx(60.25),
                    ("pm25", "rt"): pytest.approx(35.0)}
    assert st["not_stored_kinds"] == 1
    q = _rows(store, "SELECT field, reason FROM quarantine")
    assert len(q) == 1 and "a99999" in q[0][1]
