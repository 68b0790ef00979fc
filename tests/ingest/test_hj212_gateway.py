"""The HJ 212 gateway over real TCP (127.0.0.1): framing, authentication, ack after commit, retransmissions,
quarantine of bad items, device events, platform → device commands, bounds. Each test runs on SQLite and on
PostgreSQL (``store`` fixture) unless it is about the protocol only."""

from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from ecohub.ingest.hj212 import GatewayConfig, primary_values, start_in_thread
from ecohub.ingest.hj212.commands import enqueue_command, get_command, wait_command
from ecohub.ingest.hj212.sim import make_devices, register_devices
from ecohub.protocols.hj212 import (
    BEIJING,
    StreamFramer,
    decode,
    encode,
    exe_rtn,
    frame_segment,
    qn_rtn,
    records,
)
from ecohub.store import registry as R
from ecohub.store.schema import device_command, device_event, observation, quarantine

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
GAS = ("a21026", "a21002", "a34013", "a19001", "a00000", "a01012", "a01013", "a01014", "a21005", "a21003")
PW = "123456"
PER_PACKET = 2 * len(GAS)  # gas_cp: each factor's Rtd, and its ZsRtd into the derived <name>_zs


# --- helpers -----------------------------------------------------------------------------------------------------
def bj(dt: datetime) -> str:
    return dt.astimezone(BEIJING).strftime("%Y%m%d%H%M%S")


_qn_counter = [0]


def qn() -> str:
    _qn_counter[0] += 1
    return datetime.now(BEIJING).strftime("%Y%m%d%H%M%S") + f"{_qn_counter[0] % 1000:03d}"


def packet(mn: str, cp: str, *, cn: str = "2011", q: str | None = None, flag: int | None = 5, pw: str = PW,
           st: str = "31", extra: str = "") -> tuple[str | None, bytes]:
    """A framed packet (and its QN); ``flag=None`` gives a 2005-style header without QN and Flag."""
    if flag is None:
        seg = f"ST={st};CN={cn};PW={pw};MN={mn};{extra}CP=&&{cp}&&"
        return None, frame_segment(seg)
    q = q or qn()
    return q, frame_segment(f"QN={q};ST={st};CN={cn};PW={pw};MN={mn};Flag={flag};{extra}CP=&&{cp}&&")


def gas_cp(t: datetime, base: float = 10.0) -> str:
    items = [f"DataTime={bj(t)}"]
    for i, code in enumerate(GAS):
        items.append(f"{code}-Rtd={base + i:.3f},{code}-ZsRtd={base + i + 0.5:.3f},{code}-Flag=N")
    return ";".join(items)


class Client:
    """A device's socket (blocking, with timeouts)."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.framer = StreamFramer()
        self.got: list = []

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self, n: int, timeout: float = 10.0) -> list:
        """Wait for ``n`` packets from the gateway (fewer if the time runs out or the socket closes)."""
        deadline = time.monotonic() + timeout
        while len(self.got) < n and time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            for ev in self.framer.feed(data):
                if ev.kind == "frame":
                    self.got.append(decode(ev.data))
        out, self.got = self.got[:n], self.got[n:]
        return out

    def closed_by_peer(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return False
            except ConnectionError:
                return True
            if not data:
                return True
        return False

    def close(self) -> None:
        self.sock.close()


@contextmanager
def gateway(store, **cfg):
    base = {"command_poll": 0.1}
    base.update(cfg)
    h = start_in_thread(store, port=0, config=GatewayConfig(**base))
    try:
        yield h
    finally:
        h.stop()


def devices(store, n=2, **kw):
    devs = make_devices(n, prefix=kw.pop("prefix", "GWT"), **kw)
    register_devices(store, devs)
    return devs


def count(store, table, *where) -> int:
    with store.engine.connect() as c:
        return int(c.scalar(select(func.count()).select_from(table).where(*where)))


def poll(cond, timeout: float = 10.0, step: float = 0.02):
    """Bounded poll: the value of ``cond()`` once truthy, else the last value after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def acks(packets, cn="9014") -> list[str]:
    return [p.qn for p in packets if p.cn == cn]


