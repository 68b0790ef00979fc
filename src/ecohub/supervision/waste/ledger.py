"""The generator's hazardous-waste ledger (台账): generated, shipped (by manifests), stored, and the storage-time
alert.

What is stored is what was generated minus what was shipped, the oldest first (FIFO). Storage longer than
:data:`STORAGE_LIMIT_DAYS` (one year: 固体废物污染环境防治法 2020 art. 81 — 贮存危险废物不得超过一年, longer only
with the approval of the licensing authority) raises ``waste_storage`` (one per enterprise × code).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ecohub.alerts.lifecycle import Condition, clear_condition, raise_condition
from ecohub.store.audit import Origin
from ecohub.store.db import Store
from ecohub.store.queries import Scope
from ecohub.store.schema import enterprise
from ecohub.store.schema_waste import waste_ledger
from ecohub.store.tx import write_tx
from ecohub.supervision.waste.codes import enterprise_id, known_code
from ecohub.supervision.waste.manifest import _num

STORAGE_LIMIT_DAYS = 365


def record_generated(store: Store, scope: Scope, origin: Origin, *, uscc: str, code: str, tonnes,
                     at: datetime | None = None) -> dict:
    qty = _num("tonnes", tonnes)
    at = at or datetime.now(UTC)
    with write_tx(store) as conn:
        c = known_code(conn, code)
        eid, _ = enterprise_id(conn, uscc, "enterprise")
        if not scope.full and not (scope.role == "enterprise" and scope.enterprise_id == eid):
            raise PermissionError("the ledger is written by the enterprise itself")
        conn.execute(waste_ledger.insert().values(enterprise_id=eid, code=c["code"], kind="generated",
                                                  quantity_t=qty, at=at, recorded_by=origin.actor))
        origin.record(conn, "write", f"waste_ledger:{uscc}", {"change": "generated", "code": c["code"],
                                                               "tonnes": qty})
    return {"enterprise": uscc, "code": c["code"], "tonnes": qty, "at": at.isoformat()}


def stored_batches(entries: list[tuple[str, float, datetime]]) -> list[tuple[datetime, float]]:
    """FIFO: (generated at, tonnes still stored) from ledger entries (kind, tonnes, at) of one enterprise × code."""
    batches: list[list] = []
    shipped = 0.0
    for kind, t, at in sorted(entries, key=lambda e: e[2]):
        if kind == "generated":
            batches.append([at, t])
        elif kind == "shipped":
            shipped += t
    out = []
    for at, t in batches:
        take = min(t, shipped)
        shipped -= take
        if t - take > 1e-9:
            out.append((at, t - take))
    return out


def storage(store: Store, scope: Scope, uscc: str) -> list[dict]:
    """Per code: generated, shipped, stored tonnes and the oldest stored batch."""
    with store.engine.connect() as conn:
        eid, _ = enterprise_id(conn, uscc, "enterprise")
        if not scope.full and not (scope.role == "enterprise" and scope.enterprise_id == eid) \
                and scope.role != "officer":
            raise PermissionError("not your enterprise")
        rows = conn.execute(select(waste_ledger.c.code, waste_ledger.c.kind, waste_ledger.c.quantity_t,
                                   waste_ledger.c.at).where(waste_ledger.c.enterprise_id == eid)).all()
    by: dict[str, list] = {}
    for code, kind, t, at in rows:
        by.setdefault(code, []).append((kind, t, at))
    out = []
    for code, entries in sorted(by.items()):
        b = stored_batches(entries)
        out.append({"code": code, "generated_t": sum(t for k, t, _ in entries if k == "generated"),
                    "shipped_t": sum(t for k, t, _ in entries if k == "shipped"),
                    "stored_t": sum(t for _, t in b), "oldest": b[0][0].isoformat() if b else None})
    return out


def check_storage(store: Store, now: datetime | None = None) -> list[str]:
    """Raise ``waste_storage`` where waste has been stored longer than the limit; clear it where not."""
    now = now or datetime.now(UTC)
    limit = now - timedelta(days=STORAGE_LIMIT_DAYS)
    out = []
    with write_tx(store) as conn:
        rows = conn.execute(select(enterprise.c.uscc, waste_ledger.c.code, waste_ledger.c.kind,
                                   waste_ledger.c.quantity_t, waste_ledger.c.at)
                            .select_from(waste_ledger.join(enterprise, enterprise.c.id == waste_ledger.c.enterprise_id))
                            .where(waste_ledger.c.kind.in_(("generated", "shipped")))).all()
        by: dict[tuple[str, str], list] = {}
        for u, code, kind, t, at in rows:
            by.setdefault((u, code), []).append((kind, t, at))
        for (u, code), entries in by.items():
            old = [(at, t) for at, t in stored_batches(entries) if at < limit]
            key = f"waste_storage:{u}:{code}"
            if old:
                tonnes = sum(t for _, t in old)
                raise_condition(conn, Condition(
                    rule="waste_storage", cause_key=key, severity="major",
                    message=f"{u} {code}: {tonnes:g} t 贮存超过一年 (stored since {old[0][0]:%Y-%m-%d}, "
                            f"limit {STORAGE_LIMIT_DAYS} days)", value=tonnes,
                    details={"enterprise": u, "code": code, "since": old[0][0].isoformat()}), int(now.timestamp()))
                out.append(key)
            else:
                clear_condition(conn, key, int(now.timestamp()), "no waste stored beyond the limit")
    return out

