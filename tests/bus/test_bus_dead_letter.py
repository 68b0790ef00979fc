"""The writer side of the bus: a valid message is written and acked after the commit; a message that fails
validation goes to the dead-letter stream with its reason (and is acked, so it does not come back); a
re-publish of the same records inside the duplicate window is dropped by JetStream; on both backends."""

from __future__ import annotations

import asyncio

import nats
from sqlalchemy import func, select

from ecohub.bus.codec import BusMessage, encode, msg_id
from ecohub.bus.consume import BusWriter
from ecohub.bus.streams import DEAD_STREAM, STREAM, BusConfig, ensure_streams
from ecohub.store.schema import observation, parameter


def _ids(store) -> tuple[int, int]:
    from ecohub.ingest.hj212.sim import make_devices, register_devices

    devs = make_devices(1, prefix="DLQ")
    register_devices(store, devs)
    from ecohub.store.schema import site

    with store.engine.connect() as c:
        sid = c.scalar(select(site.c.id).where(site.c.code == devs[0].site_code))
        pid = c.scalar(select(parameter.c.id).where(parameter.c.hj212_2017 == "a34004"))
    return int(sid), int(pid)


def test_writer_writes_acks_and_dead_letters_with_reason(store, nats_server):
    sid, pid = _ids(store)
    cfg = BusConfig(url=nats_server.url, fetch=16)

    async def main() -> tuple[list, dict, int, int]:
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        await ensure_streams(js, cfg)
        good = encode(BusMessage(rows=[((sid, pid, "minute"), 1_767_000_000 + 60 * i, 10.0 + i, "N")
                                       for i in range(5)]))
        for _ in range(2):  # a re-publish of the same records: dropped by the duplicate window
            ack = await js.publish("ecohub.ingest.air.320100", good, headers={"Nats-Msg-Id": msg_id(good)})
        assert ack.duplicate
        await js.publish("ecohub.ingest.air.320100", b"\xc1 not msgpack")
        await js.publish("ecohub.ingest.air.320100",
                         encode(BusMessage(rows=[((sid, pid, "week"), 1_767_000_000, 1.0, "N")])))
        w = BusWriter(store, cfg)
        stop = asyncio.Event()
        task = asyncio.create_task(w.run(stop))
        for _ in range(200):  # bounded wait for the three messages
            if w.counters["acked"] >= 3:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await task
        dead = await js.pull_subscribe("ecohub.dead.>", durable="t", stream=DEAD_STREAM)
        msgs = await dead.fetch(10, timeout=2)
        reasons = [(m.subject, m.headers.get("Ecohub-Reason", "")) for m in msgs]
        info = await js.consumer_info(STREAM, cfg.durable)
        await nc.close()
        return reasons, w.counters, info.num_pending, info.num_ack_pending

    reasons, counters, pending, ack_pending = asyncio.run(main())
    assert counters["acked"] == 3 and counters["dead"] == 2 and counters["stored"] == 5
    assert pending == 0 and ack_pending == 0  # all acked: nothing comes back
    assert sorted(s for s, _ in reasons) == ["ecohub.dead.invalid", "ecohub.dead.invalid"]
    text = " | ".join(r for _, r in reasons)
    assert "body: not msgpack" in text and "r[0].interval: unknown interval 'week'" in text
    with store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(observation)) == 5