# --- pure functions ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cp,cn", [
    (gas_cp(datetime(2026, 3, 1, 4, 0, tzinfo=UTC)), "2011"),
    ("DataTime=20260301120000;w01018-Min=30.1,w01018-Avg=35.5,w01018-Max=40.2,w01018-Cou=12.5,w01018-Flag=N;"
     "w00000-Avg=15.1,w00000-Cou=54360.0,w00000-Flag=N", "2061"),
    ("DataTime=20260301120000;LA-Data=55.1,LA-Flag=N", "2051"),
    ("DataTime=20260301120000;a34004-Avg=31,a34004-Flag=N;a05024-Max=80,a05024-Flag=N", "2031"),
])
def test_primary_values_are_the_records_of_the_stored_kinds(cp, cn):
    p = decode(packet("MN1", cp, cn=cn)[1])
    t, values, others = primary_values(p)
    want_kinds = {"2011": ("Rtd",)}.get(cn, ("Avg", "Data"))
    recs = [r for r in records(p) if r.kind in want_kinds]
    assert [(r.code, r.kind, r.value, r.flag) for r in recs] == [(c, k, v, f) for c, k, v, f in values]
    assert all(int(r.time.timestamp()) == t for r in recs)
    assert others == len(records(p)) - len(recs)


# --- framing, ack after commit -------------------------------------------------------------------------------------
def test_framing_survives_merged_split_and_garbage_and_acks_after_commit(store):
    dev = devices(store, 1)[0]
    now = datetime.now(UTC).replace(microsecond=0)
    with gateway(store) as h:
        c = Client(h.port)
        frames = [packet(dev.mn, gas_cp(now - timedelta(seconds=30 * i), i)) for i in range(4)]
        # garbage, then two packets in one write
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\x16\x03\x01\x00\xa5" + frames[0][1] + frames[1][1])
        # one packet over three writes
        f = frames[2][1]
        for part in (f[:5], f[5:200], f[200:]):
            c.send(part)
            time.sleep(0.02)
        # garbage between packets
        c.send(b"\r\n##xx junk ;;; \r\n" + frames[3][1])
        got = c.read(4)
        assert sorted(acks(got)) == sorted(q for q, _ in frames)
        assert all(p.st == "91" and p.flag == 4 and p.cp.text == "" and p.mn == dev.mn for p in got)
        c.close()
        assert count(store, observation) == 4 * PER_PACKET
        st = h.stats()
        assert st["stored"] == 4 * PER_PACKET and st["garbage_bytes"] > 0 and st["acks_sent"] == 4
    # a garbage sample was quarantined with its reason
    assert count(store, quarantine, quarantine.c.channel == "hj212", quarantine.c.reason.like("garbage%")) >= 1


def test_the_answer_comes_only_after_the_data_are_committed(store):
    dev = devices(store, 1)[0]
    with gateway(store) as h:
        gw = h.gateway
        release = threading.Event()
        entered = threading.Event()
        real = gw._write_batch

        def slow(batch, w):
            entered.set()
            assert release.wait(20)
            return real(batch, w)

        gw._write_batch = slow
        c = Client(h.port)
        q, f = packet(dev.mn, gas_cp(datetime.now(UTC)))
        c.send(f)
        assert entered.wait(10)
        assert c.read(1, timeout=0.5) == []  # the writer is held: no answer, nothing stored
        assert count(store, observation) == 0
        release.set()
        got = c.read(1)
        assert acks(got) == [q]
        assert count(store, observation) == PER_PACKET  # at the moment the answer arrived, the data were durable
        c.close()


def test_retransmission_with_the_same_qn_is_answered_but_not_stored_twice(store):
    dev = devices(store, 1)[0]
    q, f = packet(dev.mn, gas_cp(datetime.now(UTC)))
    with gateway(store) as h:
        c = Client(h.port)
        c.send(f)
        assert acks(c.read(1)) == [q]
        c.send(f)  # the 9014 was lost: the device sends the same packet again
        assert acks(c.read(1)) == [q]
        assert h.stats()["retransmissions"] == 1
        c.close()
    # and again to a restarted gateway (QN memory gone): the store's key makes it a duplicate
    with gateway(store) as h:
        c = Client(h.port)
        c.send(f)
        assert acks(c.read(1)) == [q]
        assert poll(lambda: h.stats()["duplicates"] == PER_PACKET)
        c.close()
    assert count(store, observation) == PER_PACKET
    with store.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM observation_conflict")) == 0


