"""Platform → device commands (HJ 212-2017 §6.5, Appendix C): a command queue in the database
(``device_command``) and the runner the gateway uses to execute it.

Kinds:

| kind | CN | parameters | what the device does |
|---|---|---|---|
| ``backfill`` (补数) | 2061 (hourly, default), 2051 (minute), 2031 (daily) | ``begin``, ``end`` (Beijing time) | 9011, one upload per period (each answered 9014 after commit), 9012 |
| ``set-interval`` | 1062 | ``seconds`` (30–3600) | 9011, sets its real-time interval, 9012 |
| ``set-time`` | 1012 | — (the platform's clock when sent) | 9011, sets its clock, 9012 |

Status of a command: ``pending`` (queued; waits until its device is connected) → ``sent`` (request sent
with Flag.A = 1) → ``accepted`` (9011 QnRtn=1, or the first upload) → ``done`` (9012 ExeRtn=1); or
``refused`` (QnRtn≠1), ``failed`` (ExeRtn≠1, or the device went away ``max_attempts`` times),
``timeout`` (no 9011 after the resends of HJ 212-2017 Table 1 — 10 s × 3 by default —, no 9012 within the
execution timeout, or still pending after ``pending_ttl``), ``cancelled``.

    >>> cid = enqueue_command(store, "010000A89000130283DE0101", "backfill",
    ...                       begin="2026-01-01T00:00+08:00", end="2026-01-01T06:00+08:00")
    >>> wait_command(store, cid, timeout=120)["status"]
    'done'
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update

from ecohub.domain.errors import InputError
from ecohub.protocols.hj212 import (
    BEIJING,
    Exchange,
    HJ212Error,
    Packet,
    encode,
    format_time,
    history_request,
    parse_time,
    set_rtd_interval,
    set_time,
)
from ecohub.store.db import Store
from ecohub.store.schema import device, device_command
from ecohub.store.tx import write_tx

__all__ = [
    "ActiveCommand",
    "CommandLoop",
    "CommandRunner",
    "FINAL_STATES",
    "begin_write",
    "KINDS",
    "cancel_command",
    "enqueue_command",
    "get_command",
    "list_commands",
    "wait_command",
]

#: kind → CN of the request (backfill: 2061 unless another history CN is given)
KINDS = {"backfill": "2061", "set-interval": "1062", "set-time": "1012"}
HISTORY_CNS = {"2051": "min", "2061": "hour", "2031": "day"}
FINAL_STATES = frozenset({"refused", "done", "failed", "timeout", "cancelled"})
#: execution timeout (no 9012 after 9011) per kind, seconds
EXEC_TIMEOUTS = {"backfill": 600.0, "set-interval": 60.0, "set-time": 60.0}


def _now() -> datetime:
    return datetime.now(UTC)


def begin_write(store: Store):
    """A write transaction with the write lock up front (:func:`ecohub.store.tx.write_tx`: ``BEGIN IMMEDIATE``
    on SQLite, bounded retry while locked) so that the gateway's threads queue instead of failing."""
    return write_tx(store)


def _hj_time(value: datetime | str, name: str) -> str:
    """A time parameter as HJ 212 text (Beijing ``YYYYMMDDhhmmss``): aware datetimes are converted,
    naive ones and ISO text without offset are Beijing time, 14-digit text is taken as is."""
    if isinstance(value, datetime):
        return format_time(value if value.tzinfo else value.replace(tzinfo=BEIJING))
    text = str(value).strip()
    if text.isdigit() and len(text) == 14:
        try:
            parse_time(text, name)
        except HJ212Error as e:
            raise InputError(name, value, str(e)) from None
        return text
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(name, value, "not a time: give ISO-8601 (2026-01-01T08:00[+08:00]) or YYYYMMDDhhmmss "
                                      "(Beijing time)") from None
    return format_time(dt if dt.tzinfo else dt.replace(tzinfo=BEIJING))


