"""Quarantine: rejected input is kept with its reason (channel, origin, line, field, raw text)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select

from ecohub.store.db import Store
from ecohub.store.schema import quarantine
from ecohub.store.tx import write_tx

MAX_RAW = 4000


class QuarantineSink:
    """Buffer rejected records and write them in batches (its own transaction, so a rejected row is kept
    even when the good data around it are written later)."""

    def __init__(self, store: Store, channel: str, origin: str, batch_size: int = 5000):
        self.store = store
        self.channel = channel
        self.origin = origin[:500]
        self.batch_size = batch_size
        self.count = 0
        self._rows: list[dict] = []

    def add(self, reason: str, *, line: int | None = None, field: str | None = None, raw: str | None = None) -> None:
        self.count += 1
        self._rows.append({
            "channel": self.channel, "origin": self.origin, "line": line, "field": field,
            "reason": reason[:2000], "raw": raw[:MAX_RAW] if raw is not None else None,
            "received_at": datetime.now(UTC),
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
