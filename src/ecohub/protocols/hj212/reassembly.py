"""Reassembly of split packets (Flag.D = 1, ``PNUM``/``PNO``)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .cp import DataArea, parse_cp
from .errors import HJ212Error
from .packet import Packet

__all__ = ["Reassembler", "PendingGroup"]


@dataclass(slots=True)
class PendingGroup:
    """The parts received so far of one split message."""

    key: tuple
    pnum: int
    started: float
    parts: dict[int, Packet] = field(default_factory=dict)

    @property
    def missing(self) -> list[int]:
        return [i for i in range(1, self.pnum + 1) if i not in self.parts]


class Reassembler:
    """Collects the parts of split messages and returns the whole message when complete.

    Parts are grouped by ``(MN, ST, CN, PNUM, DataTime)`` — each part carries its own QN in
    HJ 212-2017 (some devices repeat the first QN), so the QN is not part of the key; a part whose
    PNO is already in the open group starts a new group (the old one is dropped as incomplete).

    The merged packet has the QN and header of part 1, the D bit cleared, no PNUM/PNO, a CP made
    of part 1's CP followed by the other parts' CPs (a repeated leading ``DataTime`` removed), and
    the warnings of all parts (each once).

    Bounds: groups older than ``timeout`` seconds and groups beyond ``max_groups`` (oldest first)
    are dropped and reported by :meth:`expired`; ``PNUM`` above ``max_parts`` is rejected.
    """

    def __init__(
        self,
        timeout: float = 600.0,
        max_groups: int = 1000,
        max_parts: int = 999,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout = timeout
        self.max_groups = max_groups
        self.max_parts = max_parts
        self.clock = clock
        self._groups: OrderedDict[tuple, PendingGroup] = OrderedDict()
        self._expired: list[PendingGroup] = []

    @property
    def pending(self) -> int:
        return len(self._groups)

    def add(self, packet: Packet, now: float | None = None) -> Packet | None:
        """Add a decoded packet: returns it unchanged when it is not split, the merged message when
        this part completes one, else None."""
        if packet.pnum is None:
            return packet
        now = self.clock() if now is None else now
        self._expire(now)
        if packet.pnum > self.max_parts:
            raise HJ212Error("too_many", f"PNUM={packet.pnum} is above the limit {self.max_parts}", "PNUM", packet.pnum)
        if packet.pnum == 1:
            return self._merge([packet])
        key = (packet.mn, packet.st, packet.cn, packet.pnum, packet.cp.fields.get("DataTime"))
        group = self._groups.get(key)
        if group is not None and packet.pno in group.parts:
            self._expired.append(self._groups.pop(key))
            group = None
        if group is None:
            while len(self._groups) >= self.max_groups:
                self._expired.append(self._groups.popitem(last=False)[1])
            group = self._groups[key] = PendingGroup(key, packet.pnum, now)
        group.parts[packet.pno] = packet  # type: ignore[index]
        if len(group.parts) == group.pnum:
            del self._groups[key]
            return self._merge([group.parts[i] for i in range(1, group.pnum + 1)])
        return None

    def expired(self, now: float | None = None) -> list[PendingGroup]:
        """Drop timed-out groups and return every group dropped since the last call."""
        self._expire(self.clock() if now is None else now)
        out, self._expired = self._expired, []
        return out

    def _expire(self, now: float) -> None:
        limit = now - self.timeout
        while self._groups:
            key, group = next(iter(self._groups.items()))
            if group.started > limit:
                break
            self._expired.append(self._groups.pop(key))

    @staticmethod
    def _merge(parts: list[Packet]) -> Packet:
        first = parts[0]
        texts = [first.cp.text]
        dt = first.cp.fields.get("DataTime")
        for part in parts[1:]:
            text = part.cp.text
            if dt is not None:
                prefix = f"DataTime={dt}"
                if text.startswith(prefix + ";") or text.startswith(prefix + ","):
                    text = text[len(prefix) + 1 :]
                elif text == prefix:
                    text = ""
            if text:
                texts.append(text)
        joined = ";".join(t.rstrip(";,") for t in texts if t)
        if any(p.cp.encrypted for p in parts):
            cp = DataArea(joined, encrypted=True, _items=[])
        else:
            cp = parse_cp(joined)
        flag = None if first.flag is None else first.flag & ~2
        warnings = tuple(dict.fromkeys(w for part in parts for w in part.warnings))  # every part's, once
        return replace(first, cp=cp, flag=flag, pnum=None, pno=None, warnings=warnings)
