"""Connections that never become devices cannot lock devices out (issue 10 item 5): a deadline for a
connection's first valid packet, a per-address cap on connections still waiting for one, and the 64 KiB
garbage rule for garbage with no ``#`` in it. Both backends (``store`` fixture)."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime

from test_hj212_gateway import Client, acks, count, devices, gas_cp, gateway, packet, poll

from ecohub.store.schema import quarantine


def silent(port: int, source: str = "127.0.0.1") -> Client:
    """A socket that connects (from ``source``, another loopback address) and never sends a byte."""
    c = Client.__new__(Client)
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    c.sock, c.got = s, []
    return c


def test_a_connection_without_a_valid_packet_is_closed_at_the_first_packet_deadline(store):
    dev = devices(store, 1)[0]
    with gateway(store, first_packet_timeout=4.0, idle_timeout=600) as h:
        device = Client(h.port)
        q, f = packet(dev.mn, gas_cp(datetime.now(UTC)))
        device.send(f)
        assert acks(device.read(1)) == [q]  # authenticated within the deadline (4 s: argon2 on a busy machine)
        quiet = silent(h.port)
        t0 = time.monotonic()
        assert quiet.closed_by_peer(30)  # long before the idle timeout (600 s)
        assert time.monotonic() - t0 >= 3.0  # not before its deadline
        assert h.stats()["first_packet_closed"] == 1
        assert not device.closed_by_peer(0.5)  # a device that sent a valid packet is not affected
        q2, f2 = packet(dev.mn, gas_cp(datetime.now(UTC)))
        device.send(f2)
        assert acks(device.read(1)) == [q2]
        for x in (quiet, device):
            x.close()


def test_silent_sockets_from_one_address_cannot_fill_the_gateway(store):
    """50 silent sockets against ``--max-connections 50`` made the gateway drop a real device; here 5 against
    5, from one address, with at most 2 waiting per address: the device still gets in and is answered."""
    dev = devices(store, 1)[0]
    with gateway(store, max_connections=5, max_pending_per_address=2, first_packet_timeout=600) as h:
        attackers = [silent(h.port, "127.0.0.2") for _ in range(5)]
        refused = [a for a in attackers if a.closed_by_peer(2)]
        assert len(refused) == 3 and h.stats()["address_refused"] == 3
        device = Client(h.port)  # from 127.0.0.1
        q, f = packet(dev.mn, gas_cp(datetime.now(UTC)))
        device.send(f)
        assert acks(device.read(1)) == [q]
        # once authenticated it no longer counts as waiting: two more may wait from 127.0.0.1, not three
        more = [silent(h.port) for _ in range(3)]
        assert sum(m.closed_by_peer(2) for m in more) == 1
        assert poll(lambda: h.stats()["connections_open"] == 5)
        for x in (*attackers, device, *more):
            x.close()


def test_garbage_without_a_hash_sign_closes_the_connection_at_64_kib(store):
    with gateway(store, idle_timeout=600) as h:
        c = Client(h.port)
        chunk = b"x" * 4096
        sent = 0
        try:
            while sent <= 70_000:
                c.send(chunk)
                sent += len(chunk)
        except OSError:  # closed under our feet: that is the point
            pass
        assert c.closed_by_peer(10)
        assert h.stats()["garbage_bytes"] > 65536 and h.stats()["connections_open"] == 0
        c.close()
    assert count(store, quarantine, quarantine.c.channel == "hj212", quarantine.c.reason.like("garbage%")) == 1


def test_a_slow_trickle_of_garbage_is_closed_too(store):
    """No '#' ever, in small writes: the rule counts what the framer holds back, not only reported garbage."""
    with gateway(store, idle_timeout=600, max_garbage=1000) as h:
        c = Client(h.port)
        closed = False
        for _ in range(40):
            try:
                c.send(b"AT+CSQ\r\n" * 8)
            except OSError:
                closed = True
                break
            time.sleep(0.01)
        assert closed or c.closed_by_peer(10)
        c.close()