def test_packets_without_ack_flag_or_qn_are_stored_and_not_answered(store):
    dev = devices(store, 1)[0]
    t = datetime.now(UTC).replace(microsecond=0)
    with gateway(store) as h:
        c = Client(h.port)
        c.send(packet(dev.mn, gas_cp(t), flag=4)[1])  # 2017, A = 0
        c.send(packet(dev.mn, gas_cp(t - timedelta(seconds=30)), flag=None)[1])  # HJ/T 212-2005 header
        assert poll(lambda: count(store, observation) == 2 * PER_PACKET)
        assert c.read(1, timeout=0.3) == []
        c.close()


# --- authentication --------------------------------------------------------------------------------------------------
def test_unknown_mn_and_wrong_password_are_quarantined_alerted_and_not_answered(store):
    dev = devices(store, 1)[0]
    events = []
    seen = threading.Event()

    def hook(ev):
        events.append(ev)
        if ev.kind == "device_auth_failure":
            seen.set()

    cfg = GatewayConfig(command_poll=0.1, max_auth_failures=3)
    h = start_in_thread(store, port=0, config=cfg, on_event=hook)
    try:
        c = Client(h.port)
        c.send(packet("FFFFFFFFFFFFFFFFFFFFFFFF", gas_cp(datetime.now(UTC)))[1])
        assert seen.wait(10)
        assert c.read(1, timeout=0.3) == []
        c.send(packet(dev.mn, gas_cp(datetime.now(UTC)), pw="654321")[1])
        c.send(packet(dev.mn, gas_cp(datetime.now(UTC)), pw="000000")[1])
        assert c.closed_by_peer()  # the third failure closes the connection
        # the right password on a new connection works (a wrong PW is not cached as "right")
        c2 = Client(h.port)
        q, f = packet(dev.mn, gas_cp(datetime.now(UTC)))
        c2.send(f)
        assert acks(c2.read(1)) == [q]
        c2.close()
        assert h.stats()["auth_failures"] == 3
    finally:
        h.stop()
    assert [e.detail["reason"] for e in events if e.kind == "device_auth_failure"] == ["unknown_mn", "wrong_pw",
                                                                                        "wrong_pw"]
    reasons = [r for (r,) in _rows(store, "SELECT reason FROM quarantine WHERE channel = 'hj212'")]
    assert sum("not a registered device" in r for r in reasons) == 1
    assert sum("wrong PW" in r for r in reasons) == 2
    raws = [r for (r,) in _rows(store, "SELECT raw FROM quarantine WHERE reason LIKE 'auth%'")]
    assert all(";PW=***;" in r for r in raws) and not any("654321" in r for r in raws)  # passwords masked
    assert count(store, device_event, device_event.c.kind == "auth_failure") == 3
    assert count(store, observation) == PER_PACKET


def _primary_series(store) -> list[int]:
    """Series of catalogue parameters with an HJ 212 code (not the derived ``_zs/_min/_max/_cou``)."""
    return [r[0] for r in _rows(store, "SELECT s.id FROM series s JOIN parameter p ON p.id = s.parameter_id "
                                       "WHERE p.hj212_2017 IS NOT NULL")]


def _rows(store, sql):
    with store.engine.connect() as c:
        return c.execute(text(sql)).all()


