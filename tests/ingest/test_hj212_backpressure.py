"""Back-pressure in the HJ 212 gateway (issue 12 item 1, :mod:`ecohub.ingest.hj212.flow`): when what is read
cannot be committed, the gateway holds at most ``max_inflight_per_conn`` packets per connection and
``max_inflight`` in all, stops reading the sockets (their transports paused), and once the commits resume
every packet is answered exactly once and none is lost. No timing is asserted: the committer is held by the
test until the bounds are reached, then let go.

- :class:`FlowGate` alone (a fake clock and fake connections);
- the gateway over real TCP with a slow committer double of the ``Committer`` interface;
- the gateway with its real database committer (SQLite and PostgreSQL), the writer held.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from test_hj212_gateway import PER_PACKET, Client, count, devices, gas_cp, packet, poll

from ecohub.ingest.hj212 import GatewayConfig, start_in_thread
from ecohub.ingest.hj212.commit import Committer
from ecohub.ingest.hj212.flow import FlowGate
from ecohub.ingest.hj212.work import DONE, Work
from ecohub.store.schema import observation


# --- the gate alone ---------------------------------------------------------------------------------------------
class FakeLink:
    def __init__(self) -> None:
        self.reading = True
        self.calls: list[str] = []

    def pause_reading(self) -> bool:
        was, self.reading = self.reading, False
        self.calls.append("pause")
        return was

    def resume_reading(self) -> None:
        self.reading = True
        self.calls.append("resume")


def test_the_gate_bounds_per_connection_and_in_all_pauses_and_serves_in_order():
    async def main():
        gate = FlowGate(per_conn=2, cap=3, floor=3, target=1.0)
        a, b, c = (gate.flow(FakeLink()) for _ in range(3))
        assert gate.try_take(a) and gate.try_take(a)
        assert not gate.try_take(a)  # its own bound
        wa = asyncio.ensure_future(gate.acquire(a))
        await asyncio.sleep(0)
        assert a.paused and not a.link.reading and not wa.done()
        assert gate.try_take(b)  # another connection still has room: the gate is at 3 now
        wb = asyncio.ensure_future(gate.acquire(b))
        wc = asyncio.ensure_future(gate.acquire(c))
        await asyncio.sleep(0)
        assert b.paused and c.paused and gate.total == 3
        a.done()  # a is below its own bound, but b and c were in line first for the place in all
        await asyncio.sleep(0)
        assert wb.done() and not wa.done() and not wc.done()
        assert gate.total == 3 and b.n == 2
        b.done(2)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert wc.done() and wa.done() and gate.total == 3 and a.n == 2 and c.n == 1
        assert gate.peak == 3 and a.peak == 2
        for f in (a, b, c):  # the connection resumes reading when it reads again
            f.resume()
            assert f.link.reading and f.link.calls == ["pause", "resume"]
    asyncio.run(main())


def test_a_cancelled_wait_gives_its_place_back():
    async def main():
        gate = FlowGate(per_conn=5, cap=1, floor=1, target=1.0)
        a, b, c = (gate.flow(FakeLink()) for _ in range(3))
        assert gate.try_take(a)
        wb = asyncio.ensure_future(gate.acquire(b))
        wc = asyncio.ensure_future(gate.acquire(c))
        await asyncio.sleep(0)
        wb.cancel()  # b's connection closed while it waited
        await asyncio.gather(wb, return_exceptions=True)
        a.done()
        await asyncio.sleep(0)
        assert wc.done() and c.n == 1 and b.n == 0 and gate.total == 1
    asyncio.run(main())


def test_the_bound_in_all_follows_the_commit_rate_within_floor_and_cap():
    now = [0.0]
    gate = FlowGate(per_conn=10**6, cap=10_000, floor=500, target=2.5, clock=lambda: now[0])
    f = gate.flow(None)
    assert gate.limit == 10_000  # nothing measured yet
    for rate, want in ((2000, 5000), (100, 500), (100_000, 10_000)):
        for _ in range(10):  # ten windows of one second at `rate` packets/s
            assert gate.try_take(f) or gate.total >= gate.limit
            gate.total += rate - 1
            f.n += rate - 1
            now[0] += 1.0
            f.done(rate)
        assert abs(gate.limit - want) <= want * 0.01, (rate, gate.limit)


# --- the gateway with a slow committer double -------------------------------------------------------------------
class HeldCommitter(Committer):
    """A committer double that holds every packet until the test lets it go (``commit``), checking on every
    packet taken that the gateway never hands it more than the bounds allow."""

    def __init__(self, config, counters, latency):
        super().__init__(config, counters, latency)
        self.held: list[Work] = []
        self.committed: list[Work] = []
        self.max_held = 0
        self.max_per_conn = 0
        self.loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()

    def _take(self, item: Work) -> None:
        self.held.append(item)
        self.max_held = max(self.max_held, len(self.held))
        per_conn = Counter(id(it.conn) for it in self.held)
        self.max_per_conn = max(self.max_per_conn, max(per_conn.values()))

    def offer(self, item: Work) -> bool:
        self._take(item)
        return True

    async def submit(self, item: Work) -> None:
        self._take(item)

    def side(self, item: Work) -> None:
        pass

    def qsize(self) -> int:
        return len(self.held)

    async def drain(self, deadline: float) -> None:
        pass

    async def stop(self, timeout: float) -> None:
        pass

    def commit(self) -> None:
        """On the gateway's loop: everything held is now durable (answered, places freed)."""
        batch, self.held = self.held, []
        for it in batch:
            s = it.session
            if s is not None:
                for qn in it.qns:
                    if s.qns.get(qn) is it:
                        s.qns[qn] = DONE
            for a in it.acks:
                it.conn.send(a, 1 << 20)
            it.finish()
            self.committed.append(it)


