"""Helpers of the tables the worker maintains incrementally from ``observation.received_at`` (the daily AQI,
``ecohub.analytics.aqi_daily``; the daily rollup of every series, :mod:`ecohub.store.series_daily`): the
watermark of a step (table ``worker_state``), the upper bound of a pass, what arrived since a time, Beijing days
and runs of them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from ecohub.domain.timeutil import BEIJING
from ecohub.store.db import Store
from ecohub.store.schema import observation
from ecohub.store.schema_quality import worker_state
from ecohub.store.tx import write_tx


def bj_day(t: datetime) -> date:
    """The Beijing (UTC+8) calendar day of an instant."""
    return t.astimezone(BEIJING).date()


def day_start(d: date) -> datetime:
    """The instant a Beijing day begins (00:00 UTC+8)."""
    return datetime(d.year, d.month, d.day, tzinfo=BEIJING).astimezone(UTC)


def watermark_row(conn: Connection, name: str) -> tuple[datetime, dict[str, Any]] | None:
    """The watermark of the step ``name`` and the info its last pass recorded; None before its first pass."""
    row = conn.execute(select(worker_state.c.watermark, worker_state.c.info)
                       .where(worker_state.c.name == name)).first()
    return None if row is None or row[0] is None else (row[0], dict(row[1] or {}))


def watermark(store: Store, name: str) -> datetime | None:
    with store.engine.connect() as conn:
        row = watermark_row(conn, name)
    return None if row is None else row[0]


def set_watermark(store: Store, name: str, value: datetime, info: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    with write_tx(store) as conn:
        if conn.execute(update(worker_state).where(worker_state.c.name == name).values(
                watermark=value, updated_at=now, info=info)).rowcount == 0:
            conn.execute(insert(worker_state).values(name=name, watermark=value, updated_at=now, info=info))


def pass_bound(store: Store, now: datetime | None) -> datetime:
    """The upper bound of the receipt times a pass takes: ``now`` (whole seconds: receipt times are), or
    without ``now`` the clock — or the newest receipt when that is later: the batch chain moves a batch's receipt
    second past the previous batch's, so under a burst receipt times run ahead of the clock; the pass covers
    them (else every reader would roll their days up until the clock caught up)."""
    hi = (now or datetime.now(UTC)).replace(microsecond=0)
    if now is None:
        with store.engine.connect() as conn:
            newest = conn.scalar(select(func.max(observation.c.received_at)))
        if newest is not None and newest > hi:
            hi = newest
    return hi


def first_times_received_since(conn: Connection, since: datetime) -> dict[int, datetime]:
    """Per series with observations received at or after ``since``: the earliest observation time of those.
    The ``observation.received_at`` index makes it a range scan of what arrived since (no GROUP BY: SQLite
    would scan the table in key order)."""
    firsts: dict[int, datetime] = {}
    for sid, t in conn.execute(select(observation.c.series_id, observation.c.time)
                               .where(observation.c.received_at >= since)):
        if sid not in firsts or t < firsts[sid]:
            firsts[sid] = t
    return firsts


def day_runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Days as sorted contiguous runs [(first, last), …]."""
    out: list[tuple[date, date]] = []
    for d in sorted(set(days)):
        if out and d == out[-1][1] + timedelta(days=1):
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


__all__ = ["bj_day", "day_start", "watermark_row", "watermark", "set_watermark", "pass_bound",
           "first_times_received_since", "day_runs"]
