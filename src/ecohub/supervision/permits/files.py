"""Reading a permit-register file: an Excel workbook with one sheet per table, or a folder of CSV files.

Tables (sheet or ``<name>.csv``; Chinese sheet names accepted): ``permits`` (许可证), ``outlets`` (排放口),
``limits`` (限值), ``tonnage`` (许可排放量), ``plans`` (自行监测方案). Every row keeps its table and line (the header
is line 1) so that an error names where it is. Values are text (Excel dates become ``YYYY-MM-DD``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from ecohub.domain.errors import InputError

TABLES = ("permits", "outlets", "limits", "tonnage", "plans")
ALIASES = {"许可证": "permits", "排放口": "outlets", "限值": "limits", "许可排放量": "tonnage", "自行监测方案": "plans",
           "监测方案": "plans"}


@dataclass
class Row:
    table: str
    line: int
    cells: dict[str, str]

    def get(self, name: str) -> str:
        return (self.cells.get(name) or "").strip()

    def raw(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.cells.items() if v)


def _text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _table_name(name: str) -> str | None:
    n = name.strip().lower()
    return n if n in TABLES else ALIASES.get(name.strip())


def _rows(table: str, matrix: list[list[object]]) -> list[Row]:
    if not matrix:
        return []
    head = [_text(h).lower() for h in matrix[0]]
    out = []
    for i, r in enumerate(matrix[1:], start=2):
        cells = {h: _text(v) for h, v in zip(head, r, strict=False) if h}
        if any(cells.values()):
            out.append(Row(table, i, cells))
    return out


def _decode(data: bytes, name: str) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError("file", name, "neither UTF-8 nor GB18030 text")


def read_register(path: str | Path) -> dict[str, list[Row]]:
    """``{table: [Row, …]}`` from a workbook (.xlsx) or a folder of CSV files; raises :class:`InputError` for a
    file that cannot be read or holds none of the tables."""
    p = Path(path)
    out: dict[str, list[Row]] = {t: [] for t in TABLES}
    if p.is_dir():
        found = False
        for f in sorted(p.iterdir()):
            t = _table_name(f.stem) if f.suffix.lower() == ".csv" else None
            if t is None:
                continue
            found = True
            text = _decode(f.read_bytes(), str(f))
            out[t] = _rows(t, [list(r) for r in csv.reader(io.StringIO(text))])
        if not found:
            raise InputError("file", str(p), f"holds none of {', '.join(t + '.csv' for t in TABLES)}")
        return out
    if not p.exists():
        raise InputError("file", str(p), "does not exist")
    if p.suffix.lower() not in (".xlsx", ".xlsm"):
        raise InputError("file", str(p), "an Excel workbook (.xlsx, one sheet per table) or a folder of CSV files")
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(p.read_bytes()), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - openpyxl raises many types for a bad file
        raise InputError("file", str(p), f"not a readable Excel workbook: {e}") from None
    found = False
    for ws in wb.worksheets:
        t = _table_name(ws.title)
        if t is None:
            continue
        found = True
        out[t] = _rows(t, [list(r) for r in ws.iter_rows(values_only=True)])
    if not found:
        raise InputError("file", str(p), f"has no sheet named {', '.join(TABLES)}")
    return out
