"""Per-recipient watermarks in the values of an export, and reading them back from a leaked file.

**Scheme (value domain).** Every export gets a random 256-bit key, stored with the export record (who
received it, when, which dataset). Each marked number ``x`` (a measured value with published precision of
``d`` decimals, e.g. PM2.5 0, CO 1) is first rounded to its published precision, ``q = round(x·10^d)``, then
shifted inside that precision: ``x' = (q + δ)/10^d`` with ``δ = (k − 49)/100``, ``k = 1 + HMAC-SHA256(key,
q) mod 97`` — so ``|δ| ≤ 0.48`` of the last published digit and rounding ``x'`` to the published precision
gives back the published value (for ``q = 0``, ``|δ|`` is used: no negative concentrations). The file shows
two more decimals than published.

**Reading back** (``identify``): the file's numbers are collected (CSV in UTF-8/GB18030, JSON, JSON lines,
Parquet, Excel .xlsx); for each a residual ``r = x'·10^d − round(x'·10^d)`` is compared with the ``δ`` that each
stored export key predicts. The true recipient's key matches nearly every value; any other key matches about
1 in 97. ``d`` comes from the ``parameter`` column when the file has one (observation exports) or from the
dataset's field list, else each ``d`` from 0 to 6 is tried. The verdict needs ≥ 8 marked values and ≥ 60 %
of them matching, and names the runner-up's score so a person can judge.

**What survives**: re-ordering rows or columns, deleting rows or columns (down to a handful of values),
renaming headers, changing the time format, re-encoding, opening and saving in a spreadsheet (values are
kept to 15 significant digits), converting between CSV, JSON, Parquet and Excel.
**What does not** (limits, said plainly): rounding the values to the published precision (or coarser),
averaging or otherwise recomputing them, adding noise of more than ~0.004 of the last published digit,
two recipients comparing their files (the values differ and the mark can then be stripped), a file re-typed
by hand. The mark proves who received a file only together with the export records of this platform.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ecohub.domain.parameters import PARAMETERS

LEVELS = 97
CENTER = 49
TOLERANCE = 0.004  # in units of the last published digit
MIN_VALUES = 8
MIN_SCORE = 0.6
DECIMALS = {p.name: p.decimals for p in PARAMETERS}


def _k(key: bytes, q: int) -> int:
    return 1 + int.from_bytes(hmac.new(key, str(q).encode(), hashlib.sha256).digest()[:8], "big") % LEVELS


def delta(key: bytes, q: int) -> float:
    d = (_k(key, q) - CENTER) / 100.0
    return abs(d) if q == 0 else d


def mark(value: float | None, decimals: int, key: bytes) -> float | None:
    """The marked value (None and non-finite values unchanged)."""
    if value is None or not math.isfinite(value):
        return value
    scale = 10 ** decimals
    q = round(value * scale)
    return round((q + delta(key, q)) / scale, decimals + 2)


def fmt(value: float | None, decimals: int) -> str:
    """Text of a marked value: published decimals + 2."""
    return "" if value is None else f"{value:.{decimals + 2}f}"


# --- reading files ------------------------------------------------------------------------------------------
def _read_text(data: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def read_table(path: Path) -> list[dict]:
    """Rows of a CSV / TSV, JSON (array or lines), Parquet or .xlsx file as dicts (values as found)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = [str(h) if h is not None else f"col{i}" for i, h in enumerate(next(it, ()))]
        rows = [dict(zip(header, r, strict=False)) for r in it]
        wb.close()
        return rows
    data = path.read_bytes()
    if data[:4] == b"PAR1":
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(data)).to_pylist()
    text = _read_text(data)
    s = text.lstrip()
    if s.startswith("[") or s.startswith("{"):
        try:
            obj = json.loads(s)
            if isinstance(obj, list):
                return [r for r in obj if isinstance(r, dict)]
            if isinstance(obj, dict):
                for v in obj.values():
                    if isinstance(v, list):
                        return [r for r in v if isinstance(r, dict)]
        except json.JSONDecodeError:
            rows = []
            for line in s.splitlines():
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(r, dict):
                    rows.append(r)
            return rows
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") if text else csv.excel
    return list(csv.DictReader(io.StringIO(text), dialect=dialect))


