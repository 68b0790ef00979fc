"""One simulated data logger on the wire: connects, uploads its mix, waits for its answers and retransmits,
reconnects, and answers the platform's commands (9011 QnRtn → uploads → 9012 ExeRtn)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import time
from collections import OrderedDict
from datetime import datetime

from ecohub.ingest.hj212.sim.model import SimDevice, _bj, _fmt, _Values
from ecohub.ingest.hj212.sim.stats import Simulation
from ecohub.protocols.hj212 import (
    BEIJING,
    HJ212Error,
    Packet,
    Sm4Variant,
    StreamFramer,
    decode,
    encode,
    encrypt_cp,
    encrypt_frame,
    exe_rtn,
    frame_segment,
    notify_ack,
    qn_rtn,
)
from ecohub.protocols.hj212.times import format_qn


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
    def __init__(self, dev: SimDevice, sim: Simulation, index: int):
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
        self.last_qn_ms = 0
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
        """The device clock in milliseconds; a device sending more than one packet per millisecond runs its QN
        ahead by a millisecond per packet (a valid time: ``…59999`` is followed by the next minute's ``00000``,
        not by an impossible second 60, which the gateway refuses)."""
        ms = max(int(self.now() * 1000), self.last_qn_ms + 1)
        self.last_qn_ms = ms
        return format_qn(datetime.fromtimestamp(ms / 1000, BEIJING).replace(microsecond=ms % 1000 * 1000))

    # building packets
    def build(self, cn: str, cp_items: list[str], *, ack: bool = True) -> tuple[str | None, bytes, int | None]:
        dev = self.dev
        cp = ";".join(cp_items)
        variant = None
        if dev.sm4_key and dev.protocol == "2025" and cn[0] == "2":
            if dev.sm4_variant:
                variant = Sm4Variant.parse(dev.sm4_variant)  # the whole frame: CRC and length per variant
            else:
                cp = encrypt_cp(cp, dev.sm4_key)
        if dev.protocol == "2005":
            seg = f"ST={dev.st};CN={cn};PW={dev.password};MN={dev.mn};CP=&&{cp}&&"
            return None, frame_segment(seg), None
        qn = self.new_qn()
        flag = (self.version_bits << 2) | (1 if ack else 0)
        seg = f"QN={qn};ST={dev.st};CN={cn};PW={dev.password};MN={dev.mn};Flag={flag};CP=&&{cp}&&"
        if variant is not None:
            assert dev.sm4_key is not None
            return qn, encrypt_frame(seg, dev.sm4_key, variant), flag
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
        if sim.mix_hourly:  # 2061 only: one hour of device time per packet (a time-compressed year)
            h = sim.t0 + k * 3600
            items, rec = self.data_items(h, self.values.factors_period(h, 3600))
            return "2061", items, rec, h
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
        self.pending[qn] = p  # type: ignore[index]  # None only for 2005 packets, never answered
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
        if self.sim.sndbuf:  # the logger's write blocks while its socket is full: sent when the socket took it
            await self._transmit(p)
            now = time.monotonic()
            if p.attempts == 1:
                p.first = now
            p.last = now
            return
        await self._transmit(p)

    async def _transmit(self, p: _Pending) -> None:
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
            if w.transport.get_write_buffer_size() > (0 if sim.sndbuf else 65536):
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
            pend = self.pending.pop(p.qn, None) if p.qn is not None else None
            if pend is not None:
                st = self.sim.stats
                st.acked += 1
                now = time.monotonic()
                st.last_ack = now
                st.latencies.append(now - pend.first)
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
                self.rtd_interval = int(p.cp.get("RtdInterval"))  # type: ignore[arg-type]  # None: TypeError
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
            if sim.sndbuf:
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sim.sndbuf)
                writer.transport.set_write_buffer_limits(high=0)  # drain() waits until the socket took it all
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
            if now >= gen_until or (sim.packets is not None and self.k >= sim.packets):
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
        for task in list(self.tasks):
            task.cancel()
        if self.reader_task is not None:
            self.reader_task.cancel()
        if self.writer is not None:
            w, self.writer = self.writer, None
            w.close()
            with contextlib.suppress(Exception):
                await w.wait_closed()

