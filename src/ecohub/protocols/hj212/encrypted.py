"""HJ 212-2025 frames with an SM4-encrypted CP: building them per :class:`Sm4Variant`, and checking
what CRC and length field of a received one cover (plaintext or transmitted segment).

The standard's text (§6.4.2, Appendix A.2, see ``sm4.py``): the CRC is computed over the
**plaintext** data segment and the packet built before the CP is encrypted.  Devices and codecs also
compute it over the transmitted segment, and the A.2 examples' length field counts the plaintext
segment.  :func:`encrypt_frame` builds every variant (for the simulator and the tests);
:func:`check_encrypted_frame` finds which one a received frame used.
"""

from __future__ import annotations

from dataclasses import dataclass

from .crc import hj212_crc, modbus_crc
from .deviations import WARNINGS, PacketWarning
from .dialect import STANDARD, Dialect
from .errors import HJ212Error
from .sm4 import SM4_STANDARD, Decrypted, Sm4Variant, encrypt_cp

__all__ = ["encrypt_frame", "encrypt_segment_text", "clist_limit", "check_encrypted_frame", "FrameCheck", "deviate", "crc_matches"]


def clist_limit(dialect: Dialect) -> int:
    """Longest transmitted data segment accepted when the CP is a C-style byte list: the list writes
    each byte as 5 characters, so a plaintext segment of ``max_length`` grows up to ~5×; the
    plaintext is checked against ``max_length`` after decryption."""
    return min(9999, 6 * dialect.max_length)


def crc_matches(seg: bytes, got: int, mode: str) -> bool:
    """Does CRC value ``got`` match ``seg`` under ``Dialect.crc`` mode ``mode``?"""
    if mode == "unchecked":
        return True
    if mode == "modbus":
        return modbus_crc(seg) == got
    if mode == "either":
        return hj212_crc(seg) == got or modbus_crc(seg) == got
    return hj212_crc(seg) == got


def deviate(dialect: Dialect, warns: list[PacketWarning], code: str, field: str | None, value: object,
            reason: str, message: str | None = None) -> None:
    """Record deviation ``code`` as a warning (lenient dialect) or reject it with ``reason``."""
    text = message or WARNINGS[code][0]
    if not dialect.lenient:
        raise HJ212Error(reason, f"{text} (strict dialect)", field, value)
    warns.append(PacketWarning.of(code, field, value, text))


def _split_cp(segment: str) -> tuple[str, str]:
    i = segment.rfind("CP=&&")
    if i < 0 or not segment.endswith("&&") or len(segment) < i + 7:
        raise HJ212Error("missing_field", "the data segment has no CP=&&…&& data area", "CP", None)
    return segment[: i + 5], segment[i + 5 : -2]


def encrypt_segment_text(segment: str, key: bytes | str, variant: Sm4Variant = SM4_STANDARD) -> str:
    """The transmitted data segment: ``segment`` (plaintext, ``…;CP=&&…&&``) with its CP encrypted
    per ``variant`` (an empty CP stays empty)."""
    head, cp = _split_cp(segment)
    if not cp:
        return segment
    cipher = encrypt_cp(cp, key, mode=variant.mode, iv=variant.iv, padding=variant.padding, encoding=variant.form)
    return f"{head}{cipher}&&"


def encrypt_frame(segment: str, key: bytes | str, variant: Sm4Variant = SM4_STANDARD,
                  dialect: Dialect = STANDARD) -> bytes:
    """A complete frame (``##`` + length + segment + CRC + CRLF) of the plaintext data segment
    ``segment`` with its CP SM4-encrypted per ``variant``: C-style list / hex / base64, Nopadding
    with clear tail / PKCS#7 / zero, CRC over the plaintext or the transmitted segment, length field
    of the transmitted or the plaintext segment.  The CRC algorithm follows ``dialect.crc``.

    Example (the standard's form, Appendix A.2)::

        encrypt_frame("QN=…;ST=31;CN=2051;PW=123456;MN=…;Flag=9;CP=&&DataTime=…&&", "0" * 16)
        → b"##0802QN=…;Flag=9;CP=&&{0xE4,0x3E,…,0xA4}g=N&&B541\\r\\n"
    """
    wire = encrypt_segment_text(segment, key, variant)
    plain_raw = segment.encode("utf-8")
    wire_raw = wire.encode("utf-8")
    plain_len = len(plain_raw) if dialect.length_unit == "bytes" else len(segment)
    if plain_len > dialect.max_length:
        raise HJ212Error("too_long", f"data segment of {plain_len} is above the maximum {dialect.max_length}; split it (PNUM/PNO)",
                         "length", plain_len)
    wire_len = len(wire_raw) if dialect.length_unit == "bytes" else len(wire)
    wire_limit = clist_limit(dialect) if variant.form == "clist" else dialect.max_length
    if wire_len > wire_limit:
        raise HJ212Error("too_long", f"transmitted data segment of {wire_len} is above the maximum {wire_limit}", "length", wire_len)
    length = plain_len if variant.length_of == "plain" else wire_len
    crc_seg = plain_raw if variant.crc_over == "plain" else wire_raw
    crc = modbus_crc(crc_seg) if dialect.crc == "modbus" else hj212_crc(crc_seg)
    return b"##%04d%s%04X\r\n" % (length, wire_raw, crc)


