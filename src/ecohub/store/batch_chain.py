"""A hash chain over the raw-observation batches (issue 19 item 3): a silent change or deletion of raw rows is
detected by ``ecohub data verify``.

The one writer (:class:`ecohub.store.writer.ObservationWriter`) records, in the transaction of each batch that
inserted rows, one ``obs_batch`` row per source (table in ``schema_crypto``):

* ``received_at`` — the batch's received-at second, unique per source: a second batch of the same source in the
  same second *adds to that second's record* (the tail record of the chain is rewritten with the count and SM3
  of all the source's rows of that second), so a record covers exactly the source's rows with that
  ``observation.received_at``. The received-at second is the clock's, never moved ahead of it (an earlier
  version took the next second and ran ahead of the clock under sustained load); a writer whose clock reading is
  older than the tail's second (it waited for the lock) takes the tail's second, so the seconds of a chain never
  go back;
* ``count`` and ``rows_sm3`` = SM3(canonical rows) (GB/T 32905-2016): rows sorted by (series, time), as one
  numpy record array of series id (int64), time (epoch seconds, int64), value (IEEE float64 big-endian, NULL as
  NaN), followed by the flags in the same order, UTF-8, joined by NUL (NULL as empty) — hashed at once;
* ``hash`` = SM3(prev_hash || "source|received|seq|count|rows_sm3"), ``prev_hash`` the source's previous batch.

Writers of one source take a lock first (SQLite: the write lock of BEGIN IMMEDIATE; PostgreSQL: an advisory
transaction lock per source), so each source's chain is a line.  :func:`verify` reads ``observation`` once in
(source, received_at) order and compares every group with its batch; it names the first broken batch.
Not covered: rows written around the writer (they show up as rows without a batch), ``latest`` and
``observation_conflict`` (derived / kept for review), and a rewrite of rows *and* chain by someone with database
write access (the hashes are not keyed; see docs/crypto.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from ecohub.crypto.sm3 import sm3_hex

ZERO = "0" * 64
LOCK_KEY = 0x4F42  # "OB": pg_advisory_xact_lock(LOCK_KEY, source_id)
_DT = np.dtype([("s", ">i8"), ("t", ">i8"), ("v", ">f8")])


def canonical(sid: Sequence[int], t: Sequence[int], v: Sequence[float | None], f: Sequence[str | None]) -> bytes:
    """The canonical bytes of a set of rows (see the module text); the order of the input does not matter."""
    s = np.asarray(sid, dtype=np.int64)
    tt = np.asarray(t, dtype=np.int64)
    order = np.lexsort((tt, s))
    arr = np.empty(len(s), dtype=_DT)
    arr["s"] = s[order]
    arr["t"] = tt[order]
    arr["v"] = np.asarray(v, dtype=np.float64)[order]
    flags = np.asarray(f, dtype=object)[order].tolist() if len(s) else []
    return arr.tobytes() + "\x00".join([x or "" for x in flags]).encode("utf-8")


def link(prev_hash: str, source_id: int, received: int, seq: int, count: int, rows_sm3: str) -> str:
    return sm3_hex(bytes.fromhex(prev_hash) + f"{source_id}|{received}|{seq}|{count}|{rows_sm3}".encode())


def retention_link(batch_hash: str, removed: int, remaining_count: int, remaining_sm3: str) -> str:
    """The hash of a retention record (``obs_retention``): bound to its batch's hash."""
    return sm3_hex(bytes.fromhex(batch_hash) + f"retention|{removed}|{remaining_count}|{remaining_sm3}".encode())


def _epoch(x: Any) -> int:
    return int(x.timestamp()) if isinstance(x, datetime) else int(x)


@dataclass
class _Second:
    """The rows of one source's second this writer knows (its own batches of that second), as plain lists."""
    source_id: int
    received: int
    count: int
    rows: tuple[list, list, list, list]