# --- validation --------------------------------------------------------------------------------------------------------
def test_bad_items_are_quarantined_and_the_good_items_of_the_packet_stored(store):
    dev = devices(store, 1)[0]
    t = bj(datetime.now(UTC))
    cp = (f"DataTime={t};a21026-Rtd=12.5,a21026-Flag=N;a21002-Rtd=abc,a21002-Flag=N;"
          f"a34013-Rtd=3.2,a34013-Flag=X;a99999-Rtd=1.0,a99999-Flag=N;a19001-Rtd=9.8,a19001-Flag=N")
    with gateway(store) as h:
        c = Client(h.port)
        q, f = packet(dev.mn, cp)
        c.send(f)
        assert acks(c.read(1)) == [q]  # recorded (stored or quarantined): the device need not resend
        c.close()
        assert poll(lambda: count(store, observation) == 2)
    reasons = {r.field: r.reason for r in _rows(store, "SELECT field, reason FROM quarantine")}
    assert "not a number" in reasons["a21002-Rtd"]
    assert "data flag" in reasons["a34013-Flag"]
    assert "a99999" in reasons["a99999-Rtd"]
    stored = {r[0] for r in _rows(store, "SELECT p.hj212_2017 FROM observation o JOIN series s ON s.id = o.series_id "
                                         "JOIN parameter p ON p.id = s.parameter_id")}
    assert stored == {"a21026", "a19001"}


def test_undecodable_packets_are_quarantined_not_answered_and_the_next_one_works(store):
    dev = devices(store, 1)[0]
    q, f = packet(dev.mn, gas_cp(datetime.now(UTC)))
    bad_crc = f[:-6] + b"0000\r\n"
    future = datetime.now(UTC) + timedelta(days=3)
    q2, f2 = packet(dev.mn, gas_cp(future))
    with gateway(store) as h:
        c = Client(h.port)
        c.send(bad_crc)
        assert c.read(1, timeout=0.3) == []
        c.send(f + f2)
        assert sorted(acks(c.read(2))) == sorted([q, q2])
        c.close()
    assert count(store, observation) == PER_PACKET
    reasons = [r for (r,) in _rows(store, "SELECT reason FROM quarantine")]
    assert any(r.startswith("bad_crc") for r in reasons)
    assert any("future" in r for r in reasons)


def test_heavy_metals_in_ug_per_litre_are_stored_in_mg_per_litre(store):
    devs = devices(store, 20, mix="mixed", prefix="HMW")
    water = next(d for d in devs if d.kind == "water")
    t = bj(datetime.now(UTC))
    with gateway(store) as h:
        c = Client(h.port)
        q, f = packet(water.mn, f"DataTime={t};w20111-Rtd=0.5,w20111-Flag=N;022-Rtd=0.004,022-Flag=N", st="32")
        c.send(f)
        assert acks(c.read(1)) == [q]
        c.close()
    vals = dict(_rows(store, "SELECT p.name, o.value FROM observation o JOIN series s ON s.id = o.series_id "
                             "JOIN parameter p ON p.id = s.parameter_id"))
    assert vals["hg"] == pytest.approx(0.0005)  # w20111 (HJ 212-2017 default µg/L) → mg/L
    assert vals["cd"] == pytest.approx(0.004)  # 022 is an HJ/T 212-2005 code: mg/L as sent


# --- events ------------------------------------------------------------------------------------------------------------
def test_status_running_time_and_boot_uploads_are_kept_once(store):
    dev = devices(store, 1)[0]
    t = bj(datetime.now(UTC))
    q1, status = packet(dev.mn, f"DataTime={t};SB1-RS=1;SB2-RS=3", cn="2021")
    q2, runtime = packet(dev.mn, f"DataTime={t[:8]}000000;SB1-RT=23.5;SB2-RT=12.0", cn="2041")
    q3, boot = packet(dev.mn, f"RestartTime={t}", cn="2081")
    with gateway(store) as h:
        c = Client(h.port)
        c.send(status + runtime + boot)
        assert sorted(acks(c.read(3))) == sorted([q1, q2, q3])
        c.send(status)  # the status packet is retransmitted (its 9014 was lost)
        assert acks(c.read(1)) == [q1]
        c.close()
    rows = {r.kind: r for r in _rows(store, "SELECT kind, cn, ref, payload FROM device_event "
                                            "WHERE kind IN ('status', 'runtime', 'boot')")}
    assert set(rows) == {"status", "runtime", "boot"}
    assert count(store, device_event, device_event.c.kind == "status") == 1
    assert rows["status"].ref == q1
    assert "SB2" in str(rows["status"].payload)
    assert count(store, device_event, device_event.c.kind == "online") == 1
    assert poll(lambda: count(store, device_event, device_event.c.kind == "offline") == 1)


