"""The HJ 212 forwarding outbox, the part the gateway's writer needs (``ecohub.exchange.forward`` is the rest).

The gateway's writer calls :func:`enqueue` with the packets of a batch *before* it writes their observations:
if the process dies in between, the device was not answered (9014 goes out after the commit), retransmits, and
the unique key (destination, MN, CN, ref) keeps the second copy out of the outbox. So every packet a device was
answered for is in the outbox of every destination that selects its MN — and only once.

:class:`ActiveDestinations` is the writer's view of the enabled destinations, read again at most every
``ttl`` seconds (one small query): a destination added while the gateway runs receives packets from then on.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from ecohub.store.db import Store
from ecohub.store.schema_exchange import forward_destination, forward_outbox

__all__ = ["ActiveDestinations", "Destination", "ForwardPacket", "enqueue"]

#: (MN, CN, ref — the QN, or DataTime without QN —, the frame as received)
ForwardPacket = tuple[str, str, str, str]
#: (destination id, the MNs it selects or None for all)
Destination = tuple[int, frozenset[str] | None]


class ActiveDestinations:
    """Enabled forwarding destinations, cached for ``ttl`` seconds (thread-safe; used from writer threads)."""

    def __init__(self, store: Store, ttl: float = 5.0):
        self.store = store
        self.ttl = ttl
        self._at = -1e18
        self._value: list[Destination] = []
        self._lock = threading.Lock()

    def current(self) -> list[Destination]:
        now = time.monotonic()
        if now - self._at < self.ttl:
            return self._value
        with self._lock:
            if now - self._at >= self.ttl:
                try:
                    with self.store.engine.connect() as conn:
                        self._value = load(conn)
                except Exception:  # noqa: BLE001 - no table yet (old database) or a hiccup: forward nothing now
                    self._value = []
                self._at = now
        return self._value


def load(conn: Connection) -> list[Destination]:
    rows = conn.execute(select(forward_destination.c.id, forward_destination.c.devices)
                        .where(forward_destination.c.enabled.is_(True))).all()
    return [(r.id, frozenset(r.devices) if r.devices else None) for r in rows]


def enqueue(conn: Connection, destinations: list[Destination], packets: list[ForwardPacket],
            now: datetime | None = None) -> int:
    """Queue ``packets`` for every destination that selects their MN (in the caller's transaction, in order;
    a (destination, MN, CN, ref) already queued is skipped). Returns the rows offered."""
    now = now or datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for dest_id, mns in destinations:
        for mn, cn, ref, frame in packets:
            if mns is None or mn in mns:
                rows.append({"destination_id": dest_id, "mn": mn, "cn": cn, "ref": ref[:32], "frame": frame,
                             "status": "pending", "attempts": 0, "created_at": now})
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(forward_outbox).on_conflict_do_nothing()
    else:
        stmt = insert(forward_outbox).prefix_with("OR IGNORE")
    conn.execute(stmt, rows)
    return len(rows)
