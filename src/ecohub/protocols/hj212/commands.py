"""Platform → device requests, the answers of both sides, and the exchange sequences of
HJ 212-2017 §6.1–6.5 / Appendix C.

Request (3+ steps): platform sends a request with Flag.A = 1 → device answers 9011 ``QnRtn``
(same QN, ST=91) → device executes, uploading data if asked (each upload with its own QN, answered
by the platform with 9014 when its Flag.A = 1) → device sends 9012 ``ExeRtn`` (same QN).
Upload (1–2 steps): device uploads; if Flag.A = 1 the platform answers 9014 with the same QN,
ST=91, Flag=4, ``CP=&&&&``.  Notification (2 steps): answered with 9013.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from .cp import EMPTY_CP, DataArea, build_cp
from .errors import HJ212Error
from .packet import VERSION_BITS, Packet
from .times import BEIJING, format_qn, format_time, parse_time

__all__ = [
    "new_qn",
    "flag_for",
    "request",
    "history_request",
    "set_rtd_interval",
    "get_rtd_interval",
    "set_min_interval",
    "set_time",
    "get_time",
    "start_realtime",
    "stop_realtime",
    "qn_rtn",
    "exe_rtn",
    "notify_ack",
    "data_ack",
    "answer_for",
    "Exchange",
    "HISTORY_CN",
]

_VERSION_BITS = {v: k for k, v in VERSION_BITS.items()}
#: history interval → CN of the request (and of the uploads that answer it)
HISTORY_CN = {"min": "2051", "hour": "2061", "day": "2031"}

_qn_lock = threading.Lock()
_last_qn = [""]


def new_qn(now: datetime | None = None) -> str:
    """A fresh QN (``YYYYMMDDhhmmsszzz``, Beijing time), strictly increasing within the process."""
    with _qn_lock:
        qn = format_qn(now)
        if qn <= _last_qn[0] and now is None:  # one millisecond after the last (a valid time, not +1 as a number)
            qn = format_qn(parse_time(_last_qn[0], "QN") + timedelta(milliseconds=1))
        _last_qn[0] = max(qn, _last_qn[0])
        return qn


def flag_for(version: str = "2017", *, ack: bool = True, split: bool = False) -> int | None:
    """Flag value: version bits, D (split) and A (answer required).  2005 → None (no Flag)."""
    if version == "2005" and not split:
        return None
    return (_VERSION_BITS[version] << 2) | (2 if split else 0) | (1 if ack else 0)


def request(
    cn: str,
    mn: str,
    pw: str,
    st: str,
    params: Mapping[str, object] | Iterable[tuple[str, object]] = (),
    *,
    qn: str | None = None,
    version: str = "2017",
    ack: bool = True,
) -> Packet:
    """A platform → device request with ``CP`` built from ``params`` (each its own ``;`` item)."""
    cp_text = build_cp(params)
    return Packet(
        st=st,
        cn=cn,
        pw=pw,
        mn=mn,
        qn=qn or new_qn(),
        flag=flag_for(version, ack=ack),
        cp=DataArea(cp_text) if cp_text else EMPTY_CP,
    )


def _time(value: datetime | str) -> str:
    return value if isinstance(value, str) else format_time(value)


def history_request(
    mn: str,
    pw: str,
    st: str,
    begin: datetime | str,
    end: datetime | str,
    *,
    interval: str = "hour",
    qn: str | None = None,
    version: str = "2017",
) -> Packet:
    """Back-fill request (补数): 2061 hourly / 2051 minute / 2031 daily data from ``begin`` to
    ``end`` (Beijing time; aware datetimes are converted).  The device answers 9011, uploads one
    packet per period (each with its own QN, answered with :func:`data_ack` when Flag.A = 1) and
    ends with 9012."""
    cn = HISTORY_CN.get(interval)
    if cn is None:
        raise HJ212Error("bad_field", f"interval must be one of {sorted(HISTORY_CN)}", "interval", interval)
    b, e = _time(begin), _time(end)
    if b > e:
        raise HJ212Error("bad_time", f"BeginTime {b} is after EndTime {e}", "BeginTime", b)
    return request(cn, mn, pw, st, {"BeginTime": b, "EndTime": e}, qn=qn, version=version)


def set_rtd_interval(mn: str, pw: str, st: str, seconds: int, *, qn: str | None = None, version: str = "2017") -> Packet:
    """1062: set the real-time upload interval (``RtdInterval``, 30–3600 s per HJ 212-2017)."""
    if not isinstance(seconds, int) or not 30 <= seconds <= 3600:
        raise HJ212Error("bad_field", f"RtdInterval={seconds!r} is not 30–3600 seconds", "RtdInterval", seconds)
    return request("1062", mn, pw, st, {"RtdInterval": seconds}, qn=qn, version=version)


def get_rtd_interval(mn: str, pw: str, st: str, *, qn: str | None = None, version: str = "2017") -> Packet:
    """1061: ask the device for its real-time interval (it uploads 1061 ``RtdInterval``)."""
    return request("1061", mn, pw, st, qn=qn, version=version)


_MIN_INTERVALS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)


def set_min_interval(mn: str, pw: str, st: str, minutes: int, *, qn: str | None = None, version: str = "2017") -> Packet:
    """1064: set the minute-data interval (``MinInterval``: 1,2,3,4,5,6,10,12,15,20,30 min)."""
    if minutes not in _MIN_INTERVALS:
        raise HJ212Error("bad_field", f"MinInterval={minutes!r} is not one of {_MIN_INTERVALS}", "MinInterval", minutes)
    return request("1064", mn, pw, st, {"MinInterval": minutes}, qn=qn, version=version)


def set_time(
    mn: str,
    pw: str,
    st: str,
    when: datetime | None = None,
    *,
    pol_id: str | None = None,
    qn: str | None = None,
    version: str = "2017",
) -> Packet:
    """1012: time calibration — set the device (or instrument ``PolId``) clock to ``when`` (now)."""
    params: list[tuple[str, object]] = []
    if pol_id:
        params.append(("PolId", pol_id))
    params.append(("SystemTime", format_time(when or datetime.now(BEIJING))))
    return request("1012", mn, pw, st, params, qn=qn, version=version)


def get_time(mn: str, pw: str, st: str, *, pol_id: str | None = None, qn: str | None = None, version: str = "2017") -> Packet:
    """1011: ask the device (or instrument ``PolId``) for its time; it uploads 1011 ``SystemTime``."""
    return request("1011", mn, pw, st, {"PolId": pol_id} if pol_id else (), qn=qn, version=version)


def start_realtime(mn: str, pw: str, st: str, *, qn: str | None = None, version: str = "2017") -> Packet:
    """2011 request: start real-time data uploads."""
    return request("2011", mn, pw, st, qn=qn, version=version)


def stop_realtime(mn: str, pw: str, st: str, *, qn: str | None = None, version: str = "2017") -> Packet:
    """2012 notification: stop real-time data (answered by 9013)."""
    return request("2012", mn, pw, st, qn=qn, version=version)


# --- answers ---------------------------------------------------------------------------------------


def _answer(to: Packet, cn: str, cp: DataArea) -> Packet:
    if to.qn is None:
        raise HJ212Error("missing_field", "cannot answer a packet without QN", "QN", None)
    # same version bits as the packet answered (Flag=4 for 2017, 8 for 2025), no A/D bits;
    # a 2005-style packet without Flag is answered without Flag
    flag = None if to.flag is None else to.flag & ~3
    return Packet(st="91", cn=cn, pw=to.pw, mn=to.mn, qn=to.qn, flag=flag, cp=cp, edition=to.edition)


def qn_rtn(to: Packet, code: int = 1) -> Packet:
    """9011 request answer (device → platform): ``QnRtn`` (1 ready, 2 refused, 3 wrong PW …)."""
    return _answer(to, "9011", DataArea(f"QnRtn={int(code)}"))


def exe_rtn(to: Packet, code: int = 1) -> Packet:
    """9012 execution result (device → platform): ``ExeRtn`` (1 success, 100 no data …)."""
    return _answer(to, "9012", DataArea(f"ExeRtn={int(code)}"))


def notify_ack(to: Packet) -> Packet:
    """9013 notification answer (``CP=&&&&``)."""
    return _answer(to, "9013", EMPTY_CP)


def data_ack(to: Packet) -> Packet:
    """9014 data answer: same QN, ST=91, Flag=4 (version bits of the upload, no ack), ``CP=&&&&``."""
    return _answer(to, "9014", EMPTY_CP)


_NOTIFICATIONS = frozenset({"1013", "2012", "2022"})


def answer_for(packet: Packet) -> Packet | None:
    """The answer a platform owes for a received packet: 9014 for uploads with Flag.A = 1, 9013
    for notifications (1013 …), None otherwise (answers, or A = 0)."""
    if packet.cn[0] == "9" or packet.qn is None:
        return None
    if packet.cn in _NOTIFICATIONS:
        return notify_ack(packet)
    return data_ack(packet) if packet.ack_required else None


class Exchange:
    """The platform side of one request (HJ 212-2017 §6.5, Appendix C) as a small state machine.

    States: ``sent`` → ``accepted`` (9011 QnRtn=1) → ``done`` (9012 ExeRtn=1); ``refused``
    (QnRtn ≠ 1), ``failed`` (ExeRtn ≠ 1), ``timeout`` (no 9011 after ``retries`` resends, or no
    9012 within ``exec_timeout``).  ``on_packet`` returns what the platform must send (9014 for
    each data upload with Flag.A = 1); ``poll`` returns the request again when it must be resent.
    """

    def __init__(
        self,
        request: Packet,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        exec_timeout: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.request = request
        self.timeout = timeout
        self.retries = retries
        self.exec_timeout = exec_timeout
        self.clock = clock
        self.state = "sent"
        self.sent = 1
        self.last_sent = clock()
        self.accepted_at: float | None = None
        self.qn_rtn: int | None = None
        self.exe_rtn: int | None = None
        self.data: list[Packet] = []

    @property
    def finished(self) -> bool:
        return self.state in ("done", "refused", "failed", "timeout")

    def matches(self, packet: Packet) -> bool:
        """True if ``packet`` belongs to this exchange (same MN; 9011/9012 with the request's QN,
        or an upload of the requested CN while accepted)."""
        if packet.mn != self.request.mn:
            return False
        if packet.cn in ("9011", "9012"):
            return packet.qn == self.request.qn
        return packet.cn == self.request.cn and self.state in ("sent", "accepted")

    def on_packet(self, packet: Packet) -> list[Packet]:
        if not self.matches(packet) or self.finished:
            return []
        if packet.cn == "9011":
            self.qn_rtn = _int(packet.cp.get("QnRtn"))
            if self.qn_rtn == 1:
                self.state = "accepted"
                self.accepted_at = self.clock()
            else:
                self.state = "refused"
            return []
        if packet.cn == "9012":
            self.exe_rtn = _int(packet.cp.get("ExeRtn"))
            self.state = "done" if self.exe_rtn == 1 else "failed"
            return []
        self.data.append(packet)  # an upload answering the request (history, time, interval …)
        if self.state == "sent":  # 9011 lost: data proves acceptance
            self.state = "accepted"
            self.accepted_at = self.clock()
        return [data_ack(packet)] if packet.ack_required else []

    def poll(self, now: float | None = None) -> list[Packet]:
        """Call periodically: returns ``[request]`` when it must be resent."""
        now = self.clock() if now is None else now
        if self.state == "sent" and now - self.last_sent >= self.timeout:
            if self.sent > self.retries:
                self.state = "timeout"
                return []
            self.sent += 1
            self.last_sent = now
            return [self.request]
        if self.state == "accepted" and self.accepted_at is not None and now - self.accepted_at >= self.exec_timeout:
            self.state = "timeout"
        return []


def _int(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return None
