"""Export cells neutralised against formula injection (CSV/xlsx opened in a spreadsheet).

A text cell that begins with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return, which some spreadsheets
strip before parsing) is read as a formula by Excel, WPS and LibreOffice ("CSV injection", OWASP). Every export
path (``ecohub export``, the catalogue's exports, the API/web downloads, the CLI result files) writes its cells
through :func:`neutralise` (or :func:`neutralise_series` for polars frames): such a cell gets a leading
apostrophe, which spreadsheets show as text and do not evaluate.

Numbers stay numbers: only text is touched, and a text cell that is a plain number (``-12.5``, ``+3``, ``-1e-3``
— a number column read as text) is left as it is, so negative values are not turned into text.
"""

from __future__ import annotations

import re
from typing import Any

#: First characters that make a spreadsheet evaluate a cell.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
#: The same rule as a regular expression for vectorised use (polars): starts like a formula, is not a number.
FORMULA_RE = r"^[=+\-@\t\r]"
NUMBER_RE = _NUMBER.pattern


def neutralise(value: Any) -> Any:
    """The cell as it may be written: text starting like a formula gets a leading ``'``; anything else as is."""
    if isinstance(value, str) and value[:1] in FORMULA_START and not _NUMBER.match(value):
        return "'" + value
    return value


def neutralise_row(values: list[Any]) -> list[Any]:
    return [neutralise(v) for v in values]


def neutralise_series(s: Any) -> Any:
    """:func:`neutralise` over a polars Series (string columns only; others returned unchanged)."""
    import polars as pl

    if s.dtype != pl.String:
        return s
    hit = s.str.contains(FORMULA_RE) & ~s.str.contains(NUMBER_RE)
    if not bool(hit.any()):
        return s
    return pl.select(pl.when(hit).then(pl.lit("'") + s).otherwise(s).alias(s.name)).to_series()