@dataclass(slots=True)
class FrameCheck:
    """What the frame layer could not verify before decryption (None: verified)."""

    crc: int | None = None  # the received CRC, when it does not match the transmitted segment
    crc_text: str = ""
    declared: int | None = None  # the length field, when it does not count the transmitted segment


def check_encrypted_frame(text: str, cipher: str, decrypted: Decrypted | None, got_crc: int, pending: FrameCheck | None,
                          dialect: Dialect, warns: list[PacketWarning]) -> None:
    """After decoding a frame whose CP was ``cipher``: verify the CRC and the length over the
    plaintext segment when they did not match the transmitted one, and compare what the frame used
    with the device's variant (``dialect.sm4_variant`` or the standard's).  Raises ``bad_crc`` /
    ``length_mismatch`` when neither segment matches; records or rejects deviations."""
    expected = dialect.sm4_variant or SM4_STANDARD
    if decrypted is None:  # no key: nothing more can be checked
        if pending is not None:
            what = "CRC" if pending.crc is not None else "length"
            deviate(dialect, warns, "crc_unverified", what, pending.crc_text if pending.crc is not None else pending.declared,
                    "bad_crc" if pending.crc is not None else "length_mismatch")
        return
    head = text[: len(text) - len(cipher) - 2]
    plain_seg = (head + decrypted.text + "&&").encode("utf-8")
    size = len(plain_seg) if dialect.length_unit == "bytes" else len(plain_seg.decode("utf-8"))
    if size > dialect.max_length:
        raise HJ212Error("too_long", f"plaintext data segment of {size} is above the maximum {dialect.max_length}", "length", size)
    # CRC: transmitted segment or plaintext segment
    if pending is not None and pending.crc is not None:
        if not crc_matches(plain_seg, pending.crc, dialect.crc):
            want = "%04X" % (modbus_crc(plain_seg) if dialect.crc == "modbus" else hj212_crc(plain_seg))
            raise HJ212Error("bad_crc", f"CRC {pending.crc_text} matches neither the transmitted nor the plaintext data "
                             f"segment (plaintext CRC {want})", "CRC", pending.crc_text)
        crc_over = "plain"
    elif expected.crc_over == "plain" and crc_matches(plain_seg, got_crc, dialect.crc):
        crc_over = "plain"  # both match (CRC values collide 1 time in 256): the expected one
    else:
        crc_over = "cipher"
    if crc_over != expected.crc_over:
        deviate(dialect, warns, "sm4_crc", "CRC", crc_over,
                "bad_crc", f"the CRC covers the {'plaintext' if crc_over == 'plain' else 'transmitted'} segment; "
                f"the device's SM4 variant ({expected}) has it over the {'plaintext' if expected.crc_over == 'plain' else 'transmitted'} one")
    # length field: transmitted segment (checked by the frame layer) or plaintext segment
    length_of = "cipher"
    if pending is not None and pending.declared is not None:
        if size != pending.declared:
            raise HJ212Error("length_mismatch", f"length field says {pending.declared} but neither the transmitted nor the "
                             f"plaintext data segment ({size}) has that length", "length", pending.declared)
        length_of = "plain"
    if length_of != expected.length_of:
        deviate(dialect, warns, "sm4_length", "length", pending.declared if pending else None, "length_mismatch",
                "the length field counts the plaintext segment (as the HJ 212-2025 A.2 examples print it), not the transmitted one"
                if length_of == "plain" else "the length field counts the transmitted segment; the device's SM4 variant counts the plaintext")
    # ciphertext form and padding
    if decrypted.form != expected.form:
        deviate(dialect, warns, "sm4_form", "CP", decrypted.form, "decrypt_failed",
                f"the encrypted CP is written as {decrypted.form}; the device's SM4 variant ({expected}) writes {expected.form}")
    if decrypted.padding != expected.padding and not (expected.padding == "zero" and decrypted.padding == "none"):
        deviate(dialect, warns, "sm4_padding", "CP", decrypted.padding, "decrypt_failed",
                f"the encrypted CP uses {decrypted.padding} padding; the device's SM4 variant ({expected}) uses {expected.padding}")
