"""Export observations in long format (CSV, JSON lines, Parquet), streaming."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ecohub.domain.cells import neutralise
from ecohub.domain.timeutil import BEIJING

COLUMNS = ("site", "parameter", "interval", "time", "value", "flag", "source")
FORMATS = ("csv", "json", "parquet")


def _rows_out(rows: Iterable[dict]) -> Iterator[dict]:
    for r in rows:
        yield {**r, "time": r["time"].astimezone(BEIJING).isoformat()}


@contextmanager
def _open_text(path: Path | None):
    if path is None:
        yield sys.stdout
    else:
        with open(path, "w", encoding="utf-8", newline="") as f:
            yield f


def export_rows(rows: Iterable[dict], fmt: str, path: Path | None) -> int:
    """Write rows (dicts with COLUMNS; ``time`` a datetime) to ``path`` (stdout if None). Returns the count."""
    if fmt not in FORMATS:
        raise ValueError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    n = 0
    if fmt == "parquet":
        if path is None:
            raise ValueError("format parquet needs -o FILE")
        return _parquet(rows, path)
    with _open_text(path) as f:
        out: IO[str] = f
        if fmt == "csv":
            w = csv.writer(out)
            w.writerow(COLUMNS)
            for r in _rows_out(rows):
                w.writerow([neutralise(r[c]) if r[c] is not None else "" for c in COLUMNS])
                n += 1
        else:
            for r in _rows_out(rows):
                out.write(json.dumps({c: r[c] for c in COLUMNS}, ensure_ascii=False) + "\n")
                n += 1
    return n


def _parquet(rows: Iterable[dict], path: Path, chunk: int = 100_000) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("site", pa.string()), ("parameter", pa.string()), ("interval", pa.string()),
                        ("time", pa.timestamp("s", tz="UTC")), ("value", pa.float64()), ("flag", pa.string()),
                        ("source", pa.string())])
    n = 0
    with pq.ParquetWriter(path, schema) as w:
        buf: dict[str, list] = {c: [] for c in COLUMNS}
        for r in rows:
            for c in COLUMNS:
                buf[c].append(r[c])
            n += 1
            if len(buf["site"]) >= chunk:
                w.write_table(pa.table(buf, schema=schema))
                buf = {c: [] for c in COLUMNS}
        if buf["site"] or n == 0:
            w.write_table(pa.table(buf, schema=schema))
    return n
