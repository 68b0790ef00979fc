"""HJ 212 forwarding: the outbox the gateway fills, the frames for a destination (original or re-encoded with an
MN/PW mapping, parameter selection, HJ 212-2025 resend marker), status, metrics, and a re-encoded stream into a
second real gateway."""

from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy import func, select

from ecohub.domain.errors import InputError
from ecohub.exchange.forward import (
    add_destination,
    destination_status,
    forwarding_summary,
    remove_destination,
    set_enabled,
)
from ecohub.exchange.forwarder import ForwarderConfig, ForwarderHandle
from ecohub.exchange.wire import build
from ecohub.ingest.hj212.run import start_in_thread
from ecohub.ingest.hj212.sim import make_devices, register_devices, simulate
from ecohub.protocols.hj212 import DataArea, Dialect, HJ212Error, Packet, decode, encode
from ecohub.store.db import Store
from ecohub.store.schema import observation, parameter, series, site
from ecohub.store.schema_exchange import forward_outbox

MN = "010000A8900016F000169DC0"


def upload(qn: str = "20261204101500123", flag: int = 5, mn: str = MN, **factors) -> bytes:
    cp = DataArea.build({"DataTime": "20261204101500"},
                        factors or {"a21026": {"Rtd": 12.5, "Flag": "N"}, "a34013": {"Rtd": 3.1, "Flag": "N"}})
    return encode(Packet("31", "2011", "123456", mn, qn, flag, cp=cp))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- frames for a destination ----------------------------------------------------------------------------------
def test_original_mode_sends_the_packet_byte_for_byte_and_reads_its_ack_flag():
    frame = upload()
    o = build({"mode": "original"}, MN, frame.decode(), resend=True)
    assert o.frame == frame and o.ack and o.qn == "20261204101500123" and o.mn == MN
    o = build({"mode": "original"}, MN, upload(flag=4).decode().rstrip("\r\n"), resend=False)
    assert not o.ack and o.frame.endswith(b"\r\n")


def test_reencoded_packet_has_the_destinations_mn_pw_edition_and_parameters():
    dest = {"mode": "reencode", "edition": "2017", "ack": True, "parameters": ["a21026"], "pw": None,
            "mn_map": {MN: {"mn": "UP0000000000000000000001", "pw": "654321"}}}
    o = build(dest, MN, upload(flag=4).decode(), resend=False)
    p = decode(o.frame)
    assert (p.mn, p.pw, p.version, p.ack_required, p.qn) == ("UP0000000000000000000001", "654321", "2017", True,
                                                             "20261204101500123")
    assert set(p.cp.factors) == {"a21026"} and p.cp.fields["DataTime"] == "20261204101500"
    assert o.mn == "UP0000000000000000000001" and o.ack
    # HJ 212-2025: version bits 000010 and, for a packet sent late or again, the resend marker RF=1
    o25 = decode(build({**dest, "edition": "2025"}, MN, upload().decode(), resend=True).frame)
    assert o25.version == "2025" and o25.resend is True
    assert decode(build({**dest, "edition": "2025"}, MN, upload().decode(), resend=False).frame).resend is None
    # an unmapped device keeps its MN; the destination's PW replaces the device's
    p = decode(build({**dest, "mn_map": None, "pw": "000111", "parameters": None}, MN, upload().decode(),
                     resend=False).frame)
    assert (p.mn, p.pw, set(p.cp.factors)) == (MN, "000111", {"a21026", "a34013"})


def test_what_a_destination_does_not_take_is_not_sent_and_an_encrypted_cp_is_refused():
    dest = {"mode": "reencode", "edition": "2017", "parameters": ["w01018"]}
    assert build(dest, MN, upload().decode(), resend=False) is None  # none of its parameters
    boot = encode(Packet("31", "2081", "123456", MN, "20261204101500123", 5,
                         cp=DataArea.build({"DataTime": "20261204101500", "RestartTime": "20261204100000"})))
    assert decode(build(dest, MN, boot.decode(), resend=False).frame).cn == "2081"  # no factors: forwarded
    sm4 = Dialect(sm4_key="0123456789abcdef0123456789abcdef")
    enc = encode(Packet("31", "2011", "123456", MN, "20261204101500123", 9, cp=decode(upload()).cp), sm4)
    assert decode(enc).cp.encrypted
    with pytest.raises(HJ212Error, match="encrypted"):
        build({**dest, "parameters": None}, MN, enc.decode(), resend=False)
    assert build({"mode": "original"}, MN, enc.decode(), resend=False).frame == enc  # original: as received


def test_destination_input_is_checked(sqlite_store):
    with pytest.raises(InputError, match="port"):
        add_destination(sqlite_store, "x", "127.0.0.1", 70000)
    with pytest.raises(InputError, match="reencode"):
        add_destination(sqlite_store, "x", "127.0.0.1", 6010, parameters=["a21026"])
    with pytest.raises(InputError, match="edition"):
        add_destination(sqlite_store, "x", "127.0.0.1", 6010, edition="2005", mode="reencode")
    with pytest.raises(InputError, match="devices"):
        add_destination(sqlite_store, "x", "127.0.0.1", 6010, devices=["bad;mn"])
    add_destination(sqlite_store, "x", "127.0.0.1", 6010)
    with pytest.raises(InputError, match="exists"):
        add_destination(sqlite_store, "x", "127.0.0.1", 6011)