class Chainer:
    """The writer's side, on the writer's DB-API cursor inside its transaction: :meth:`start` (lock, place in the
    chain), the batch's insert, :meth:`rows` (the canonical rows the record covers), :meth:`finish`."""

    def __init__(self, postgres: bool):
        self.postgres = postgres
        self.p = "%s" if postgres else "?"
        self._tail: tuple[int, int, int, int] | None = None  # (source, received, seq, count) of a same-second tail
        self._known: _Second | None = None  # the rows of this writer's last second (spares a re-read)

    def start(self, cur: Any, source_id: int, received: int) -> tuple[int, int, str]:
        """Lock the source's chain; returns (received, seq, prev hash). A batch in the tail's second (or, having
        waited for the lock, older than it) joins the tail record: its second, seq and prev hash."""
        if self.postgres:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_KEY, source_id))
        p = self.p
        last = cur.execute(f"SELECT received_at, seq, hash, prev_hash, count FROM obs_batch "  # noqa: S608 (placeholder)
                           f"WHERE source_id = {p} ORDER BY seq DESC LIMIT 1", (source_id,)).fetchone()
        self._tail = None
        if last is None:
            return received, 1, ZERO
        tail_received, tail_seq = int(last[0]), int(last[1])
        if received > tail_received:
            return received, tail_seq + 1, str(last[2])
        self._tail = (source_id, tail_received, tail_seq, int(last[4]))
        return tail_received, tail_seq, str(last[3])

    def rows(self, cur: Any, source_id: int, received: int, received_value: Any, sid: Sequence[int],
             t: Sequence[int], v: Sequence[float | None], f: Sequence[str | None], all_inserted: bool
             ) -> tuple[bytes, int]:
        """The canonical bytes and count of every row of the source's second (``received``), this batch's
        included: the batch itself when it opened the second and inserted all its rows; the rows this writer
        already knows plus the batch when it joined its own tail; else read back from ``observation``."""
        tail, known = self._tail, self._known
        if all_inserted and tail is None:
            self._known = _Second(source_id, received, len(sid), (list(sid), list(t), list(v), list(f)))
        elif (all_inserted and tail is not None and known is not None
              and (known.source_id, known.received, known.count) == (tail[0], tail[1], tail[3])):
            for mine, new in zip(known.rows, (sid, t, v, f), strict=True):
                mine.extend(new)
            known.count += len(sid)
        else:
            p = self.p
            got = cur.execute(f"SELECT series_id, time, value, flag FROM observation "  # noqa: S608 (placeholders)
                              f"WHERE source_id = {p} AND received_at = {p}", (source_id, received_value)).fetchall()
            cols: tuple[list, list, list, list] = ([], [], [], [])
            for r in got:
                cols[0].append(r[0])
                cols[1].append(_epoch(r[1]))
                cols[2].append(r[2])
                cols[3].append(r[3])
            self._known = _Second(source_id, received, len(got), cols)
        k = self._known
        assert k is not None
        return canonical(*k.rows), k.count

    def forget(self) -> None:
        """The batch's transaction failed: what this writer knew of its second may not be stored."""
        self._known = self._tail = None

    def finish(self, cur: Any, source_id: int, received: int, seq: int, prev: str, rows_bytes: bytes,
               count: int) -> None:
        """Write the record: a new tail, or the same-second tail rewritten (its seq and prev hash kept)."""
        if count == 0:
            return
        rows_sm3 = sm3_hex(rows_bytes)
        p = self.p
        h = link(prev, source_id, received, seq, count, rows_sm3)
        if self._tail is not None and self._tail[:3] == (source_id, received, seq):
            cur.execute(f"UPDATE obs_batch SET count = {p}, rows_sm3 = {p}, hash = {p} "  # noqa: S608 (placeholders)
                        f"WHERE source_id = {p} AND seq = {p}", (count, rows_sm3, h, source_id, seq))
        else:
            cur.execute(f"INSERT INTO obs_batch (source_id, received_at, seq, count, rows_sm3, prev_hash, hash) "  # noqa: S608
                        f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})",
                        (source_id, received, seq, count, rows_sm3, prev, h))


def rows_bytes(rows: Iterable[tuple]) -> tuple[bytes, int]:
    rows = list(rows)
    if not rows:
        return b"", 0
    s, t, v, f = zip(*rows, strict=True)
    return canonical(s, [_epoch(x) for x in t], v, f), len(rows)


@dataclass
class DataReport:
    ok: bool = True
    batches: int = 0
    rows: int = 0
    unchained_rows: int = 0
    retained_rows: int = 0  # dropped by retention after they were in the lake (obs_retention)
    broken: dict[str, Any] | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "batches": self.batches, "rows": self.rows, "unchained_rows": self.unchained_rows,
                "retained_rows": self.retained_rows, "broken": self.broken, "problems": self.problems}