def _num(v) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, str):
        t = v.strip().replace(",", "") if v.count(",") and "." in v else v.strip()
        if not t or not any(ch.isdigit() for ch in t):
            return None
        try:
            x = float(t)
        except ValueError:
            return None
        return x if math.isfinite(x) else None
    return None


@dataclass
class Candidate:
    column: str
    value: float
    decimals: tuple[int, ...]  # one known precision, or several to try


def candidates(rows: Iterable[dict], field_decimals: dict[str, int] | None = None, limit: int = 2000
               ) -> list[Candidate]:
    """The numbers of a table that may carry a mark, each with its column and published precision(s).

    Observation exports (a ``parameter`` column naming a known parameter): the ``value`` column at the
    parameter's precision. Known dataset fields: those columns at their precision. Otherwise every numeric
    column, each precision from 0 to 6 tried (scores are then taken per column)."""
    field_decimals = field_decimals or {}
    out: list[Candidate] = []
    for r in rows:
        param = r.get("parameter")
        known = isinstance(param, str) and param in DECIMALS
        for col, v in r.items():
            x = _num(v)
            if x is None:
                continue
            col = str(col)
            if known and col == "value":
                out.append(Candidate(col, x, (DECIMALS[param],)))
            elif col in field_decimals:
                out.append(Candidate(col, x, (field_decimals[col],)))
            elif not known and not field_decimals:
                out.append(Candidate(col, x, tuple(range(7))))
            if len(out) >= limit:
                return out
    return out


def score(cands: list[Candidate], key: bytes) -> tuple[int, int]:
    """(matching values, values considered) for one key, in the best column."""
    per: dict[str, list[int]] = {}
    for c in cands:
        matched = False
        considered = False
        for d in c.decimals:
            y = c.value * 10 ** d
            q = round(y)
            r = y - q
            if len(c.decimals) > 1 and abs(r) < 1e-9 and q != 0:
                continue  # an integer at this precision carries no information when guessing d
            considered = True
            if abs(r - delta(key, q)) <= TOLERANCE:
                matched = True
                break
        if considered:
            hn = per.setdefault(c.column, [0, 0])
            hn[0] += matched
            hn[1] += 1
    if not per:
        return 0, 0
    big = [hn for hn in per.values() if hn[1] >= MIN_VALUES] or list(per.values())
    h, n = max(big, key=lambda hn: (hn[0] / hn[1], hn[1]))
    return h, n


@dataclass
class Verdict:
    export_id: int | None
    score: float
    matched: int
    values: int
    runner_up: float
    identified: bool


def identify_rows(rows: list[dict], keys: Iterable[tuple[int, bytes, dict[str, int] | None]]) -> Verdict:
    """Test every (export id, key, field decimals) against the rows; the best export if it is convincing."""
    cache: dict[tuple, list[Candidate]] = {}
    best: tuple[float, int, int, int | None] = (0.0, 0, 0, None)
    second = 0.0
    for export_id, key, fd in keys:
        ck = tuple(sorted((fd or {}).items()))
        if ck not in cache:
            cache[ck] = candidates(rows, fd)
        hits, n = score(cache[ck], key)
        s = hits / n if n else 0.0
        if s > best[0]:
            second = best[0]
            best = (s, hits, n, export_id)
        elif s > second:
            second = s
    s, hits, n, eid = best
    ok = eid is not None and n >= MIN_VALUES and s >= MIN_SCORE and s - second >= 0.3
    return Verdict(eid if ok else None, s, hits, n, second, ok)