def enqueue_command(store: Store, mn: str, kind: str, *, requested_by: str | None = None, **params) -> int:
    """Queue a command for device ``mn``; returns its id. The gateway sends it when the device is connected.

    ``backfill``: ``begin``, ``end`` (datetime, ISO text or ``YYYYMMDDhhmmss`` Beijing time), ``cn``
    (``"2061"`` hourly — default —, ``"2051"`` minute, ``"2031"`` daily). ``set-interval``: ``seconds``
    (30–3600). ``set-time``: optional ``pol_id`` (one instrument). Raises :class:`InputError`.
    """
    if kind not in KINDS:
        raise InputError("kind", kind, "must be one of " + ", ".join(KINDS))
    cn = KINDS[kind]
    stored: dict[str, object] = {}
    if kind == "backfill":
        cn = str(params.pop("cn", None) or "2061")
        if cn not in HISTORY_CNS:
            raise InputError("cn", cn, "history data CN must be 2061 (hourly), 2051 (minute) or 2031 (daily)")
        if "begin" not in params or "end" not in params:
            raise InputError("begin/end", None, "a backfill needs begin and end times")
        b, e = _hj_time(params.pop("begin"), "begin"), _hj_time(params.pop("end"), "end")
        if b > e:
            raise InputError("begin", b, f"is after end {e}")
        stored = {"begin": b, "end": e}
    elif kind == "set-interval":
        seconds = params.pop("seconds", None)
        if not isinstance(seconds, int) or isinstance(seconds, bool) or not 30 <= seconds <= 3600:
            raise InputError("seconds", seconds, "RtdInterval must be an integer of 30-3600 seconds (HJ 212-2017)")
        stored = {"seconds": seconds}
    else:
        pol = params.pop("pol_id", None)
        if pol:
            stored = {"pol_id": str(pol)}
    if params:
        raise InputError("params", ", ".join(params), f"not a parameter of {kind}")
    with begin_write(store) as conn:
        if conn.scalar(select(device.c.id).where(device.c.mn == mn)) is None:
            raise InputError("mn", mn, "not a registered device (ecohub device add)")
        return int(conn.execute(device_command.insert().values(
            mn=mn, kind=kind, cn=cn, params=stored, status="pending", attempts=0,
            requested_by=(requested_by or "")[:100] or None, created_at=_now())).inserted_primary_key[0])


def get_command(store: Store, command_id: int) -> dict | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(device_command).where(device_command.c.id == command_id)).mappings().first()
    return dict(r) if r is not None else None


def list_commands(store: Store, mn: str | None = None, status: str | None = None, limit: int = 50) -> list[dict]:
    q = select(device_command).order_by(device_command.c.id.desc()).limit(limit)
    if mn:
        q = q.where(device_command.c.mn == mn)
    if status:
        q = q.where(device_command.c.status == status)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def cancel_command(store: Store, command_id: int) -> bool:
    """Cancel a command that was not sent yet; True if it was cancelled."""
    with begin_write(store) as conn:
        n = conn.execute(update(device_command).where(device_command.c.id == command_id,
                                                      device_command.c.status == "pending")
                         .values(status="cancelled", finished_at=_now())).rowcount
    return bool(n)


def wait_command(store: Store, command_id: int, timeout: float = 60.0, poll: float = 0.25) -> dict:
    """Poll the command's row until it reaches a final state or ``timeout`` passes; returns the row.
    (The gateway may run in another process, so the database is the only channel.)"""
    deadline = time.monotonic() + timeout
    while True:
        row = get_command(store, command_id)
        if row is None:
            raise InputError("id", command_id, "no such command")
        if row["status"] in FINAL_STATES or time.monotonic() >= deadline:
            return row
        time.sleep(min(poll, max(deadline - time.monotonic(), 0.01)))


# --- the runner (used by the gateway) ----------------------------------------------------------------------
@dataclass
class ActiveCommand:
    """A command being executed: its row id, kind and the codec's exchange state machine."""

    id: int
    mn: str
    kind: str
    exchange: Exchange
    attempts: int
    uploads: int = 0
    reported: str = "sent"  # last state written to the database
    extra: dict = field(default_factory=dict)


Update = tuple[int, dict]  # (command id, column values)