def test_split_message_is_answered_part_by_part_after_the_whole_is_committed(store):
    dev = devices(store, 1)[0]
    t = bj(datetime.now(UTC))
    half = len(GAS) // 2
    cps = [f"DataTime={t};" + ";".join(f"{c}-Rtd={i}.5,{c}-Flag=N" for i, c in enumerate(GAS[:half])),
           f"DataTime={t};" + ";".join(f"{c}-Rtd={i}.5,{c}-Flag=N" for i, c in enumerate(GAS[half:]))]
    parts = [packet(dev.mn, cp, flag=7, extra=f"PNUM=2;PNO={i + 1};") for i, cp in enumerate(cps)]
    with gateway(store) as h:
        c = Client(h.port)
        c.send(parts[0][1])
        assert c.read(1, timeout=0.3) == []  # part 1 alone is not stored, so not answered
        c.send(parts[1][1])
        assert sorted(acks(c.read(2))) == sorted(q for q, _ in parts)
        c.close()
    assert count(store, observation) == 10


def test_a_real_station_capture_with_tls_and_http_noise(store):
    """The unmodified TCP log of a live air station (MN=LB4200001, 86 packets, HJ/T 212-2005 headers with 2017
    codes) with HTTP probes and a TLS ClientHello between the packets, streamed as one byte stream."""
    capture = FIXTURES / "hj212_packets" / "raw_logs" / "GB212ReceiverApp_capture_2021-01-06_07.txt"
    with store.engine.begin() as conn:
        R.upsert_site(conn, R.SiteInput("LB-TEST", "air_station", "capture station", 114.5, 30.6, "130100"))
        R.add_device(conn, "LB4200001", "123456", "LB-TEST", "2005")
    data = capture.read_bytes()
    with gateway(store) as h:
        c = Client(h.port)
        for i in range(0, len(data), 1500):  # MTU-sized writes: packets cut anywhere
            c.send(data[i:i + 1500])
        assert poll(lambda: h.stats()["data_packets"] == 86, timeout=20)
        st = h.stats()
        c.close()
    assert st["garbage_bytes"] > 1000 and st["auth_failures"] == 0
    times = {r[0] for r in _rows(store, "SELECT DISTINCT o.time FROM observation o")}
    assert len(times) == 86
    # codes outside the catalogue (a34006, a34007, a34049, a99999, a05002 …) are quarantined by name
    fields = {r[0] for r in _rows(store, "SELECT field FROM quarantine WHERE reason LIKE 'unknown_code%'")}
    assert "a99999-Rtd" in fields


