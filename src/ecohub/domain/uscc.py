"""Unified social credit code (统一社会信用代码) — GB 32100-2015.

An 18-character code: registration-authority code (1), organisation-type code (1), administrative
division code (6), the organisation's identifier (9; the GB 11714 organisation code) and a check
character (1). Characters come from the 31-symbol set ``0-9 A-H J-N P-R T-U W-Y`` (no I, O, Z, S, V).

Check character (GB 32100-2015 §4.4 and Appendix): with the code value C_i of each of the first 17
characters and the weights W_i = 3^(i-1) mod 31 (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24,
10, 30, 28), C_18 = 31 − (Σ C_i·W_i mod 31); a result of 31 is written as 0.
"""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CHARSET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


class USCCError(ValueError):
    """A unified social credit code that is not valid; the message names the problem and the value."""


def check_character(first17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters of a code."""
    if len(first17) != 17:
        raise USCCError(f"uscc: need 17 characters to compute the check character, got {len(first17)} in {first17!r}")
    total = 0
    for pos, (ch, w) in enumerate(zip(first17, WEIGHTS, strict=True), start=1):
        v = _VALUE.get(ch)
        if v is None:
            raise USCCError(f"uscc: character {ch!r} at position {pos} of {first17!r} is not allowed (GB 32100 set: {CHARSET})")
        total += v * w
    return CHARSET[(31 - total % 31) % 31]


def normalize(code: str) -> str:
    """Strip blanks and upper-case; the standard uses upper-case letters only."""
    return code.strip().upper()


def validate(code: str) -> str:
    """Return the normalised code, or raise :class:`USCCError` naming what is wrong.

    Checks length (18), the character set, the 6-digit administrative division part (positions 3-8)
    and the check character (position 18).
    """
    c = normalize(code)
    if len(c) != 18:
        raise USCCError(f"uscc: {code!r} has {len(c)} characters; a unified social credit code has 18")
    expected = check_character(c[:17])
    if c[17] not in _VALUE:
        raise USCCError(f"uscc: check character {c[17]!r} of {code!r} is not in the GB 32100 character set")
    if not c[2:8].isdigit():
        raise USCCError(f"uscc: positions 3-8 of {code!r} ({c[2:8]!r}) must be the 6-digit administrative division code")
    if c[17] != expected:
        raise USCCError(f"uscc: check character of {code!r} is {c[17]!r}, but GB 32100-2015 gives {expected!r}")
    return c


def is_valid(code: str) -> bool:
    try:
        validate(code)
    except USCCError:
        return False
    return True