def _frames(mn: str, n: int, base: datetime) -> tuple[list[str], bytes]:
    ps = [packet(mn, gas_cp(base + timedelta(seconds=30 * i))) for i in range(n)]
    return [q for q, _ in ps], b"".join(f for _, f in ps)


def device_socket(port: int) -> Client:
    """A device with a logger's small send buffer (the OS default on loopback grows to MBs, which would take
    all the test's data at once instead of blocking the device's write)."""
    c = Client(port)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    c.sock.settimeout(60)
    return c


def _send_all(sock, data: bytes, errors: list) -> None:
    try:
        sock.sendall(data)  # blocks while the gateway does not read: that is the point
    except OSError as e:
        errors.append(e)


def _acked(client: Client, n: int) -> list[str]:
    return [p.qn for p in client.read(n, timeout=30) if p.cn == "9014"]


def test_a_slow_committer_pauses_reading_within_the_bounds_and_loses_nothing(sqlite_store):
    store = sqlite_store
    per_conn, cap, n_conn, n_pk = 4, 10, 3, 100
    devs = devices(store, n_conn, prefix="BPD")
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    held: list[HeldCommitter] = []

    def factory(cfg, counters, latency):
        held.append(HeldCommitter(cfg, counters, latency))
        return held[0]

    cfg = GatewayConfig(max_inflight_per_conn=per_conn, max_inflight=cap, min_inflight=cap, read_chunk=2048,
                        stream_limit=2048, socket_rcvbuf=4096, command_poll=0.1)
    h = start_in_thread(store, port=0, config=cfg, committer_factory=factory)
    try:
        gw, committer = h.gateway, held[0]
        clients, sent_qns, threads, errors = [], [], [], []
        for d in devs:
            qns, data = _frames(d.mn, n_pk, base)
            c = device_socket(h.port)
            clients.append(c)
            sent_qns.append(qns)
            t = threading.Thread(target=_send_all, args=(c.sock, data, errors), daemon=True)
            t.start()
            threads.append(t)
        # nothing is committed: the gateway fills its bound and stops reading every socket
        assert poll(lambda: len(committer.held) == cap)
        assert poll(lambda: len(gw.conns) == n_conn and all(not c.writer.transport.is_reading() for c in gw.conns))
        st = h.stats()
        assert st["inflight"] == cap and st["acks_sent"] == 0
        assert st["frames"] <= cap + n_conn  # read: what is in flight, and one packet waiting per connection
        assert committer.max_held == cap and committer.max_per_conn <= per_conn
        assert all(t.is_alive() for t in threads)  # the devices' writes are blocked (their data stays there)
        # let the commits go, a bit at a time, until every packet is answered
        deadline = time.monotonic() + 60
        while len(committer.committed) < n_conn * n_pk and time.monotonic() < deadline:
            committer.loop.call_soon_threadsafe(committer.commit)
            time.sleep(0.01)
        for t in threads:
            t.join(30)
        assert not errors
        for c, qns in zip(clients, sent_qns, strict=True):
            got = _acked(c, n_pk)
            assert Counter(got) == Counter(qns)  # every packet answered, exactly once
            assert c.read(1, timeout=0.3) == []  # and nothing more
            c.close()
        assert committer.max_held <= cap and committer.max_per_conn <= per_conn
        assert sum(len(it.rows) for it in committer.committed) == n_conn * n_pk * PER_PACKET  # nothing lost
        st = h.stats()
        assert st["inflight"] == 0 and st["inflight_peak"] == cap and st["reading_pauses"] >= n_conn
    finally:
        h.stop()


