"""What goes on the wire to a forwarding destination: the packet as received (original mode) or re-encoded in
the destination's edition with its MN/PW mapping and parameter selection, with the HJ 212-2025 resend marker
on a packet sent late or again.

HJ 212-2025 resend marker: the codec reads ``RF`` from the header or the CP (``Packet.resend``); its position
and values are UNCONFIRMED (docs/exchange.md). We write ``RF=1`` as an extra header field, only in re-encoded
HJ 212-2025 packets; an original packet is never changed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ecohub.protocols.hj212 import HJ212Error, Packet, decode, encode, parse_cp

__all__ = ["Outgoing", "VERSION_FLAG", "build"]

#: Flag version bits (V5…V0, shifted past D and A): HJ 212-2017 = 1, HJ 212-2025 = 2 (UNCONFIRMED, the codec's)
VERSION_FLAG = {"2017": 1 << 2, "2025": 2 << 2}
_FLAG = re.compile(r";Flag=(\d{1,3});")
_QN = re.compile(r"QN=(\d{1,20});")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One frame for a destination: bytes, the (MN, QN) its 9014 answer carries, and whether one is awaited."""

    frame: bytes
    mn: str
    qn: str | None
    ack: bool


def build(dest: dict[str, Any], mn: str, frame_text: str, *, resend: bool) -> Outgoing | None:
    """The frame for ``dest`` of one outbox row; None when the destination takes nothing of it (a data packet
    with none of its parameters; packets without factors — status, boot time — are forwarded). Raises
    :class:`HJ212Error` when a packet cannot be re-encoded (an encrypted CP); the caller marks the row failed."""
    if dest["mode"] == "original":
        fm = _FLAG.search(frame_text)
        qn = _QN.search(frame_text)
        ack = bool(fm and int(fm.group(1)) & 1 and qn)
        raw = frame_text.encode("utf-8")
        if not raw.endswith(b"\r\n"):
            raw += b"\r\n"
        return Outgoing(raw, mn, qn.group(1) if qn else None, ack)
    p = decode(frame_text.encode("utf-8"))
    if p.cp.encrypted:
        raise HJ212Error("decrypt_failed", "an encrypted (SM4) CP cannot be re-encoded: forward it with --mode "
                                           "original", "CP", None)
    target = (dest.get("mn_map") or {}).get(mn) or {}
    remote_mn = target.get("mn", mn)
    pw = target.get("pw") or dest.get("pw") or p.pw
    cp = p.cp
    params = dest.get("parameters")
    if params:
        keep = set(params)
        groups = []
        for g in cp.groups:
            items = [(k, v) for k, v in g if "-" not in k or k.split("-", 1)[0] in keep]
            if items:
                groups.append(",".join(f"{k}={v}" for k, v in items))
        if cp.factors and not any("-" in g for g in groups):
            return None  # a data packet without any selected parameter: nothing to forward
        cp = parse_cp(";".join(groups))
    ack = bool(dest.get("ack", True)) and p.qn is not None
    edition = dest["edition"]
    flag = VERSION_FLAG[edition] | (1 if ack else 0)
    extra = tuple((k, v) for k, v in p.extra if k != "RF")
    if edition == "2025" and resend:
        extra += (("RF", "1"),)
    out = Packet(p.st, p.cn, pw, remote_mn, p.qn, flag, None, None, cp, extra)
    return Outgoing(encode(out), remote_mn, p.qn, ack)
