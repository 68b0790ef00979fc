"""The permit number (排污许可证编号) and its check.

Rule (HJ 608-2017 《排污单位编码规则》 §5 and Appendix A, which took over the 2016 《固定污染源（水、大气）编码规则
（试行）》): the code of a stationary source — which is the permit number — has 22 characters:

* positions 1-18: the enterprise's unified social credit code (GB 32100-2015; its check character validated),
* positions 19-21: a 3-digit sequence number of the enterprise's stationary sources (``001`` …),
* position 22: one upper-case letter. HJ 608-2017's Appendix A example is ``91130200699229617X001P``
  (河钢股份有限公司唐山分公司, ``P`` for a permit). Registrations (排污登记) are numbered the same way with ``W``
  in position 22 in practice — UNCONFIRMED against the text of HJ 608 (see ``docs/permits.md``); the 2016 trial
  rule called position 22 a check code. We therefore accept ``P`` and ``W`` only, and require ``W`` exactly for
  the ``registration`` category.

Enterprises without a USCC get an ``H9…`` substitute code under the 2016 trial rule; those are not accepted here
(UNCONFIRMED whether HJ 608-2017 keeps them) — the register needs the enterprise's USCC.
"""

from __future__ import annotations

from ecohub.domain.errors import InputError
from ecohub.domain.uscc import USCCError
from ecohub.domain.uscc import validate as validate_uscc

LETTERS = {"P": "permit (排污许可证)", "W": "registration (排污登记) — UNCONFIRMED"}


def check_number(number: str, uscc: str | None = None, category: str | None = None) -> str:
    """Return the normalised permit number, or raise :class:`InputError` (field ``number``) naming what is wrong:
    length, the USCC part (and that it is ``uscc`` when given), the sequence, the letter (and that it fits
    ``category``)."""
    n = (number or "").strip().upper()
    if len(n) != 22:
        raise InputError("number", number, f"has {len(n)} characters; a permit number has 22 "
                         "(USCC 18 + sequence 3 + letter 1, HJ 608-2017)")
    try:
        head = validate_uscc(n[:18])
    except USCCError as e:
        raise InputError("number", number, f"positions 1-18 are not a valid USCC: {e}") from None
    if uscc is not None and head != uscc.strip().upper():
        raise InputError("number", number, f"positions 1-18 ({head}) are not the enterprise's USCC {uscc}")
    if not n[18:21].isdigit() or n[18:21] == "000":
        raise InputError("number", number, f"positions 19-21 ({n[18:21]!r}) must be a sequence 001-999")
    if n[21] not in LETTERS:
        raise InputError("number", number, f"position 22 ({n[21]!r}) must be P (permit) or W (registration)")
    if category is not None and (n[21] == "W") != (category == "registration"):
        want = "W" if category == "registration" else "P"
        raise InputError("number", number, f"a {category} permit ends in {want}, not {n[21]}")
    return n