# --- the outbox the gateway fills ------------------------------------------------------------------------------
def outbox(store: Store) -> list:
    with store.engine.connect() as c:
        return c.execute(select(forward_outbox.c.destination_id, forward_outbox.c.mn, forward_outbox.c.cn,
                                forward_outbox.c.ref, forward_outbox.c.status).order_by(forward_outbox.c.id)).all()


def test_gateway_queues_each_upload_once_per_selecting_destination(store):
    devs = make_devices(3, prefix="OBX")
    register_devices(store, devs)
    all_ = add_destination(store, "all", "127.0.0.1", free_port())
    one = add_destination(store, "one", "127.0.0.1", free_port(), devices=[devs[0].mn])
    off = add_destination(store, "off", "127.0.0.1", free_port())
    set_enabled(store, "off", False)
    with start_in_thread(store, port=0) as gw:
        stats = simulate(devs, port=gw.port, rate=30, duration=2, keep_acked=True, seed=3)
    rows = outbox(store)
    assert stats.acked == stats.sent > 0
    by_dest: dict[int, list] = {}
    for r in rows:
        by_dest.setdefault(r.destination_id, []).append(r)
    assert off["id"] not in by_dest  # a disabled destination takes nothing
    assert {r.mn for r in by_dest[one["id"]]} == {devs[0].mn}
    assert [r.ref for r in by_dest[one["id"]]] == [r.ref for r in by_dest[all_["id"]] if r.mn == devs[0].mn]
    assert all(r.cn[0] == "2" and r.status == "pending" for r in rows)
    # the data packets the gateway answered are all there, once (the key is unique)
    assert len(by_dest[all_["id"]]) >= len(stats.acked_packets)
    assert len({(r.mn, r.cn, r.ref) for r in by_dest[all_["id"]]}) == len(by_dest[all_["id"]])
    # status while nobody sends: the backlog and its age
    st = {s["name"]: s for s in destination_status(store)}
    assert st["all"]["backlog"] == len(by_dest[all_["id"]]) and st["all"]["lag_seconds"] >= 0
    assert st["off"]["backlog"] == 0 and st["off"]["enabled"] is False
    assert "host" not in forwarding_summary(store)[0]
    assert remove_destination(store, "one") == len(by_dest[one["id"]])


def test_a_retransmitted_packet_is_queued_once(store):
    devs = make_devices(1, prefix="RTX")
    register_devices(store, devs)
    add_destination(store, "up", "127.0.0.1", free_port())
    frame = upload(mn=devs[0].mn, qn="20261204101500999", a21026={"Rtd": 1.0, "Flag": "N"})
    frame = encode(Packet("31", "2011", devs[0].password, devs[0].mn, "20261204101500999", 5,
                          cp=decode(frame).cp))
    with start_in_thread(store, port=0) as gw, socket.create_connection(("127.0.0.1", gw.port)) as s:
        for _ in range(3):
            s.sendall(frame)
            s.settimeout(10)
            assert b"CN=9014" in s.recv(4096)
    rows = outbox(store)
    assert [(r.mn, r.ref) for r in rows] == [(devs[0].mn, "20261204101500999")]


# --- a re-encoded stream into a second gateway -----------------------------------------------------------------
def test_reencoded_stream_reaches_the_upstream_under_its_own_mn_with_the_selected_parameters(sqlite_store, tmp_path):
    local = sqlite_store
    upstream = Store.open(f"sqlite:///{tmp_path / 'up.db'}")
    upstream.init()
    devs = make_devices(4, prefix="LOC")
    remote = make_devices(4, prefix="UPS", password="654321")
    register_devices(local, devs)
    register_devices(upstream, remote)
    with start_in_thread(upstream, port=0) as up:
        add_destination(local, "nation", "127.0.0.1", up.port, mode="reencode", edition="2025",
                        parameters=["a21026", "a34013"], devices=[d.mn for d in devs[:3]],
                        mn_map={d.mn: {"mn": r.mn, "pw": r.password} for d, r in zip(devs, remote, strict=True)})
        fw = ForwarderHandle(local, ForwarderConfig(ack_timeout=2.0, reload=0.2, poll=0.05))
        try:
            with start_in_thread(local, port=0) as gw:
                stats = simulate(devs, port=gw.port, rate=40, duration=3, keep_acked=True, seed=9)
            deadline = time.monotonic() + 30
            while destination_status(local)[0]["backlog"] and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            fw.stop()
        st = destination_status(local)[0]
        assert stats.acked == stats.sent and st["backlog"] == 0 and st["acked"] == st["sent"] > 0
    q = (select(site.c.code, parameter.c.hj212_2017, series.c.interval, observation.c.time, observation.c.value)
         .select_from(observation.join(series, series.c.id == observation.c.series_id)
                      .join(site, site.c.id == series.c.site_id)
                      .join(parameter, parameter.c.id == series.c.parameter_id))
         .where(parameter.c.hj212_2017.is_not(None)))
    with local.engine.connect() as c:
        mine = {(r[0], r[1], r[2], r[3]): r[4] for r in c.execute(q)}
    with upstream.engine.connect() as c:
        theirs = {(r[0], r[1], r[2], r[3]): r[4] for r in c.execute(q)}
        n_up = c.scalar(select(func.count()).select_from(observation))
    to_remote = {d.site_code: r.site_code for d, r in zip(devs[:3], remote[:3], strict=True)}
    expected = {(to_remote[k[0]], *k[1:]): v for k, v in mine.items()
                if k[0] in to_remote and k[1] in ("a21026", "a34013")}
    assert len(expected) > 50
    assert theirs == expected  # only the selected devices and parameters, under the upstream's own devices
    assert n_up >= len(theirs)