# --- the gateway with its database committer, on both backends --------------------------------------------------
def test_a_held_writer_pauses_reading_within_the_bounds_and_every_packet_is_stored_once(store):
    per_conn, cap, n_conn, n_pk = 3, 7, 3, 100
    devs = devices(store, n_conn, prefix="BPW")
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    cfg = GatewayConfig(max_inflight_per_conn=per_conn, max_inflight=cap, min_inflight=cap, read_chunk=2048,
                        stream_limit=2048, socket_rcvbuf=4096, command_poll=0.1, writers=1)
    h = start_in_thread(store, port=0, config=cfg)
    try:
        gw = h.gateway
        release = threading.Event()
        real = gw._write_batch
        seen: list[tuple[int, int]] = []  # (packets in the batch written, packets in flight) per write

        def slow(batch, w):
            seen.append((sum(1 for it in batch if it.flow is not None or it.acks), gw.flow.total))
            assert release.wait(60)
            return real(batch, w)

        gw._write_batch = slow
        clients, sent_qns, threads, errors = [], [], [], []
        for d in devs:
            qns, data = _frames(d.mn, n_pk, base)
            c = device_socket(h.port)
            clients.append(c)
            sent_qns.append(qns)
            t = threading.Thread(target=_send_all, args=(c.sock, data, errors), daemon=True)
            t.start()
            threads.append(t)
        assert poll(lambda: gw.flow.total == cap)
        assert poll(lambda: len(gw.conns) == n_conn and all(not c.writer.transport.is_reading() for c in gw.conns))
        st = h.stats()
        assert st["inflight"] == cap and st["acks_sent"] == 0 and st["frames"] <= cap + n_conn
        assert seen and seen[0][0] <= cap and st["queue"] <= cap - seen[0][0]  # the writer's batch + the queue
        assert all(f.n <= per_conn for f in (c.flow for c in gw.conns))
        release.set()
        for t in threads:
            t.join(60)
        assert not errors
        for c, qns in zip(clients, sent_qns, strict=True):
            assert Counter(_acked(c, n_pk)) == Counter(qns)  # every packet answered, exactly once
            c.close()
        assert all(total <= cap for _, total in seen)
        st = h.stats()
        assert st["inflight_peak"] == cap and st["inflight"] == 0
        assert st["stored"] == n_conn * n_pk * PER_PACKET and st["duplicates"] == 0
    finally:
        h.stop()
    assert count(store, observation) == n_conn * n_pk * PER_PACKET  # nothing lost, nothing twice


@pytest.mark.parametrize("bad", [{"max_inflight_per_conn": 0}, {"max_inflight": 0}])
def test_bounds_below_one_are_refused(sqlite_store, bad):
    with pytest.raises(RuntimeError, match="in-flight bounds must be"):
        start_in_thread(sqlite_store, port=0, config=GatewayConfig(**bad))
