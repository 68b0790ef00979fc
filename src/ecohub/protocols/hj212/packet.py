"""Packets: the :class:`Packet` dataclass, :func:`decode` and :func:`encode`.

Frame (HJ 212-2017 §6.3.1): ``##`` + 4-digit data-segment length + data segment + 4 hex CRC +
CRLF.  Data segment: ``QN=…;ST=…;CN=…;PW=…;MN=…;Flag=…;[PNUM=…;PNO=…;]CP=&&…&&``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from .codes import (
    COMMAND_CODES,
    DATA_CNS,
    SYSTEM_CODES,
    cn_name,
    data_flags,
    is_encrypted_cn,
    st_name,
)
from .cp import _CP_FAST, EMPTY_CP, DataArea, parse_cp
from .crc import hj212_crc, modbus_crc
from .deviations import PacketWarning
from .dialect import STANDARD, Dialect
from .encrypted import FrameCheck, check_encrypted_frame, clist_limit, crc_matches, deviate, encrypt_frame
from .errors import HJ212Error
from .sm4 import SM4_STANDARD, Decrypted, decrypt_cp_detail, encrypt_cp, is_clist
from .times import TIME14_RE, parse_time

__all__ = [
    "Packet",
    "decode",
    "decode_segment",
    "encode",
    "encode_segment",
    "frame_segment",
    "split_frame",
    "VERSION_BITS",
]

#: Flag version bits (V5…V0) → edition.  000010 = 2025 is UNCONFIRMED (implementations).
VERSION_BITS = {0: "2005", 1: "2017", 2: "2025"}
_VERSION_TO_BITS = {v: k for k, v in VERSION_BITS.items()}

# fast path: the standard field order (QN and Flag optional for 2005-style headers)
_HEADER = re.compile(
    r"(?:QN=(" + TIME14_RE + r"\d{3}|\d{1,16}|\d{18,20});)?ST=([0-9A-Za-z]{2});CN=(\d{4});PW=([^\s;=&,]{0,32});MN=([0-9A-Za-z_.-]{0,24});"
    r"(?:Flag=(\d{1,3});)?(?:PNUM=(\d{1,4});PNO=(\d{1,4});)?CP=&&(.*)&&",
    re.S,
)
_PW = re.compile(r"[^\s;=&,]{0,32}")
_MN = re.compile(r"[0-9A-Za-z_.-]{0,24}")
_ST = re.compile(r"[0-9A-Za-z]{2}")
_ST_LOOSE = re.compile(r"[0-9A-Za-z]{1,5}")
_KNOWN = ("QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO")
_HEXDIGITS = b"0123456789abcdefABCDEF"


@dataclass(slots=True)
class Packet:
    """One HJ 212 packet (decoded, or to be encoded).

    Header fields keep their transmitted text (``qn``, ``st``, ``cn``, ``pw``, ``mn``); ``flag``,
    ``pnum`` and ``pno`` are ints; ``None`` means the field is absent (2005-style headers have no
    QN/Flag).  ``extra`` holds other header fields in order (e.g. a 2025 ``RF`` resend marker).
    ``edition`` forces :attr:`version` (set by ``Dialect.version``).  ``warnings`` lists the
    deviations from the standard the decoder accepted (:class:`PacketWarning`; not compared).
    """

    st: str
    cn: str
    pw: str
    mn: str
    qn: str | None = None
    flag: int | None = None
    pnum: int | None = None
    pno: int | None = None
    cp: DataArea = field(default=EMPTY_CP)
    extra: tuple[tuple[str, str], ...] = ()
    edition: str | None = None
    warnings: tuple[PacketWarning, ...] = field(default=(), compare=False)

    # --- derived -------------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """``"2005"``, ``"2017"`` or ``"2025"``: from ``edition``, else the Flag version bits, else
        ``"2005"`` when there is no Flag."""
        if self.edition is not None:
            return self.edition
        if self.flag is None:
            return "2005"
        return VERSION_BITS.get(self.flag >> 2, "unknown")

    @property
    def ack_required(self) -> bool:
        """Flag bit A: the receiver must answer (9014 for uploads, 9011/9012 for requests)."""
        return bool(self.flag is not None and self.flag & 1)

    @property
    def is_split(self) -> bool:
        """The packet is one part of a split message: PNUM/PNO present (normally with Flag bit D;
        a D bit without PNUM/PNO is read as a whole packet, warning ``split_flag_without_parts``)."""
        return self.pnum is not None

    @property
    def encrypted(self) -> bool:
        return self.cp.encrypted

    @property
    def resend(self) -> bool | None:
        """HJ 212-2025 resend marker ``RF`` (header or CP; position UNCONFIRMED): True/False/None."""
        value = dict(self.extra).get("RF", self.cp.fields.get("RF"))
        return None if value is None else value not in ("0", "")

    @property
    def qn_time(self) -> datetime | None:
        """QN as an aware Beijing-time datetime when it is the standard 17-digit form."""
        if self.qn is None or len(self.qn) != 17:
            return None
        return parse_time(self.qn, "QN")

    @property
    def data_time(self) -> datetime | None:
        """CP ``DataTime`` as an aware Beijing-time datetime, or None."""
        value = self.cp.fields.get("DataTime")
        return None if value is None else parse_time(value, "DataTime")

    def to_dict(self) -> dict[str, object]:
        """JSON-able form (used by ``ecohub hj212 parse --json``)."""
        cp = self.cp
        out: dict[str, object] = {
            "version": self.version,
            "qn": self.qn,
            "st": self.st,
            "st_name": st_name(self.st),
            "cn": self.cn,
            "cn_name": cn_name(self.cn),
            "pw": self.pw,
            "mn": self.mn,
            "flag": self.flag,
            "ack_required": self.ack_required,
            "warnings": [w.to_dict() for w in self.warnings],
        }
        if self.pnum is not None:
            out["pnum"] = self.pnum
            out["pno"] = self.pno
        if self.extra:
            out["extra"] = dict(self.extra)
        if cp.encrypted:
            out["encrypted"] = True
            out["cp_ciphertext"] = cp.text
            return out
        out["params"] = cp.params
        if cp.factors:
            out["factors"] = cp.factors
        return out


# --- decoding --------------------------------------------------------------------------------------


def _to_bytes(data: object) -> bytes:
    if type(data) is bytes:
        return data  # type: ignore[return-value]
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise HJ212Error("bad_type", f"a packet must be bytes or str, not {type(data).__name__}", None, None)


def split_frame(data: bytes | str, dialect: Dialect = STANDARD) -> tuple[bytes, str]:
    """Check the frame (header, length, CRC) and return ``(data_segment_bytes, crc_text)``.

    The trailing CRLF is optional (a lone LF is tolerated too).  A frame whose CRC or length can
    only be checked over the decrypted (HJ 212-2025) data segment is rejected here; :func:`decode`
    accepts it.
    """
    seg, crc_text, pending = _frame(_to_bytes(data), dialect, [])
    if pending is not None:
        if pending.crc is not None:
            raise HJ212Error("bad_crc", f"CRC {crc_text} does not match the transmitted data segment", "CRC", crc_text)
        raise HJ212Error("length_mismatch", f"length field says {pending.declared} but the data segment is longer", "length", pending.declared)
    return seg, crc_text


def _frame(data: bytes, dialect: Dialect, warns: list[PacketWarning]) -> tuple[bytes, str, FrameCheck | None]:
    """Frame checks; returns the data segment, the CRC text and what could not be verified yet
    (an encrypted CP whose CRC or length may cover the plaintext segment)."""
    if data[-2:] == b"\r\n":
        data = data[:-2]
    elif data[-1:] == b"\n":
        data = data[:-1]
    n = len(data)
    if n < 7 or data[:2] != b"##":
        raise HJ212Error("bad_header", "a packet must start with '##' and hold length, data and CRC", "header", data[:12])
    lf = data[2:6]
    if not lf.isdigit():
        raise HJ212Error("bad_length", f"length field {lf!r} is not 4 decimal digits", "length", lf)
    declared = int(lf)
    clist = b";CP=&&{0x" in data or b";CP=&&{0X" in data
    if declared > dialect.max_length and not (clist and declared <= clist_limit(dialect)):
        raise HJ212Error("too_long", f"declared length {declared} is above the maximum {dialect.max_length}", "length", declared)
    pending: FrameCheck | None = None
    if dialect.length_unit == "bytes":
        crc_len = n - 6 - declared
        if crc_len == 4:
            seg = data[6 : 6 + declared]
            crc_field = data[6 + declared :]
        elif (
            1 <= crc_len <= 3
            and _is_hex(data[6 + declared :])
            and (dialect.short_crc or (dialect.lenient and crc_matches(data[6 : 6 + declared], int(data[6 + declared :], 16), dialect.crc)))
        ):
            seg = data[6 : 6 + declared]
            crc_field = data[6 + declared :]
            if not dialect.short_crc:
                warns.append(PacketWarning.of("crc_short", "CRC", crc_field.decode("ascii")))
        elif clist and crc_len > 4 and _is_hex(data[-4:]) and data[-6:-4] == b"&&":
            # HJ 212-2025 A.2 examples: the length field counts the plaintext segment
            seg = data[6:-4]
            crc_field = data[-4:]
            pending = FrameCheck(declared=declared)
        else:
            hint = ""
            if 0 < crc_len < 4 and _is_hex(data[6 + declared :]):
                hint = f" (or a {crc_len}-digit CRC: Dialect.short_crc)"
            raise HJ212Error(
                "length_mismatch",
                f"length field says {declared} bytes but the frame holds {max(n - 10, 0)} data bytes + 4 CRC{hint}",
                "length",
                declared,
            )
    else:  # "chars": the CRC is the last 4 bytes; the length counts characters
        seg = data[6:-4]
        crc_field = data[-4:]
        try:
            chars = len(seg.decode("utf-8"))
        except UnicodeDecodeError:
            raise HJ212Error("bad_field", "data segment is not valid UTF-8", "data", seg) from None
        if chars != declared:
            if not (clist and seg.endswith(b"&&")):
                raise HJ212Error("length_mismatch", f"length field says {declared} characters but the data segment has {chars}", "length", declared)
            pending = FrameCheck(declared=declared)
    if not _is_hex(crc_field):
        raise HJ212Error("bad_crc", f"CRC field {crc_field!r} is not hexadecimal", "CRC", crc_field)
    crc_text = crc_field.decode("ascii")
    if crc_field != crc_field.upper():
        warns.append(PacketWarning.of("crc_lowercase", "CRC", crc_text))
    got = int(crc_field, 16)
    if not crc_matches(seg, got, dialect.crc):
        i = seg.rfind(b"CP=&&")
        body = seg[i + 5 : -2] if i >= 0 and seg.endswith(b"&&") else b""
        if body and (body[:3] in (b"{0x", b"{0X") or b"=" not in body.rstrip(b"=")):
            # an encrypted CP: the CRC may cover the plaintext segment (HJ 212-2025 A.2)
            if pending is None:
                pending = FrameCheck()
            pending.crc = got
            pending.crc_text = crc_text
        else:
            want = "%04X" % (modbus_crc(seg) if dialect.crc == "modbus" else hj212_crc(seg))
            raise HJ212Error("bad_crc", f"CRC {crc_text} does not match the data segment (expected {want})", "CRC", crc_field)
    return seg, crc_text, pending


def _is_hex(b: bytes) -> bool:
    return bool(b) and not b.strip(_HEXDIGITS)


def decode(data: bytes | str, dialect: Dialect = STANDARD) -> Packet:
    """Decode one framed packet (``##…CRC`` with optional CRLF) with full validation.

    Accepted deviations are listed in ``Packet.warnings`` (lenient dialect; ``Dialect.lenient=False``
    rejects them).  Raises :class:`HJ212Error` — and nothing else — for any input.
    """
    try:
        if type(data) is bytes and dialect._fast:  # fast path: a well-formed frame
            end = len(data) - 2 if data.endswith(b"\r\n") else len(data)
            lf = data[2:6]
            if data.startswith(b"##") and lf.isdigit() and end - 10 == int(lf) <= dialect.max_length:
                crc = data[end - 4 : end]
                seg = data[6 : end - 4]
                if not crc.strip(_HEXDIGITS) and int(crc, 16) == hj212_crc(seg):
                    try:
                        text = seg.decode("utf-8")
                    except UnicodeDecodeError:
                        raise HJ212Error("bad_field", "data segment is not valid UTF-8", "data", seg) from None
                    warns: list[PacketWarning] = []
                    if not crc.isupper() and not crc.isdigit():  # lowercase hex letters
                        warns.append(PacketWarning.of("crc_lowercase", "CRC", crc.decode("ascii")))
                    info: dict[str, object] = {}
                    packet = _decode_text(text, dialect, warns, info)
                    if "cipher" in info:
                        _check_frame(packet, text, info, int(crc, 16), None, dialect, warns)
                    return packet
        raw = _to_bytes(data)
        warns = []
        seg, crc_text, pending = _frame(raw, dialect, warns)
        try:
            text = seg.decode("utf-8")
        except UnicodeDecodeError:
            raise HJ212Error("bad_field", "data segment is not valid UTF-8", "data", seg) from None
        info = {}
        packet = _decode_text(text, dialect, warns, info)
        if "cipher" in info:
            _check_frame(packet, text, info, int(crc_text, 16), pending, dialect, warns)
        elif pending is not None:  # the CP was not ciphertext after all
            if pending.crc is not None:
                want = f"{hj212_crc(seg):04X}"
                raise HJ212Error("bad_crc", f"CRC {crc_text} does not match the data segment (expected {want})", "CRC", crc_text)
            raise HJ212Error("length_mismatch", f"length field says {pending.declared} but the data segment has {len(seg)}",
                             "length", pending.declared)
        elif len(text) > dialect.max_length and dialect.length_unit == "bytes" and len(seg) > dialect.max_length:
            raise HJ212Error("too_long", f"data segment of {len(seg)} is above the maximum {dialect.max_length}", "length", len(seg))
        return packet
    except HJ212Error:
        raise
    except Exception as exc:  # defensive: the contract is HJ212Error only
        raise HJ212Error("bad_field", f"undecodable packet ({type(exc).__name__}: {exc})", None, None) from exc


def _check_frame(packet: Packet, text: str, info: dict[str, object], got: int, pending: FrameCheck | None,
                 dialect: Dialect, warns: list[PacketWarning]) -> None:
    decrypted = info.get("decrypted")
    check_encrypted_frame(text, str(info["cipher"]), decrypted if isinstance(decrypted, Decrypted) else None,
                          got, pending, dialect, warns)
    packet.warnings = tuple(warns)


def decode_segment(segment: bytes | str, dialect: Dialect = STANDARD) -> Packet:
    """Decode a bare data segment (``QN=…;…;CP=&&…&&``, no ``##``/length/CRC)."""
    try:
        if isinstance(segment, str):
            text = segment
            size = len(text.encode("utf-8")) if dialect.length_unit == "bytes" else len(text)
        else:
            raw = _to_bytes(segment)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise HJ212Error("bad_field", "data segment is not valid UTF-8", "data", raw) from None
            size = len(raw) if dialect.length_unit == "bytes" else len(text)
        limit = clist_limit(dialect) if ";CP=&&{0x" in text else dialect.max_length
        if size > limit:
            raise HJ212Error("too_long", f"data segment of {size} is above the maximum {dialect.max_length}", "length", size)
        return _decode_text(text, dialect, [], {})
    except HJ212Error:
        raise
    except Exception as exc:
        raise HJ212Error("bad_field", f"undecodable segment ({type(exc).__name__}: {exc})", None, None) from exc


def _decode_text(text: str, dialect: Dialect, warns: list[PacketWarning], info: dict[str, object]) -> Packet:
    m = _HEADER.fullmatch(text)
    if m is not None:
        qn, st, cn, pw, mn, flag_s, pnum_s, pno_s, cp_text = m.groups()
        extra: tuple[tuple[str, str], ...] = ()
    else:
        qn, st, cn, pw, mn, flag_s, pnum_s, pno_s, cp_text, extra = _header_slow(text, dialect, warns)

    # --- header semantics
    if qn is not None:
        if len(qn) == 17:
            if qn[6:8] > "28" or m is None:
                parse_time(qn, "QN")
        else:
            warns.append(PacketWarning.of("qn_format", "QN", qn))
    if not mn and cn[0] != "9":
        raise HJ212Error("bad_field", "MN is empty (allowed only in 9xxx answers)", "MN", mn)
    edition = dialect.version
    version: str | None
    if flag_s is None:
        flag = None
        version = "2005"
    else:
        flag = int(flag_s)
        if flag > 255:
            raise HJ212Error("bad_flag", f"Flag={flag_s} is above 255", "Flag", flag_s)
        version = VERSION_BITS.get(flag >> 2)
        if version is None and edition is None:
            raise HJ212Error("bad_flag", f"Flag={flag_s} has unknown version bits {flag >> 2:06b}", "Flag", flag_s)
    if edition is not None:
        version = edition
    assert version is not None
    if qn is None and (dialect.require_qn or version != "2005"):
        raise HJ212Error("missing_field", f"QN is required in HJ {version} packets", "QN", None)
    pnum: int | None
    pno: int | None
    if pnum_s is not None:
        pnum = int(pnum_s)
        pno = int(pno_s)  # type: ignore[arg-type]
        if not 1 <= pno <= pnum:
            raise HJ212Error("bad_field", f"PNO={pno_s} is not within 1…PNUM={pnum_s}", "PNO", pno_s)
        if flag is not None and not flag & 2:
            warns.append(PacketWarning.of("parts_without_split_flag", "Flag", flag_s))
    else:
        pnum = pno = None
        if flag is not None and flag & 2:
            deviate(dialect, warns, "split_flag_without_parts", "PNUM", None, "missing_field",
                    f"Flag={flag} marks a split packet but PNUM/PNO are missing: taken as a whole packet")
    if st not in SYSTEM_CODES:
        if dialect.strict_codes:
            raise HJ212Error("unknown_code", f"ST={st} is not a known system code", "ST", st)
        if len(st) == 2:  # other lengths were reported by _header_slow
            warns.append(PacketWarning.of("st_unknown", "ST", st))
    if cn not in COMMAND_CODES:
        if dialect.strict_codes:
            raise HJ212Error("unknown_code", f"CN={cn} is not a known command code", "CN", cn)
        warns.append(PacketWarning.of("cn_unknown", "CN", cn))

    # --- CP
    fast = False
    if not cp_text:
        cp = EMPTY_CP
    elif (version == "2025" and "=" not in cp_text.rstrip("=")) or (cp_text[0] == "{" and is_clist(cp_text)):
        info["cipher"] = cp_text
        cp = _decrypt(cp_text, dialect, info)
    elif dialect.strict_values and _CP_FAST.fullmatch(cp_text) is not None:
        # fast path of parse_cp (days 01–28, 14-digit times: no calendar check, no time_ms warning)
        cp = DataArea(cp_text, _items=(cp_text[:-1] if cp_text[-1] in ";," else cp_text).replace(",", ";").split(";"))
        fast = True
    else:
        cp = parse_cp(cp_text, strict_values=dialect.strict_values)
    plain = cp.text if not cp.encrypted else ""
    if (
        cn in DATA_CNS
        and "-" in plain
        and not plain.startswith("DataTime=")
        and ";DataTime=" not in plain
        and ",DataTime=" not in plain
    ):
        raise HJ212Error("missing_field", f"CN={cn} data packet has values but no DataTime", "DataTime", None)
    i = -1 if fast else plain.find("Time=")
    while i >= 0:  # a 15th digit: a time with milliseconds
        if plain[i + 19 : i + 20].isdigit():
            start = max(plain.rfind(";", 0, i), plain.rfind(",", 0, i)) + 1
            end = i + 5
            while end < len(plain) and plain[end].isdigit():
                end += 1
            warns.append(PacketWarning.of("time_ms", plain[start : i + 4], plain[i + 5 : end]))
            break
        i = plain.find("Time=", i + 19)
    if dialect.strict_codes and not cp.encrypted:
        allowed = data_flags(version)
        for k, v in cp.fields.items():
            if k.endswith("-Flag") and v not in allowed:
                raise HJ212Error("unknown_code", f"{k}={v} is not an HJ {version} data flag", k, v)
    return Packet(st, cn, pw, mn, qn, flag, pnum, pno, cp, extra, edition, tuple(warns) if warns else ())


def _decrypt(cp_text: str, dialect: Dialect, info: dict[str, object]) -> DataArea:
    if dialect.sm4_key is None:
        return DataArea(cp_text, encrypted=True, _items=[])
    variant = dialect.sm4_variant or SM4_STANDARD
    result = decrypt_cp_detail(cp_text, dialect.sm4_key, mode=variant.mode, iv=variant.iv)
    info["decrypted"] = result
    return parse_cp(result.text, strict_values=dialect.strict_values)


def _header_slow(text: str, dialect: Dialect, warns: list[PacketWarning]):
    """Any field order, extra header fields, precise errors."""
    i = text.find("CP=")
    if i < 0:
        raise HJ212Error("missing_field", "the data segment has no CP=&&…&& data area", "CP", None)
    if i and text[i - 1] != ";":
        raise HJ212Error("bad_field", "CP= must follow a ';'", "CP", text[max(i - 10, 0) : i + 5])
    rest = text[i + 3 :]
    if not rest.startswith("&&"):
        raise HJ212Error("bad_cp", "the data area must start with '&&' (CP=&&…&&)", "CP", rest)
    if len(rest) < 4 or not rest.endswith("&&"):
        raise HJ212Error("bad_cp", "the data area must end with '&&' at the end of the data segment", "CP", rest)
    cp_text = rest[2:-2]
    if "&&" in cp_text:
        raise HJ212Error("bad_cp", "text after the closing '&&' of the data area", "CP", cp_text)
    head: dict[str, str] = {}
    extra: list[tuple[str, str]] = []
    if i:
        for item in text[: i - 1].split(";"):
            name, eq, value = item.partition("=")
            if not eq or not name:
                raise HJ212Error("bad_field", f"header item {item!r} is not name=value", name or item, item)
            if name in head or any(name == k for k, _ in extra):
                raise HJ212Error("bad_field", f"header field {name} occurs twice", name, value)
            if name in _KNOWN:
                head[name] = value
            elif name.strip() in _KNOWN:
                raise HJ212Error("bad_field", f"header field name {name!r} has white space", name, value)
            else:
                if not name.isascii() or not name.isalnum() or any(c in value for c in "&,="):
                    raise HJ212Error("bad_field", f"header item {item!r} is not a valid field", name, value)
                extra.append((name, value))
    for name in ("ST", "CN", "PW", "MN"):
        if name not in head:
            raise HJ212Error("missing_field", f"header field {name} is missing", name, None)
    qn = head.get("QN")
    if qn is not None and not (qn.isdigit() and qn.isascii() and 1 <= len(qn) <= 20):
        raise HJ212Error("bad_field", f"QN={qn!r} is not 1–20 digits", "QN", qn)
    st = head["ST"]
    if _ST.fullmatch(st) is None:
        if _ST_LOOSE.fullmatch(st) is None:
            raise HJ212Error("bad_field", f"ST={st!r} is not a 2-character system code", "ST", st)
        deviate(dialect, warns, "st_length", "ST", st, "bad_field",
                f"ST={st} is not a 2-character system code: kept as given")
    cn = head["CN"]
    if not (len(cn) == 4 and cn.isdigit() and cn.isascii()):
        raise HJ212Error("bad_field", f"CN={cn!r} is not a 4-digit command code", "CN", cn)
    pw = head["PW"]
    if _PW.fullmatch(pw) is None:
        raise HJ212Error("bad_field", f"PW={pw!r} is not 0–32 printable characters", "PW", pw)
    mn = head["MN"]
    if _MN.fullmatch(mn) is None:
        raise HJ212Error("bad_field", f"MN={mn!r} is not 0–24 letters/digits", "MN", mn)
    flag_s = head.get("Flag")
    if flag_s is not None and not (flag_s.isdigit() and flag_s.isascii() and len(flag_s) <= 3):
        raise HJ212Error("bad_flag", f"Flag={flag_s!r} is not an integer 0–255", "Flag", flag_s)
    pnum_s, pno_s = head.get("PNUM"), head.get("PNO")
    for name, number in (("PNUM", pnum_s), ("PNO", pno_s)):
        if number is not None and not (number.isdigit() and number.isascii() and len(number) <= 4):
            raise HJ212Error("bad_field", f"{name}={number!r} is not 1–4 digits", name, number)
    if (pnum_s is None) != (pno_s is None):
        missing = "PNO" if pno_s is None else "PNUM"
        raise HJ212Error("missing_field", f"{missing} is missing (PNUM and PNO come together)", missing, None)
    return qn, st, cn, pw, mn, flag_s, pnum_s, pno_s, cp_text, tuple(extra)


# --- encoding --------------------------------------------------------------------------------------


def encode_segment(packet: Packet, dialect: Dialect = STANDARD, *, encrypt: bool | None = None) -> str:
    """The data segment text of ``packet`` as transmitted (validated by decoding it back).

    ``encrypt``: None → SM4-encrypt the CP when the dialect has a key, the packet is HJ 212-2025
    and its CN is one of the encrypted commands; True/False force it.  Encryption follows
    ``dialect.sm4_variant`` (default: the standard's C-style list with Nopadding).
    """
    plain, wire = _segments(packet, dialect, encrypt)
    return wire if wire is not None else plain


def _segments(packet: Packet, dialect: Dialect, encrypt: bool | None) -> tuple[str, str | None]:
    """(plaintext segment, transmitted segment or None when not encrypted), both validated."""
    cp = packet.cp
    if not isinstance(cp, DataArea):
        raise HJ212Error("bad_cp", "Packet.cp must be a DataArea (use DataArea.build)", "CP", None)
    cp_text = cp.text
    if encrypt is None:
        encrypt = (
            dialect.sm4_key is not None
            and not cp.encrypted
            and bool(cp_text)
            and packet.version == "2025"
            and is_encrypted_cn(packet.cn)
        )
    parts = []
    if packet.qn is not None:
        parts.append(f"QN={packet.qn}")
    parts.append(f"ST={packet.st};CN={packet.cn};PW={packet.pw};MN={packet.mn}")
    if packet.flag is not None:
        parts.append(f"Flag={packet.flag}")
    if packet.pnum is not None or packet.pno is not None:
        parts.append(f"PNUM={packet.pnum};PNO={packet.pno}")
    for name, value in packet.extra:
        parts.append(f"{name}={value}")
    head = ";".join(parts) + ";CP=&&"
    text = f"{head}{cp_text}&&"
    if not (encrypt and not cp.encrypted and cp_text):
        _decode_text_checked(text, dialect)
        return text, None
    if dialect.sm4_key is None:
        raise HJ212Error("decrypt_failed", "encryption asked but the dialect has no SM4 key", "CP", None)
    _decode_text_checked(text, dialect)
    variant = dialect.sm4_variant or SM4_STANDARD
    wire = head + encrypt_cp(cp_text, dialect.sm4_key, mode=variant.mode, iv=variant.iv, padding=variant.padding,
                             encoding=variant.form) + "&&"
    _decode_text_checked(wire, dialect, clist_limit(dialect) if variant.form == "clist" else None)
    return text, wire


def _decode_text_checked(text: str, dialect: Dialect, limit: int | None = None) -> None:
    size = len(text.encode("utf-8")) if dialect.length_unit == "bytes" else len(text)
    limit = dialect.max_length if limit is None else limit
    if size > limit:
        raise HJ212Error("too_long", f"data segment of {size} is above the maximum {limit}; split it (PNUM/PNO)", "length", size)
    try:
        _decode_text(text, dialect, [], {})
    except HJ212Error as exc:
        raise HJ212Error(exc.reason, f"cannot encode: {exc}", exc.field, exc.value) from None


def frame_segment(segment: str | bytes, dialect: Dialect = STANDARD) -> bytes:
    """``##`` + length + segment + CRC + CRLF for a data segment (CRC per the dialect)."""
    raw = segment.encode("utf-8") if isinstance(segment, str) else bytes(segment)
    length = len(raw) if dialect.length_unit == "bytes" else len(raw.decode("utf-8"))
    if length > dialect.max_length and not (b";CP=&&{0x" in raw and length <= clist_limit(dialect)):
        raise HJ212Error("too_long", f"data segment of {length} is above the maximum {dialect.max_length}", "length", length)
    crc = modbus_crc(raw) if dialect.crc == "modbus" else hj212_crc(raw)
    return b"##%04d%s%04X\r\n" % (length, raw, crc)


def encode(packet: Packet, dialect: Dialect = STANDARD, *, encrypt: bool | None = None) -> bytes:
    """The complete frame of ``packet``: ``##`` + length + data segment + CRC + CRLF.

    An encrypted CP (HJ 212-2025) is built per ``dialect.sm4_variant`` — by default the standard's
    text: C-style byte list, Nopadding with the tail in clear, CRC over the plaintext segment.
    """
    plain, wire = _segments(packet, dialect, encrypt)
    if wire is None:
        return frame_segment(plain, dialect)
    return encrypt_frame(plain, dialect.sm4_key, dialect.sm4_variant or SM4_STANDARD, dialect)  # type: ignore[arg-type]
