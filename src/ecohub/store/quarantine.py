"""Quarantine: rejected input is kept with its reason (channel, origin, line, field, raw text)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select

from ecohub.store.db import Store
from ecohub.store.schema import quarantine
from ecohub.store.tx import write_tx

MAX_RAW = 4000


def raw_of(cells: list[str], limit: int = MAX_RAW) -> str:
    """The cells joined with commas, cut at ``limit`` characters — without joining the whole row first (a row
    of a million cells is not copied for each of its rejected cells)."""
    out: list[str] = []
    n = 0
    for c in cells:
        out.append(c)
        n += len(c) + 1
        if n > limit:
            break
    return ",".join(out)[:limit]


class QuarantineSink:
    """Buffer rejected records and write them in batches (its own transaction, so a rejected row is kept
    even when the good data around it are written later).

    ``dedupe`` (default: on for the ``file`` channel): a record identical to one already kept for the same
    channel and origin (same line, field, reason and raw text) is not stored again — importing the same file
    twice does not quarantine its bad rows twice. It still counts in :attr:`count` (the caller reports it)."""

    def __init__(self, store: Store, channel: str, origin: str, batch_size: int = 5000, *,
                 dedupe: bool | None = None):
        self.store = store
        self.channel = channel
        self.origin = origin[:500]
        self.batch_size = batch_size
        self.count = 0
        self.repeated = 0
        self._rows: list[dict] = []
        self._dedupe = channel == "file" if dedupe is None else dedupe
        self._seen: set[int] | None = None

    @staticmethod
    def _key(line: int | None, field: str | None, reason: str, raw: str | None) -> int:
        return hash((line, field, reason, raw))

    def _load_seen(self) -> set[int]:
        q = (select(quarantine.c.line, quarantine.c.field, quarantine.c.reason, quarantine.c.raw)
             .where(quarantine.c.channel == self.channel, quarantine.c.origin == self.origin))
        with self.store.engine.connect() as conn:
            return {self._key(*r) for r in conn.execute(q)}

    def add(self, reason: str, *, line: int | None = None, field: str | None = None, raw: str | None = None) -> None:
        self.count += 1
        reason = reason[:2000]
        raw = raw[:MAX_RAW] if raw is not None else None
        field = field[:64] if field is not None else None  # the column's width
        if self._dedupe:
            if self._seen is None:
                self._seen = self._load_seen()
            k = self._key(line, field, reason, raw)
            if k in self._seen:
                self.repeated += 1
                return
            self._seen.add(k)
        self._rows.append({
            "channel": self.channel, "origin": self.origin, "line": line, "field": field,
            "reason": reason, "raw": raw, "received_at": datetime.now(UTC),
        })
        if len(self._rows) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        with write_tx(self.store) as conn:
            conn.execute(insert(quarantine), rows)


def list_quarantine(store: Store, *, channel: str | None = None, limit: int = 100, offset: int = 0) -> list[dict]:
    q = select(quarantine).order_by(quarantine.c.id.desc()).limit(limit).offset(offset)
    if channel:
        q = q.where(quarantine.c.channel == channel)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
