"""Row readers for CSV (plain or gzip; UTF-8 or GB18030) and Excel (.xlsx), streaming.

Each reader yields ``(line, cells)``: the 1-based line (CSV) or row number (Excel) and the cells as strings
(Excel numbers and dates are turned into text so every format goes through the same validation).
``progress`` is called with (units done, units total) — bytes for CSV, rows for Excel.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

Progress = Callable[[int, int], None]


class FileUnreadable(Exception):
    """The file cannot be read at all (missing, not CSV/XLSX, undecodable header …)."""


class _CountingReader(io.RawIOBase):
    def __init__(self, raw, callback: Progress | None, total: int):
        self.raw, self.callback, self.total, self.done, self._next = raw, callback, total, 0, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = self.raw.readinto(b)
        self.done += n or 0
        if self.callback and self.done >= self._next:
            self.callback(self.done, self.total)
            self._next = self.done + (1 << 20)
        return n


def detect_encoding(path: Path, sample: bytes | None = None) -> str:
    """UTF-8 (with or without BOM) if the first 256 KiB decode as UTF-8, else GB18030 (Chinese Excel exports)."""
    if sample is None:
        with _open_binary(path) as f:
            sample = f.read(1 << 18)
    try:
        sample.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError as e:
        if e.start >= len(sample) - 4:  # cut in the middle of a multi-byte character
            return "utf-8-sig"
        return "gb18030"


def _open_binary(path: Path):
    f = open(path, "rb")  # noqa: SIM115
    if f.read(2) == b"\x1f\x8b":
        f.seek(0)
        return gzip.GzipFile(fileobj=f)
    f.seek(0)
    return f


def read_csv(path: Path, progress: Progress | None = None, encoding: str | None = None) -> Iterator[tuple[int, list[str]]]:
    try:
        enc = encoding or detect_encoding(path)
        total = path.stat().st_size
        raw = open(path, "rb")  # noqa: SIM115
    except (EOFError, zlib.error) as e:
        raise FileUnreadable(f"{path}: broken gzip data ({e})") from None
    except OSError as e:
        raise FileUnreadable(f"cannot open {path}: {e.strerror or e}") from None
    with raw:
        counted = _CountingReader(raw, progress, total)
        buf = io.BufferedReader(counted, 1 << 16)
        head = buf.peek(2)[:2]
        stream = gzip.GzipFile(fileobj=buf) if head == b"\x1f\x8b" else buf
        text = io.TextIOWrapper(stream, encoding=enc, errors="replace", newline="")
        reader = csv.reader(text)
        try:
            for cells in reader:
                yield reader.line_num, cells
        except (csv.Error, OSError, EOFError, zlib.error) as e:
            raise FileUnreadable(f"{path}: line {reader.line_num}: {e}") from None
        if progress:
            progress(total, total)


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v)) if abs(v) < 1e15 else repr(v)
    return str(v)


def read_xlsx(path: Path, progress: Progress | None = None, sheet: str | None = None) -> Iterator[tuple[int, list[str]]]:
    try:
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types for a broken workbook
        raise FileUnreadable(f"{path}: not a readable .xlsx workbook ({type(e).__name__}: {e})") from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise FileUnreadable(f"{path}: no sheet named {sheet!r} (sheets: {', '.join(wb.sheetnames)})")
        ws = wb[sheet] if sheet else wb.worksheets[0]
        total = ws.max_row or 0
        for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
            if progress and (i % 10_000 == 0):
                progress(i, total)
            yield i, [_cell_text(v) for v in row]
        if progress:
            progress(total, total)
    finally:
        wb.close()


def read_rows(path: Path, progress: Progress | None = None, encoding: str | None = None,
              sheet: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """Rows of a CSV (``.csv``, ``.csv.gz``, ``.txt``) or Excel (``.xlsx``) file."""
    path = Path(path)
    if not path.is_file():
        raise FileUnreadable(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_xlsx(path, progress, sheet)
    if path.suffix.lower() == ".xls":
        raise FileUnreadable(f"{path}: the old .xls format is not supported; save it as .xlsx or CSV")
    return read_csv(path, progress, encoding)
