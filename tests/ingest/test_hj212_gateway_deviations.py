"""Deviations from the standard at the gateway (issue 10 item 1, gateway side): a lenient device's deviating
packet is accepted, answered as it asked and the deviation recorded per device (in memory and as a
``device_event`` the status page reads); a strict device is held to the standard; every HJ 212-2025 SM4
variant the simulator can write is accepted — by detection, or by the device's registered variant.
Both backends (``store`` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from test_hj212_gateway import PER_PACKET, Client, acks, count, devices, gas_cp, gateway, packet, poll

from ecohub.ingest.hj212.sim import make_devices, register_devices, simulate
from ecohub.ingest.hj212.status import device_status
from ecohub.protocols.hj212 import SM4_PRESETS
from ecohub.store.schema import device, device_event, observation, quarantine

KEY = "0123456789ABCDEF0123456789ABCDEF"


def test_a_deviating_packet_is_accepted_answered_and_recorded_for_its_device(store):
    dev = devices(store, 1)[0]
    with gateway(store) as h:
        c = Client(h.port)
        # Flag=7: version 2017, A (answer) and D (split) — but no PNUM/PNO: taken as a whole packet
        q, f = packet(dev.mn, gas_cp(datetime.now(UTC)), flag=7)
        c.send(f)
        assert acks(c.read(1)) == [q]  # answered as it asked (Flag.A)
        assert count(store, observation) == PER_PACKET
        got = h.gateway.deviations(dev.mn)[dev.mn]
        assert [(d["code"], d["count"], d["field"]) for d in got] == [("split_flag_without_parts", 1, "PNUM")]
        q2, f2 = packet(dev.mn, gas_cp(datetime.now(UTC)), flag=7)
        c.send(f2)
        assert acks(c.read(1)) == [q2]
        assert h.gateway.deviations(dev.mn)[dev.mn][0]["count"] == 2
        assert h.stats()["packets_with_warnings"] == 2
        c.close()
    # recorded once while connected (at most hourly), and the rest when the device went offline
    with store.engine.connect() as conn:
        rows = conn.execute(select(device_event.c.payload).where(device_event.c.kind == "deviation",
                                                                 device_event.c.mn == dev.mn)).scalars().all()
    assert sorted(r["count"] for r in rows) == [1, 1] and {r["code"] for r in rows} == {"split_flag_without_parts"}
    status = {d["mn"]: d for d in device_status(store)}
    assert status[dev.mn]["deviations"][0]["code"] == "split_flag_without_parts"
    assert status[dev.mn]["deviations"][0]["count"] == 2 and status[dev.mn]["dialect"] == "lenient"


def test_a_strict_device_is_held_to_the_standard(store):
    dev = devices(store, 1, prefix="STR")[0]
    with store.engine.begin() as conn:
        conn.execute(update(device).where(device.c.mn == dev.mn).values(dialect="strict"))
    with gateway(store) as h:
        c = Client(h.port)
        q, f = packet(dev.mn, gas_cp(datetime.now(UTC)), flag=7)
        c.send(f)
        assert c.read(1, timeout=1.5) == []  # not answered: the device keeps its data
        q2, f2 = packet(dev.mn, gas_cp(datetime.now(UTC)))  # a conforming packet is fine
        c.send(f2)
        assert acks(c.read(1)) == [q2]
        assert h.stats()["strict_rejected"] == 1
        c.close()
    assert count(store, observation) == PER_PACKET
    assert poll(lambda: count(store, quarantine, quarantine.c.reason.like("missing_field%PNUM%")) == 1)


@pytest.mark.parametrize("registered", [True, False], ids=["variant registered", "variant detected"])
def test_every_sm4_variant_of_the_simulator_is_accepted(store, registered):
    names = sorted(SM4_PRESETS)
    devs = []
    for i, name in enumerate(names):
        devs += make_devices(2, protocol="2025", prefix=f"V{i}{'R' if registered else 'D'}", sm4_key=KEY,
                             sm4_variant=name)
    register_devices(store, devs, register_variant=registered)
    with gateway(store) as h:
        stats = simulate(devs, port=h.port, rate=40, duration=2, mix="realtime", keep_acked=True, ack_timeout=3,
                         recount=2)
        deviations = h.gateway.deviations()
    assert stats.failed == 0 and stats.unanswered == 0 and stats.acked == stats.sent > len(devs)
    assert {mn for mn, *_ in stats.acked_packets} == {d.mn for d in devs}  # every variant's devices got in
    assert count(store, quarantine) == 0
    sm4 = {mn for mn, ds in deviations.items() if any(d["code"].startswith("sm4_") for d in ds)}
    by_variant = {name: {d.mn for d in devs if d.sm4_variant == name} for name in names}
    if registered:
        assert sm4 == set()  # the device's own variant: nothing deviates
    else:
        # detected: every variant but the standard's text is a deviation of the device, recorded
        assert sm4 == set().union(*(mns for name, mns in by_variant.items() if name != "standard"))
    with store.engine.connect() as conn:
        n = conn.scalar(select(observation.c.series_id).limit(1))
    assert n is not None
