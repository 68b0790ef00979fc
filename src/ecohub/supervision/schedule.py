"""Throttling of the worker's supervision checks: a named check runs when its last run is ``every`` seconds old
(state: the ``worker_state`` row of that name; its ``watermark`` is the last run)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from ecohub.store.db import Store
from ecohub.store.schema_quality import worker_state
from ecohub.store.tx import write_tx


def due_checks(store: Store, name: str, now: datetime, every: int) -> bool:
    """True (and ``now`` recorded) when the checks ``name`` last ran ``every`` seconds ago or more, or never."""
    with write_tx(store) as conn:
        last = conn.scalar(select(worker_state.c.watermark).where(worker_state.c.name == name))
        if last is not None and (now - last).total_seconds() < every:
            return False
        if conn.execute(update(worker_state).where(worker_state.c.name == name).values(
                watermark=now, updated_at=now)).rowcount == 0:
            conn.execute(insert(worker_state).values(name=name, watermark=now, updated_at=now))
    return True