class CommandRunner:
    """Executes queued commands for connected devices, one at a time per device.

    The gateway calls :meth:`due` (blocking: database) for the MNs it has connections for,
    :meth:`start` to build the request, :meth:`on_packet` for every 9011/9012 and data upload of the
    device, :meth:`poll` periodically, :meth:`on_disconnect` when the device's connection ends; the
    returned updates are written with :meth:`apply` (blocking). Not thread-safe: used from the event loop.
    """

    def __init__(self, store: Store, *, timeout: float = 10.0, retries: int = 3,
                 exec_timeouts: dict[str, float] | None = None, max_attempts: int = 3,
                 pending_ttl: float = 86400.0, clock=time.monotonic):
        self.store = store
        self.timeout = timeout
        self.retries = retries
        self.exec_timeouts = {**EXEC_TIMEOUTS, **(exec_timeouts or {})}
        self.max_attempts = max_attempts
        self.pending_ttl = pending_ttl
        self.clock = clock
        self.active: dict[str, ActiveCommand] = {}
        self.finished: dict[str, int] = {}
        self._expired_at = -1e18

    # blocking ----------------------------------------------------------------------------------------------
    def due(self, connected: Iterable[str], limit: int = 500) -> list[dict]:
        """Pending commands of connected devices without an active command (oldest first, one per device);
        also times out commands pending for longer than ``pending_ttl``."""
        busy = set(self.active)
        mns = sorted(set(connected) - busy)
        out: list[dict] = []
        now = self.clock()
        if now - self._expired_at >= 60.0:  # once a minute is enough (and keeps write locks rare)
            self._expired_at = now
            with begin_write(self.store) as conn:
                cutoff = _now() - timedelta(seconds=self.pending_ttl)
                conn.execute(update(device_command).where(device_command.c.status == "pending",
                                                          device_command.c.created_at < cutoff)
                             .values(status="timeout", finished_at=_now(),
                                     result={"error": "device not connected within the pending time"}))
        if not mns:
            return out
        with self.store.engine.connect() as conn:
            seen: set[str] = set()
            for i in range(0, len(mns), 500):
                chunk = mns[i:i + 500]
                q = (select(device_command).where(device_command.c.status == "pending", device_command.c.mn.in_(chunk))
                     .order_by(device_command.c.id))
                for r in conn.execute(q).mappings():
                    if r["mn"] not in seen:
                        seen.add(r["mn"])
                        out.append(dict(r))
                        if len(out) >= limit:
                            return out
        return out

    def apply(self, updates: list[Update]) -> None:
        if not updates:
            return
        with begin_write(self.store) as conn:
            for cid, values in updates:
                conn.execute(update(device_command).where(device_command.c.id == cid).values(**values))

    # event loop --------------------------------------------------------------------------------------------
    def build_request(self, row: dict, pw: str, st: str, version: str) -> Packet:
        mn, kind, p = row["mn"], row["kind"], row["params"] or {}
        if kind == "backfill":
            return history_request(mn, pw, st, p["begin"], p["end"], interval=HISTORY_CNS[row["cn"]],
                                   version=version)
        if kind == "set-interval":
            return set_rtd_interval(mn, pw, st, int(p["seconds"]), version=version)
        if kind == "set-time":
            return set_time(mn, pw, st, datetime.now(BEIJING), pol_id=p.get("pol_id"), version=version)
        raise ValueError(f"unknown command kind {kind!r}")

    def start(self, row: dict, pw: str, st: str, version: str) -> tuple[bytes | None, list[Update]]:
        """Begin executing ``row``: returns the request frame to send and the status update."""
        attempts = int(row.get("attempts") or 0) + 1
        try:
            req = self.build_request(row, pw, st, version)
            frame = encode(req)
        except (HJ212Error, KeyError, ValueError) as e:
            return None, [(row["id"], {"status": "failed", "finished_at": _now(), "attempts": attempts,
                                       "result": {"error": f"cannot build the request: {e}"}})]
        ex = Exchange(req, timeout=self.timeout, retries=self.retries,
                      exec_timeout=self.exec_timeouts.get(row["kind"], 600.0), clock=self.clock)
        self.active[row["mn"]] = ActiveCommand(row["id"], row["mn"], row["kind"], ex, attempts)
        return frame, [(row["id"], {"status": "sent", "qn": req.qn, "sent_at": _now(), "attempts": attempts})]

    def on_packet(self, packet: Packet) -> tuple[bool, list[Update]]:
        """Feed a packet of a device. Returns (is an answer to a command: 9011/9012 of an active exchange,
        updates). Data uploads are only counted: they are stored and answered by the gateway's data path."""
        ac = self.active.get(packet.mn)
        if ac is None:
            return False, []
        ex = ac.exchange
        if not ex.matches(packet):
            return False, []
        answer = packet.cn in ("9011", "9012")
        if not answer:
            ac.uploads += 1
        ex.on_packet(packet)
        ex.data.clear()  # uploads are stored by the gateway; keep the exchange's memory bounded
        return answer, self._progress(ac)

    def poll(self) -> tuple[list[tuple[str, bytes]], list[Update]]:
        """Resend requests whose 9011 is late; finish timed-out exchanges."""
        resend: list[tuple[str, bytes]] = []
        updates: list[Update] = []
        for ac in list(self.active.values()):
            for req in ac.exchange.poll():
                resend.append((ac.mn, encode(req)))
            updates += self._progress(ac)
        return resend, updates

    def on_disconnect(self, mn: str) -> list[Update]:
        """The device's connection ended: its active command goes back to pending (until ``max_attempts``)."""
        ac = self.active.pop(mn, None)
        if ac is None:
            return []
        if ac.attempts < self.max_attempts:
            return [(ac.id, {"status": "pending", "qn": None})]
        return [(ac.id, {"status": "failed", "finished_at": _now(),
                         "result": self._result(ac, "device disconnected during the command")})]

    def _result(self, ac: ActiveCommand, error: str | None = None) -> dict:
        ex = ac.exchange
        out: dict[str, object] = {"qn_rtn": ex.qn_rtn, "exe_rtn": ex.exe_rtn, "uploads": ac.uploads,
                                  "requests_sent": ex.sent}
        if error:
            out["error"] = error
        return out

    def _progress(self, ac: ActiveCommand) -> list[Update]:
        state = ac.exchange.state
        if state == ac.reported:
            return []
        ac.reported = state
        values: dict[str, object] = {"status": state}
        if state in FINAL_STATES:
            self.active.pop(ac.mn, None)
            self.finished[state] = self.finished.get(state, 0) + 1
            values["finished_at"] = _now()
            err = None
            if state == "timeout":
                err = (f"no 9011 answer after {ac.exchange.sent} requests" if ac.exchange.qn_rtn is None
                       else "no 9012 execution result in time")
            values["result"] = self._result(ac, err)
        return [(ac.id, values)]