# --- commands ----------------------------------------------------------------------------------------------------------
def test_time_calibration_request_gets_9013_then_a_set_time_command(store):
    dev = devices(store, 1)[0]
    with gateway(store) as h:
        c = Client(h.port)
        q, f = packet(dev.mn, "", cn="1013", flag=5)
        c.send(f)
        got = c.read(2, timeout=15)
        assert [p.cn for p in got] == ["9013", "1012"]
        assert got[0].qn == q
        req = got[1]
        assert req.ack_required and "SystemTime" in req.cp
        sys_t = datetime.strptime(req.cp["SystemTime"], "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)
        assert abs((sys_t - datetime.now(BEIJING)).total_seconds()) < 10
        c.send(f)  # the device did not see the 9013 and notifies again: answered 9013, no second command
        assert [(p.cn, p.qn) for p in c.read(1)] == [("9013", q)]
        c.send(encode(qn_rtn(req, 1)) + encode(exe_rtn(req, 1)))
        cid = poll(lambda: _rows(store, "SELECT id FROM device_command WHERE status = 'done'"))
        assert cid
        c.close()
    row = get_command(store, cid[0][0])
    assert row["kind"] == "set-time" and row["result"]["exe_rtn"] == 1 and "1013" in row["requested_by"]
    assert count(store, device_event, device_event.c.kind == "time_request") == 1


def test_backfill_command_sequence_and_uploads(store):
    dev = devices(store, 1)[0]
    begin = datetime(2026, 1, 1, 0, tzinfo=BEIJING)
    with gateway(store) as h:
        c = Client(h.port)
        q0, f0 = packet(dev.mn, gas_cp(datetime.now(UTC)))
        c.send(f0)
        assert acks(c.read(1)) == [q0]
        cid = enqueue_command(store, dev.mn, "backfill", begin=begin, end=begin + timedelta(hours=2))
        req = c.read(1, timeout=10)[0]
        assert req.cn == "2061" and req.flag == 5
        assert req.cp["BeginTime"] == "20260101000000" and req.cp["EndTime"] == "20260101020000"
        c.send(encode(qn_rtn(req, 1)))
        assert poll(lambda: get_command(store, cid)["status"] == "accepted")
        ups = []
        for hour in range(3):
            t = bj(begin + timedelta(hours=hour))
            ups.append(packet(dev.mn, f"DataTime={t};a21026-Min=1,a21026-Avg=2.5,a21026-Max=3,a21026-Flag=N",
                              cn="2061"))
        c.send(b"".join(f for _, f in ups))
        assert sorted(acks(c.read(3))) == sorted(q for q, _ in ups)  # each upload answered (own QN)
        c.send(encode(exe_rtn(req, 1)))
        row = wait_command(store, cid, timeout=10)
        c.close()
    assert row["status"] == "done" and row["result"]["uploads"] == 3 and row["qn"] == req.qn
    hourly = _rows(store, "SELECT p.name, o.time FROM observation o JOIN series s ON s.id = o.series_id "
                          "JOIN parameter p ON p.id = s.parameter_id WHERE s.interval = 'hour'")
    assert sorted(n for n, _ in hourly) == ["so2_gas"] * 3 + ["so2_gas_max"] * 3 + ["so2_gas_min"] * 3
    assert len({t for _, t in hourly}) == 3


def test_a_device_that_does_not_answer_times_out_after_the_retries(store):
    dev = devices(store, 1)[0]
    with gateway(store, command_timeout=0.3, command_retries=2) as h:
        c = Client(h.port)
        q0, f0 = packet(dev.mn, gas_cp(datetime.now(UTC)))
        c.send(f0)
        assert acks(c.read(1)) == [q0]
        cid = enqueue_command(store, dev.mn, "set-interval", seconds=60)
        row = wait_command(store, cid, timeout=15)
        got = c.read(3, timeout=2)
        c.close()
    assert row["status"] == "timeout" and row["result"]["requests_sent"] == 3
    assert [p.cn for p in got] == ["1062"] * 3 and len({p.qn for p in got}) == 1  # the same request resent


def test_refused_command_and_command_api_validation(store):
    dev = devices(store, 1)[0]
    from ecohub.domain.errors import InputError

    with pytest.raises(InputError):
        enqueue_command(store, dev.mn, "set-interval", seconds=5)
    with pytest.raises(InputError):
        enqueue_command(store, "NOSUCHMN", "set-time")
    with pytest.raises(InputError):
        enqueue_command(store, dev.mn, "backfill", begin="2026-01-02T00:00", end="2026-01-01T00:00")
    with gateway(store) as h:
        c = Client(h.port)
        c.send(packet(dev.mn, gas_cp(datetime.now(UTC)))[1])
        c.read(1)
        cid = enqueue_command(store, dev.mn, "set-interval", seconds=60)
        req = c.read(1)[0]
        assert req.cn == "1062" and req.cp["RtdInterval"] == "60"
        c.send(encode(qn_rtn(req, 2)))
        row = wait_command(store, cid, timeout=10)
        c.close()
    assert row["status"] == "refused" and row["result"]["qn_rtn"] == 2
    assert count(store, device_command) == 1


# --- bounds ------------------------------------------------------------------------------------------------------------
def test_a_slow_database_slows_reading_and_the_queue_stays_bounded(store):
    dev = devices(store, 1)[0]
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    frames = [packet(dev.mn, gas_cp(base + timedelta(seconds=30 * i))) for i in range(200)]
    with gateway(store, queue_packets=5, batch_records=20, stream_limit=4096, read_chunk=2048) as h:
        gw = h.gateway
        release = threading.Event()
        real = gw._write_batch

        def slow(batch, w):
            assert release.wait(20)
            return real(batch, w)

        gw._write_batch = slow
        c = Client(h.port)
        c.sock.setblocking(False)
        data = b"".join(f for _, f in frames)
        sent = 0
        deadline = time.monotonic() + 3
        while sent < len(data) and time.monotonic() < deadline:  # write until the socket refuses more
            try:
                sent += c.sock.send(data[sent:])
            except BlockingIOError:
                time.sleep(0.01)
        peak = h.stats()
        assert peak["queue"] <= 5 and peak["frames"] < 200  # nothing grew: the gateway stopped reading
        release.set()
        c.sock.setblocking(True)
        c.send(data[sent:])
        got = c.read(200, timeout=30)
        assert len(acks(got)) == 200
        assert h.stats()["queue_peak"] <= 5
        c.close()
    assert count(store, observation) == 200 * PER_PACKET


def test_idle_connections_and_connections_over_the_limit_are_closed(store):
    dev = devices(store, 1)[0]
    with gateway(store, idle_timeout=0.5, max_connections=2) as h:
        a, b = Client(h.port), Client(h.port)
        a.send(packet(dev.mn, gas_cp(datetime.now(UTC)))[1])
        assert len(a.read(1)) == 1
        assert poll(lambda: h.stats()["connections_open"] == 2)
        third = Client(h.port)
        assert third.closed_by_peer(5)  # over the limit
        assert a.closed_by_peer(10) and b.closed_by_peer(10)  # idle
        assert h.stats()["idle_closed"] == 2 and h.stats()["connections_refused"] == 1
        for x in (a, b, third):
            x.close()


def test_an_over_fast_device_is_throttled_not_dropped(store):
    dev = devices(store, 1)[0]
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    frames = [packet(dev.mn, gas_cp(base + timedelta(seconds=30 * i))) for i in range(30)]
    with gateway(store, device_rate=50.0, device_burst=5.0) as h:
        c = Client(h.port)
        t0 = time.monotonic()
        c.send(b"".join(f for _, f in frames))
        got = c.read(30, timeout=20)
        elapsed = time.monotonic() - t0
        c.close()
        assert len(acks(got)) == 30 and h.stats()["throttled"] > 0
    assert elapsed >= (30 - 5) / 50 * 0.8  # 25 packets beyond the burst at 50/s
    assert count(store, observation) == 30 * PER_PACKET


def test_a_full_frame_beyond_the_length_limit_is_rejected(store):
    dev = devices(store, 1)[0]
    with gateway(store) as h:
        c = Client(h.port)
        c.send(b"##9999" + b"A" * 200 + b"\r\n")
        q, f = packet(dev.mn, gas_cp(datetime.now(UTC)))
        c.send(f)
        assert acks(c.read(1)) == [q]
        c.close()
        assert h.stats()["rejected_frames"] >= 1


def test_writer_process_survives_being_killed(store):
    """The writer in a child process (what ``ecohub gateway`` uses): killed mid-run, it is restarted and the
    batch retried; every answered packet is stored once."""
    import os
    import signal

    from ecohub.ingest.hj212.sim import simulate

    devs = devices(store, 10, prefix="WPK")
    with gateway(store, writer_process=True, writers=1) as h:
        slot_writer = h.gateway._all_writers[0][1]
        pid = slot_writer.pid
        assert pid is not None and pid != os.getpid()
        result = {}
        t = threading.Thread(target=lambda: result.setdefault("s", simulate(
            devs, port=h.port, rate=200, duration=4, keep_acked=True, ack_timeout=2.0, recount=10)))
        t.start()
        assert poll(lambda: count(store, observation) > 500, timeout=20)
        os.kill(pid, signal.SIGKILL)
        t.join(60)
        stats = result["s"]
        assert slot_writer.pid != pid  # a new writer process
        assert stats.failed == 0 and stats.unanswered == 0 and stats.acked == stats.sent
    n_values = len({(mn, cn, dt, code) for mn, cn, dt, vals in stats.acked_packets for code in vals})
    primary = observation.c.series_id.in_(_primary_series(store))  # the sim's records: primary values
    assert count(store, observation, primary) == n_values
