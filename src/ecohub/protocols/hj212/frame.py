"""Incremental framing of an HJ 212 byte stream (a TCP connection, a serial port, a log file).

:class:`StreamFramer` cuts frames by the declared length (the CRC is weak), survives several
packets in one read, one packet over several reads and garbage between packets, and never holds
more than one maximal frame plus a bounded garbage report between calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from .crc import hj212_crc, modbus_crc
from .dialect import STANDARD, Dialect

__all__ = ["FrameEvent", "StreamFramer", "iter_frames"]

_HEX = frozenset(b"0123456789abcdefABCDEF")
_DIGITS = frozenset(b"0123456789")


@dataclass(frozen=True, slots=True)
class FrameEvent:
    """What the framer found.

    Attributes:
        kind: ``"frame"`` (a complete frame, ``data`` = ``##`` … CRC, trailer not included),
            ``"garbage"`` (bytes that are no frame) or ``"rejected"`` (a frame start whose frame
            is unusable).
        data: the frame, or the skipped bytes (the first ``report_limit`` of them).
        reason: ``None`` for frames; ``"garbage"``; for rejections ``"too_long"`` (declared length
            above the maximum), ``"length_mismatch"`` (a CR/LF inside the declared data or no hex
            CRC where the length puts it), ``"bad_crc"`` (``verify_crc=True``) or ``"truncated"``
            (stream ended inside a frame, from :meth:`StreamFramer.flush`).
        size: number of stream bytes this event accounts for.
        offset: stream offset of its first byte.
    """

    kind: str
    data: bytes
    reason: str | None
    size: int
    offset: int

    @property
    def is_frame(self) -> bool:
        return self.kind == "frame"


class StreamFramer:
    """``feed(bytes) -> list[FrameEvent]``; call :meth:`flush` at the end of the stream.

    Args:
        dialect: gives ``max_length`` (declared data-segment maximum, default 1024),
            ``length_unit`` (``"chars"``: frames end at CRLF instead) and ``crc``.
        max_length: overrides ``dialect.max_length``.
        verify_crc: check the CRC here and reject bad frames (resynchronising inside them) —
            otherwise :func:`decode` checks it.
        report_limit: at most this many garbage bytes are kept per garbage event (the count is
            always exact).
    """

    def __init__(
        self,
        dialect: Dialect = STANDARD,
        *,
        max_length: int | None = None,
        verify_crc: bool = False,
        report_limit: int = 2048,
    ) -> None:
        self.dialect = dialect
        self.max_length = dialect.max_length if max_length is None else max_length
        self.verify_crc = verify_crc
        self.report_limit = report_limit
        self._buf = bytearray()
        self._offset = 0  # stream offset of _buf[0]
        self._after_frame = False
        self._garbage = bytearray()
        self._garbage_size = 0
        self._garbage_offset = 0
        self.frames = 0
        self.garbage_bytes = 0
        self.rejected = 0
        self.trailer_bytes = 0  # CR/LF after frames, consumed silently

    @property
    def buffered(self) -> int:
        """Bytes held (partial frame + kept garbage report)."""
        return len(self._buf) + len(self._garbage)

    # --- helpers -----------------------------------------------------------------------------
    def _add_garbage(self, chunk: bytes | bytearray, offset: int) -> None:
        if not chunk:
            return
        if not self._garbage_size:
            self._garbage_offset = offset
        room = self.report_limit - len(self._garbage)
        if room > 0:
            self._garbage += chunk[:room]
        self._garbage_size += len(chunk)
        self.garbage_bytes += len(chunk)

    def _flush_garbage(self, out: list[FrameEvent]) -> None:
        if self._garbage_size:
            out.append(FrameEvent("garbage", bytes(self._garbage), "garbage", self._garbage_size, self._garbage_offset))
            self._garbage = bytearray()
            self._garbage_size = 0

    def _reject(self, out: list[FrameEvent], buf: bytearray, start: int, end: int, reason: str) -> None:
        self._flush_garbage(out)
        out.append(FrameEvent("rejected", bytes(buf[start : min(end, start + self.report_limit)]), reason, end - start, self._offset + start))
        self.rejected += 1

    # --- main --------------------------------------------------------------------------------
    def feed(self, chunk: bytes | bytearray | memoryview) -> list[FrameEvent]:
        """Add bytes; return the events they complete (in stream order)."""
        buf = self._buf
        buf += chunk
        out: list[FrameEvent] = []
        pos = self._scan(buf, out, final=False)
        if pos:
            del buf[:pos]
            self._offset += pos
        return out

    def flush(self) -> list[FrameEvent]:
        """End of stream: report a partial frame (``truncated``) and pending garbage."""
        buf = self._buf
        out: list[FrameEvent] = []
        pos = self._scan(buf, out, final=True)
        if pos < len(buf):
            rest = buf[pos:]
            if rest.startswith(b"##"):
                self._reject(out, buf, pos, len(buf), "truncated")
            else:
                self._add_garbage(rest, self._offset + pos)
        self._flush_garbage(out)
        self._offset += len(buf)
        buf.clear()
        self._after_frame = False
        return out

    def _scan(self, buf: bytearray, out: list[FrameEvent], final: bool) -> int:
        n = len(buf)
        pos = 0
        maxlen = self.max_length
        chars = self.dialect.length_unit == "chars"
        while pos < n:
            if self._after_frame:  # optional trailer after a frame
                if buf[pos] == 0x0D:
                    if pos + 1 >= n and not final:
                        return pos
                    step = 2 if pos + 1 < n and buf[pos + 1] == 0x0A else 1
                    pos += step
                    self.trailer_bytes += step
                elif buf[pos] == 0x0A:
                    pos += 1
                    self.trailer_bytes += 1
                self._after_frame = False
                continue
            idx = buf.find(b"##", pos)
            if idx < 0:
                keep = n - 1 if buf[n - 1] == 0x23 and not final else n  # a lone '#' may start '##'
                self._add_garbage(buf[pos:keep], self._offset + pos)
                return keep
            if idx > pos:
                self._add_garbage(buf[pos:idx], self._offset + pos)
                pos = idx
            # header digits
            avail = n - idx
            head = buf[idx + 2 : idx + 6]
            if not all(b in _DIGITS for b in head):
                self._add_garbage(buf[idx : idx + 1], self._offset + idx)  # not a frame start
                pos = idx + 1
                continue
            if avail < 6:
                return idx
            declared = int(head)
            if declared > maxlen:
                # HJ 212-2025: a CP written as a C-style byte list is ~5× its plaintext
                probe = self._clist_probe(buf, idx, declared, final) if declared <= self._clist_limit else False
                if probe is None:
                    return idx
                if not probe:
                    self._reject(out, buf, idx, idx + 6, "too_long")
                    pos = idx + 6
                    continue
            if chars:
                nl = buf.find(b"\n", idx + 6, idx + 6 + 4 * maxlen + 8)
                if nl < 0:
                    if avail > 4 * maxlen + 12:
                        self._reject(out, buf, idx, idx + 6, "too_long")
                        pos = idx + 6
                        continue
                    return idx
                end = nl - 1 if buf[nl - 1] == 0x0D else nl
                self._emit(out, buf, idx, end)
                pos = end
                continue
            data_end = idx + 6 + declared
            # a CR or LF inside the declared data: the length is wrong (data never holds CR/LF)
            scan_to = min(data_end, n)
            cr = buf.find(b"\r", idx + 6, scan_to)
            lf = buf.find(b"\n", idx + 6, scan_to)
            brk = min(x for x in (cr, lf, scan_to) if x >= 0)
            if brk < scan_to:
                stop = buf.find(b"##", idx + 2, brk)  # a frame start inside: resynchronise there
                if stop < 0:
                    stop = brk + 1
                    if buf[brk] == 0x0D and stop < n and buf[stop] == 0x0A:
                        stop += 1
                self._reject(out, buf, idx, stop, "length_mismatch")
                pos = stop
                continue
            frame_end = data_end + 4
            if n < frame_end:
                return idx
            crc = buf[data_end:frame_end]
            if not all(b in _HEX for b in crc):
                # HJ 212-2025 A.2 examples: the length counts the plaintext of a C-style-list CP
                clist_end = self._clist_end(buf, idx, data_end, final)
                if clist_end is None:
                    return idx
                if clist_end > 0:
                    self._emit(out, buf, idx, clist_end)
                    pos = clist_end
                    continue
                short = self._short_crc(buf, data_end, frame_end)
                if short is None:
                    stop = self._resync(buf, idx, frame_end)
                    self._reject(out, buf, idx, stop, "length_mismatch")
                    pos = stop
                    continue
                frame_end = short
            if self.verify_crc and not self._crc_ok(buf, idx + 6, data_end, frame_end):
                stop = self._resync(buf, idx, frame_end)
                self._reject(out, buf, idx, stop, "bad_crc")
                pos = stop
                continue
            self._emit(out, buf, idx, frame_end)
            pos = frame_end
        return pos

    @property
    def _clist_limit(self) -> int:
        return min(9999, 6 * self.max_length)

    def _clist_probe(self, buf: bytearray, idx: int, declared: int, final: bool) -> bool | None:
        """Does the frame at ``idx`` carry a C-style-list CP (``;CP=&&{0x``)?  None: wait for more."""
        n = len(buf)
        stop = min(n, idx + 6 + declared)
        j = buf.find(b";CP=&&", idx + 6, stop)
        if j >= 0:
            if j + 9 <= n:
                return buf[j + 6 : j + 9] in (b"{0x", b"{0X")
            return None if not final else False
        if stop == idx + 6 + declared or final or n - idx > 6 + self.max_length:
            return False  # the header is never longer than a plaintext segment
        return None

    def _clist_end(self, buf: bytearray, idx: int, data_end: int, final: bool) -> int | None:
        """End of a frame whose length field counts the plaintext of a C-style-list CP: the
        closing ``&&`` + 4 hex CRC after the list and its clear tail (< 16 bytes).  0: not such a
        frame; None: wait for more bytes."""
        j = buf.find(b";CP=&&{0", idx + 6, data_end)
        if j < 0 or buf[j + 8 : j + 9] not in (b"x", b"X"):
            return 0
        n = len(buf)
        limit = idx + 6 + self._clist_limit + 4
        close = buf.find(b"}", j, limit)
        if close < 0:
            return None if n < limit and not final else 0
        amp = buf.find(b"&&", close, close + 1 + 16 + 2)
        if amp < 0:
            return None if n < close + 19 and not final else 0
        end = amp + 6
        if n < end:
            return None if not final else 0
        return end if all(b in _HEX for b in buf[amp + 2 : end]) else 0

    def _emit(self, out: list[FrameEvent], buf: bytearray, start: int, end: int) -> None:
        self._flush_garbage(out)
        out.append(FrameEvent("frame", bytes(buf[start:end]), None, end - start, self._offset + start))
        self.frames += 1
        self._after_frame = True

    def _short_crc(self, buf: bytearray, data_end: int, frame_end: int) -> int | None:
        if not self.dialect.accepts_short_crc:
            return None
        for k in range(data_end + 1, frame_end):
            if buf[k] in (0x0D, 0x0A):
                return k if all(b in _HEX for b in buf[data_end:k]) else None
        return None

    def _crc_ok(self, buf: bytearray, start: int, data_end: int, frame_end: int) -> bool:
        mode = self.dialect.crc
        if mode == "unchecked":
            return True
        seg = bytes(buf[start:data_end])
        got = int(buf[data_end:frame_end], 16)
        if mode == "modbus":
            return modbus_crc(seg) == got
        if mode == "either":
            return hj212_crc(seg) == got or modbus_crc(seg) == got
        return hj212_crc(seg) == got

    @staticmethod
    def _resync(buf: bytearray, idx: int, end: int) -> int:
        """Where to restart after a bad frame candidate at ``idx``: the next ``##`` inside it."""
        nxt = buf.find(b"##", idx + 2, end)
        return nxt if nxt >= 0 else end


def iter_frames(data: bytes, dialect: Dialect = STANDARD, **kwargs: object):
    """All events of a complete byte string (``feed`` + ``flush``)."""
    framer = StreamFramer(dialect, **kwargs)  # type: ignore[arg-type]
    yield from framer.feed(data)
    yield from framer.flush()