def verify(conn: Any, since: int | None = None, max_problems: int = 20) -> DataReport:
    """Recompute every batch (received at or after ``since``, epoch seconds) from ``observation``; ``conn`` a
    SQLAlchemy connection. The first broken batch is ``broken`` (source, seq, received_at, reason)."""
    from sqlalchemy import text

    rep = DataReport()
    names = {int(r[0]): str(r[1]) for r in conn.execute(text("SELECT id, name FROM source"))}

    def bad(b: dict[str, Any], why: str) -> None:
        item = {"source": names.get(b["source_id"], b["source_id"]), "seq": b.get("seq"),
                "received_at": b.get("received_at"), "reason": why}
        if rep.ok:
            rep.ok, rep.broken = False, item
        if len(rep.problems) < max_problems:
            rep.problems.append(item)

    where = "" if since is None else " WHERE received_at >= :since"
    batches: dict[tuple[int, int], dict[str, Any]] = {}
    first: dict[int, int] = {}
    prev_by_source: dict[int, tuple[int, str]] = {}
    for r in conn.execute(text("SELECT source_id, received_at, seq, count, rows_sm3, prev_hash, hash FROM obs_batch"  # noqa: S608
                               + where + " ORDER BY source_id, seq"), {"since": since}).mappings():
        b = dict(r)
        rep.batches += 1
        src = b["source_id"]
        first.setdefault(src, b["received_at"])
        if b["hash"] != link(b["prev_hash"], src, b["received_at"], b["seq"], b["count"], b["rows_sm3"]):
            bad(b, "the batch record was changed (its hash does not match)")
        pv = prev_by_source.get(src)
        if pv is None and since is None and (b["seq"] != 1 or b["prev_hash"] != ZERO):
            bad(b, f"batches 1..{b['seq'] - 1} of this source are missing (deleted)")
        elif pv is not None and b["seq"] != pv[0] + 1:
            bad(b, f"batch records {pv[0] + 1}..{b['seq'] - 1} are missing (deleted)")
        elif pv is not None and b["prev_hash"] != pv[1]:
            bad(b, "prev_hash is not the previous batch's hash")
        prev_by_source[src] = (b["seq"], b["hash"])
        b["_found"] = False
        batches[(src, b["received_at"])] = b
    retained = {(int(r[0]), int(r[1])): (int(r[2]), str(r[3]), int(r[4]), str(r[5])) for r in conn.execute(text(
        "SELECT source_id, received_at, remaining_count, remaining_sm3, removed, hash FROM obs_retention"))}
    for rkey, (n_left, sm3_left, removed, h) in retained.items():  # retention (store.retention) left these
        rb = batches.get(rkey)
        if rb is not None:
            if h != retention_link(rb["hash"], removed, n_left, sm3_left):
                bad(rb, "the retention record of the batch was changed (its hash does not match)")
            rb["count"], rb["rows_sm3"], rb["_retained"] = n_left, sm3_left, removed
    ts = "received_at" if conn.dialect.name != "postgresql" else "CAST(extract(epoch FROM received_at) AS bigint)"
    since_sql = "" if since is None else (" WHERE received_at >= :since" if conn.dialect.name != "postgresql"
                                          else " WHERE received_at >= to_timestamp(:since)")
    q = text(f"SELECT source_id, {ts} AS rcv, series_id, time, value, flag FROM observation{since_sql} "  # noqa: S608
             "ORDER BY source_id, received_at")
    res = conn.execution_options(stream_results=True, yield_per=20000).execute(q, {"since": since})

    def check(key: tuple[int, int], rows: list[tuple]) -> None:
        rep.rows += len(rows)
        b = batches.get(key)
        if b is None:
            if key[1] < first.get(key[0], 1 << 62):
                rep.unchained_rows += len(rows)  # written before the chain existed
            else:
                bad({"source_id": key[0], "received_at": key[1]},
                    f"{len(rows)} rows have no batch record (written around the writer, or their record deleted)")
            return
        b["_found"] = True
        data, n = rows_bytes(rows)
        if n != b["count"]:
            bad(b, f"{b['count']} rows were written, {n} are there ({b['count'] - n:+d}: rows deleted or added)")
        elif sm3_hex(data) != b["rows_sm3"]:
            bad(b, "rows were changed (SM3 over the batch's rows does not match)")

    key: tuple[int, int] | None = None
    group: list[tuple] = []
    for r in res:
        k = (int(r[0]), int(r[1]))
        if k != key:
            if key is not None:
                check(key, group)
            key, group = k, []
        group.append((r[2], r[3], r[4], r[5]))
    if key is not None:
        check(key, group)
    for b in batches.values():
        if not b["_found"] and b["count"] > 0:
            bad(b, f"all {b['count']} rows of the batch are gone (deleted)")
        rep.retained_rows += b.get("_retained", 0)
    return rep


def verify_store(store: Any, since: int | None = None) -> DataReport:
    """:func:`verify` on a :class:`~ecohub.store.db.Store`."""
    with store.engine.connect() as conn:
        return verify(conn, since)
