"""Retention of raw minute data: drop raw minute observations older than a cut-off *and* already in the Parquet
lake (received no later than the lake's watermark, ``synced_until``) — never anything else.

Raw observations are append-only (migration 0008: a trigger refuses DELETE, and TRUNCATE on PostgreSQL).
Retention is the one explicit bypass, in one transaction with its audit row (:mod:`ecohub.store.audit`, action
``retention``): on SQLite the trigger ``observation_no_delete`` is dropped, the rows deleted and the trigger
created again; on PostgreSQL it is disabled and enabled again around the DELETE (``ALTER TABLE``: the schema
owner only — the application role of ``ecohub db app-role`` cannot), and a monthly partition whose rows are
*all* eligible is detached and dropped instead. Other sessions never see the trigger missing: the DDL is part
of the transaction (and on SQLite the write lock is held throughout).

The raw-data chain (:mod:`ecohub.store.batch_chain`) stays verifiable: before anything is dropped every
touched batch is checked against its record (a batch that does not verify stops the run, nothing changed), and
an ``obs_retention`` row records what is left of it, which ``ecohub data verify`` then checks. The maintained
daily rollup (:mod:`ecohub.store.series_daily`) of the minute series is recomputed up to the cut-off's day in the
same transaction, so it never answers for rows that are gone."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, func, select, text
from sqlalchemy.engine import Connection

from ecohub.crypto.sm3 import sm3_hex
from ecohub.domain.errors import InputError
from ecohub.store import audit, series_daily
from ecohub.store.batch_chain import _epoch, canonical, retention_link
from ecohub.store.db import Store
from ecohub.store.schema import observation, series
from ecohub.store.schema_crypto import obs_batch, obs_retention
from ecohub.store.tx import write_tx

__all__ = ["RetentionResult", "run_retention"]

INTERVALS = ("minute",)
_MESSAGE = "observation rows are append-only: record a correction instead (retention: see docs/security.md)"
#: the trigger of migration 0008 (SQLite), created again after the retention DELETE
SQLITE_TRIGGER = ("CREATE TRIGGER observation_no_delete BEFORE DELETE ON observation "
                  f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END")


@dataclass
class RetentionResult:
    dry_run: bool
    cutoff: datetime
    synced_until: datetime
    rows: int = 0  # raw minute rows dropped (or that would be)
    by_month: dict[str, int] = field(default_factory=dict)
    kept_unsynced: int = 0  # old enough, but received after the lake's watermark: kept
    batches: int = 0  # chained batches touched
    partitions_dropped: list[str] = field(default_factory=list)
    run: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "cutoff": self.cutoff.isoformat(), "synced_until":
                self.synced_until.isoformat(), "rows": self.rows, "by_month": self.by_month,
                "kept_unsynced": self.kept_unsynced, "batches": self.batches,
                "partitions_dropped": self.partitions_dropped, "run": self.run}


def _minute_ids() -> Any:
    return select(series.c.id).where(series.c.interval.in_(INTERVALS)).scalar_subquery()


def _eligible(cutoff: datetime, synced_until: datetime) -> Any:
    return and_(observation.c.series_id.in_(_minute_ids()), observation.c.time < cutoff,
                observation.c.received_at <= synced_until)


def _count(conn: Connection, res: RetentionResult) -> None:
    cond = _eligible(res.cutoff, res.synced_until)
    if conn.dialect.name == "postgresql":
        month = func.to_char(func.timezone("UTC", observation.c.time), "YYYY-MM")
    else:  # UTCTime is epoch seconds on SQLite
        month = func.strftime("%Y-%m", observation.c.time, "unixepoch")
    months: Counter[str] = Counter()
    for m, n in conn.execute(select(month.label("m"), func.count()).where(cond).group_by(month)):
        months[str(m)] += int(n)
    res.by_month = dict(sorted(months.items()))
    res.rows = sum(months.values())
    res.kept_unsynced = int(conn.scalar(select(func.count()).select_from(observation).where(
        observation.c.series_id.in_(_minute_ids()), observation.c.time < res.cutoff,
        observation.c.received_at > res.synced_until)) or 0)


def _book_batches(conn: Connection, res: RetentionResult) -> None:
    """Check every touched chained batch and record what will be left of it (``obs_retention``)."""
    cond = _eligible(res.cutoff, res.synced_until)
    keys = conn.execute(select(observation.c.source_id, observation.c.received_at).where(cond).distinct()).all()
    for source_id, received in keys:
        rcv = _epoch(received)
        b = conn.execute(select(obs_batch.c.count, obs_batch.c.rows_sm3, obs_batch.c.hash).where(
            obs_batch.c.source_id == source_id, obs_batch.c.received_at == rcv)).first()
        if b is None:
            continue  # written before the chain existed: nothing to keep consistent
        r = conn.execute(select(obs_retention.c.remaining_count, obs_retention.c.remaining_sm3,
                                obs_retention.c.removed).where(obs_retention.c.source_id == source_id,
                                                               obs_retention.c.received_at == rcv)).first()
        want_n, want_sm3, removed = (r[0], r[1], r[2]) if r is not None else (b.count, b.rows_sm3, 0)
        rows = conn.execute(select(observation.c.series_id, observation.c.time, observation.c.value,
                                   observation.c.flag, cond.label("drop")).where(
            observation.c.source_id == source_id, observation.c.received_at == received)).all()
        def digest(rs: Sequence[Any]) -> str:
            if not rs:
                return sm3_hex(b"")
            s, t, v, f = zip(*[(x[0], _epoch(x[1]), x[2], x[3]) for x in rs], strict=True)
            return sm3_hex(canonical(s, t, v, f))

        if len(rows) != want_n or digest(rows) != want_sm3:
            raise InputError("observation", f"source {source_id}, received {rcv}",
                             "a batch to be dropped does not verify against its record: nothing was dropped; "
                             "run 'ecohub data verify'")
        left = [x for x in rows if not x.drop]
        n_left, sm3_left, gone = len(left), digest(left), removed + len(rows) - len(left)
        values = {"removed": gone, "remaining_count": n_left, "remaining_sm3": sm3_left, "run": res.run,
                  "hash": retention_link(b.hash, gone, n_left, sm3_left)}
        if r is None:
            conn.execute(obs_retention.insert().values(source_id=source_id, received_at=rcv, **values))
        else:
            conn.execute(obs_retention.update().where(obs_retention.c.source_id == source_id,
                                                      obs_retention.c.received_at == rcv).values(**values))
        res.batches += 1


def _drop_partitions(conn: Connection, res: RetentionResult) -> None:
    """PostgreSQL: detach and drop the monthly partitions entirely older than the cut-off whose rows are all
    eligible (no other interval, nothing unsynced)."""
    cond = _eligible(res.cutoff, res.synced_until)
    parts = conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'observation' ORDER BY c.relname")).scalars()
    for name in list(parts):
        if not name.startswith("observation_p") or len(name) != 19 or not name[13:].isdigit():
            continue
        y, m = int(name[13:17]), int(name[17:19])
        lo = datetime(y, m, 1, tzinfo=UTC)
        hi = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
        if hi > res.cutoff:
            continue
        in_part = and_(observation.c.time >= lo, observation.c.time < hi)
        total = conn.scalar(select(func.count()).select_from(observation).where(in_part))
        if not total or conn.scalar(select(func.count()).select_from(observation).where(in_part, cond)) != total:
            continue
        conn.execute(text(f'ALTER TABLE observation DETACH PARTITION "{name}"'))
        conn.execute(text(f'DROP TABLE "{name}"'))  # no DELETE/TRUNCATE: the triggers are not involved
        res.partitions_dropped.append(name)


def run_retention(store: Store, *, cutoff: datetime, synced_until: datetime, dry_run: bool = False,
                  origin: audit.Origin | None = None) -> RetentionResult:
    """Drop (or with ``dry_run`` only count) the raw minute rows with time < ``cutoff`` received no later than
    ``synced_until``; one transaction with its audit row and the chain bookkeeping."""
    res = RetentionResult(dry_run, cutoff, synced_until, run=uuid.uuid4().hex[:16])
    if dry_run:
        with store.engine.connect() as conn:
            _count(conn, res)
            res.batches = int(conn.scalar(select(func.count()).select_from(
                select(observation.c.source_id, observation.c.received_at)
                .where(_eligible(cutoff, synced_until)).distinct().subquery())) or 0)
        return res
    with write_tx(store) as conn:
        series_daily.lock(conn)  # before observation is locked: the worker takes them in this order too
        _count(conn, res)
        if res.rows:
            _book_batches(conn, res)
            if store.is_postgres:
                _drop_partitions(conn, res)
                conn.execute(text("ALTER TABLE observation DISABLE TRIGGER observation_no_delete"))
                conn.execute(delete(observation).where(_eligible(cutoff, synced_until)))
                conn.execute(text("ALTER TABLE observation ENABLE TRIGGER observation_no_delete"))
            else:
                conn.exec_driver_sql("DROP TRIGGER observation_no_delete")
                conn.execute(delete(observation).where(_eligible(cutoff, synced_until)))
                conn.exec_driver_sql(SQLITE_TRIGGER)
            series_daily.after_retention(conn, store, select(series.c.id).where(series.c.interval.in_(INTERVALS)),
                                         cutoff)
        (origin or audit.Origin.cli(command="retention run")).record(
            conn, "retention", target="observation", detail={k: v for k, v in res.as_dict().items()
                                                             if k != "dry_run"})
    return res