# --- the gateway's side: polling the queue for connected devices, sending, resending, recording -------------------
log = logging.getLogger("ecohub.gateway")


class _Link(Protocol):
    closed: bool

    def send(self, data: bytes, limit: int) -> bool: ...


class _Device(Protocol):
    """What the command loop needs of a device session."""

    mn: str
    conn: Any  # a _Link, or None while the device is not connected
    pw: str
    st: str
    version: str


class CommandLoop:
    """Executes the ``device_command`` queue for the gateway's connected devices with a :class:`CommandRunner`:
    polls the queue every ``poll`` seconds, sends the requests and their resends, feeds the devices' answers
    (``on_packet``), records every status change (on ``db_exec``, off the event loop) and reports finished
    commands through ``emit("command_finished", …)``. Also enqueues the gateway's own ``set-time`` commands
    (:meth:`request_time_sync`)."""

    def __init__(self, store: Store, runner: CommandRunner, sessions: Mapping[str, _Device], counters: dict[str, int],
                 db_exec: ThreadPoolExecutor, emit: Callable[..., None], *, poll: float, max_write_buffer: int):
        self.store = store
        self.runner = runner
        self.sessions = sessions
        self.counters = counters
        self.db_exec = db_exec
        self.emit = emit
        self.poll = poll
        self.max_write_buffer = max_write_buffer
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def active(self) -> bool:
        """Some command is being executed (its device's packets are looked at)."""
        return bool(self.runner.active)

    async def run(self) -> None:
        loop = self.loop = asyncio.get_running_loop()
        runner = self.runner
        limit = self.max_write_buffer
        while True:
            await asyncio.sleep(self.poll)
            try:
                connected = [mn for mn, s in self.sessions.items() if s.conn is not None and not s.conn.closed]
                due = await loop.run_in_executor(self.db_exec, runner.due, connected)
                updates: list[Update] = []
                for row in due:
                    s = self.sessions.get(row["mn"])
                    if s is None or s.conn is None or s.conn.closed or row["mn"] in runner.active:
                        continue
                    frame, ups = runner.start(row, s.pw, s.st, s.version)
                    updates += ups
                    if frame is not None and s.conn.send(frame, limit):
                        self.counters["commands_sent"] += 1
                resend, ups = runner.poll()
                updates += ups
                for mn, frame in resend:
                    s = self.sessions.get(mn)
                    if s is not None and s.conn is not None:
                        s.conn.send(frame, limit)
                if updates:
                    await loop.run_in_executor(self.db_exec, runner.apply, updates)
                    self._announce(updates)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                log.exception("command queue step failed")

    def on_packet(self, packet: Packet) -> None:
        """A device's packet: an answer (9011/9012) or an upload of a command in progress."""
        _, updates = self.runner.on_packet(packet)
        if updates:
            self._apply(updates)

    def on_disconnect(self, mn: str) -> None:
        updates = self.runner.on_disconnect(mn)
        if updates:
            self._apply(updates)

    def request_time_sync(self, mn: str, why: str) -> None:
        """Queue a ``set-time`` (1012) for ``mn`` (sent at the next poll)."""
        assert self.loop is not None
        store = self.store
        fut = self.loop.run_in_executor(self.db_exec, lambda: enqueue_command(
            store, mn, "set-time", requested_by=f"gateway: {why}"))
        fut.add_done_callback(log_failure("enqueue set-time"))

    def _apply(self, updates: list[Update]) -> None:
        assert self.loop is not None
        fut = self.loop.run_in_executor(self.db_exec, self.runner.apply, updates)
        fut.add_done_callback(log_failure("command status update"))
        self._announce(updates)

    def _announce(self, updates: list[Update]) -> None:
        for cid, values in updates:
            if values.get("status") in ("done", "refused", "failed", "timeout"):
                self.emit("command_finished", None, None, id=cid, status=values["status"],
                          result=values.get("result"))


def log_failure(what: str) -> Callable[[Future[Any] | asyncio.Future[Any]], None]:
    """A done-callback that logs the future's exception."""
    def cb(fut: Future[Any] | asyncio.Future[Any]) -> None:
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:
            log.error("%s failed: %s", what, exc)
    return cb
