"""CRC of HJ 212 (HJ 212-2017 Appendix A; same algorithm in HJ/T 212-2005) and CRC-16/MODBUS.

The standard's algorithm (register 0xFFFF; per byte ``reg = (reg >> 8) ^ byte`` then eight
reflected shifts with polynomial 0xA001) is **not** CRC-16/MODBUS, which XORs the byte into the
low half of the register instead.  Check values: ``b""`` → 0xFFFF, ``b"123456789"`` → 0x2F80,
the Appendix A example → 0x1C80 (MODBUS would give 0x0759).

Because ``(reg >> 8) ^ byte`` is always below 256, the register after each byte is ``T[u]`` for
an 8-bit ``u``: the HJ 212 CRC carries only 8 bits of state (only 256 distinct CRC values exist),
which is why the declared length must be treated as a second hard check.

Fast form used here: with ``H[x] = T[x] >> 8`` the state follows ``u_i = H[u_{i-1}] ^ b_i``.
``H`` is linear over GF(2) and ``H^8`` is the identity, so

    u_{n-1} = H^{(n-1) mod 8}(0xFF)  ^  XOR_i H^{(n-1-i) mod 8}(b_i),     CRC = T[u_{n-1}]

and the XOR of the bytes sharing ``(n-1-i) mod 8`` is obtained by folding the message, read as
one big integer, down to 64 bits — a few C-level big-int operations instead of a per-byte loop.
:func:`hj212_crc_bitwise` is the literal algorithm of the standard; tests prove they agree.
"""

from __future__ import annotations

__all__ = [
    "hj212_crc",
    "hj212_crc_bitwise",
    "hj212_crc_table",
    "modbus_crc",
    "crc_hex",
    "CRC_TABLE",
]


def _make_table() -> list[int]:
    table = []
    for i in range(256):
        r = i
        for _ in range(8):
            r = (r >> 1) ^ 0xA001 if r & 1 else r >> 1
        table.append(r)
    return table


#: 256-entry table of the reflected 0x8005 polynomial (0xA001), shared by both CRCs.
CRC_TABLE: tuple[int, ...] = tuple(_make_table())
_T = CRC_TABLE
_H = [t >> 8 for t in _T]
_HP: list[list[int]] = [list(range(256))]
for _k in range(1, 8):
    _HP.append([_H[x] for x in _HP[-1]])
assert [_H[x] for x in _HP[7]] == list(range(256)), "H^8 must be the identity"
_START = tuple(_HP[k][0xFF] for k in range(8))
_H1, _H2, _H3, _H4, _H5, _H6, _H7 = (tuple(h) for h in _HP[1:])
del _k


def hj212_crc(data: bytes) -> int:
    """HJ 212 CRC of ``data`` (the data segment, as bytes) as an int 0…0xFFFF."""
    n = len(data)
    if not n:
        return 0xFFFF
    x = int.from_bytes(data, "big")
    words = (n + 7) >> 3
    while words > 1:
        half = (words + 1) >> 1
        shift = half << 6
        x = (x >> shift) ^ (x & ((1 << shift) - 1))
        words = half
    u = (
        _START[(n - 1) & 7]
        ^ (x & 255)
        ^ _H1[(x >> 8) & 255]
        ^ _H2[(x >> 16) & 255]
        ^ _H3[(x >> 24) & 255]
        ^ _H4[(x >> 32) & 255]
        ^ _H5[(x >> 40) & 255]
        ^ _H6[(x >> 48) & 255]
        ^ _H7[x >> 56]
    )
    return _T[u]


def hj212_crc_table(data: bytes) -> int:
    """Same CRC with the classic one-lookup-per-byte loop (``reg = T[(reg >> 8) ^ b]``)."""
    reg = 0xFFFF
    for b in data:
        reg = _T[(reg >> 8) ^ b]
    return reg


def hj212_crc_bitwise(data: bytes) -> int:
    """The algorithm exactly as written in HJ 212-2017 Appendix A (slow; the reference)."""
    reg = 0xFFFF
    for b in data:
        reg = (reg >> 8) ^ b
        for _ in range(8):
            lsb = reg & 1
            reg >>= 1
            if lsb:
                reg ^= 0xA001
    return reg


def modbus_crc(data: bytes) -> int:
    """CRC-16/MODBUS (init 0xFFFF, ``reg ^= byte`` then 8 shifts with 0xA001) — for devices
    known to send it (``Dialect(crc="modbus")``); it is *not* the HJ 212 CRC."""
    reg = 0xFFFF
    for b in data:
        reg = (reg >> 8) ^ _T[(reg ^ b) & 0xFF]
    return reg


def crc_hex(data: bytes) -> str:
    """The 4 uppercase hex digits the standard transmits (``"%04X"``)."""
    return f"{hj212_crc(data):04X}"
