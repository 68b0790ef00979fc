"""Reading observations into arrays and writing QC flags, the same way on SQLite and PostgreSQL.

Times cross this boundary as integer epoch seconds (UTC): SQLite stores them so; on PostgreSQL the SQL
converts (``EXTRACT(EPOCH …)`` / ``to_timestamp``), so no per-row ``datetime`` is built on hot paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ecohub.quality.rules import ObsArrays


def is_pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def ep(conn: Connection, col: str) -> str:
    """SQL for a time column as epoch seconds."""
    return f"CAST(EXTRACT(EPOCH FROM {col}) AS BIGINT)" if is_pg(conn) else col


def ts(conn: Connection, param: str) -> str:
    """SQL for a bound epoch-seconds parameter as a time value."""
    return f"to_timestamp(:{param})" if is_pg(conn) else f":{param}"


def to_epoch(t: datetime | int | float | None) -> int | None:
    if t is None:
        return None
    if isinstance(t, datetime):
        if t.tzinfo is None:
            raise ValueError(f"naive datetime {t!r}")
        return int(t.timestamp())
    return int(t)


def from_epoch(t: int | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(int(t), UTC)


def touched_series(conn: Connection, lo: int | None, hi: int) -> dict[int, tuple[int, int]]:
    """Series with observations received in (lo, hi]: series id → (earliest, latest) data time among them."""
    where = f"received_at <= {ts(conn, 'hi')}"
    params: dict = {"hi": hi}
    if lo is not None:
        where += f" AND received_at > {ts(conn, 'lo')}"
        params["lo"] = lo
    rows = conn.execute(text(f"SELECT series_id, {ep(conn, 'MIN(time)')}, {ep(conn, 'MAX(time)')} "  # noqa: S608
                             f"FROM observation WHERE {where} GROUP BY series_id"), params).all()
    return {int(r[0]): (int(r[1]), int(r[2])) for r in rows}


def series_meta(conn: Connection, ids: Iterable[int] | None = None) -> dict[int, dict]:
    """series id → {site, site_id, kind, parameter, parameter_id, interval, region, enterprise_id, site_name}."""
    q = ("SELECT r.id, s.code, s.id, s.kind, p.name, p.id, r.interval, s.region_code, s.enterprise_id, s.name "
         "FROM series r JOIN site s ON s.id = r.site_id JOIN parameter p ON p.id = r.parameter_id")
    out: dict[int, dict] = {}
    id_list = sorted(set(ids)) if ids is not None else None
    chunks = [id_list[i:i + 900] for i in range(0, len(id_list), 900)] if id_list is not None else [None]
    for chunk in chunks:
        if chunk is not None and not chunk:
            continue
        sql = q + (f" WHERE r.id IN ({', '.join(str(int(x)) for x in chunk)})" if chunk is not None else "")
        for r in conn.execute(text(sql)):
            out[int(r[0])] = {"site": r[1], "site_id": int(r[2]), "kind": r[3], "parameter": r[4],
                              "parameter_id": int(r[5]), "interval": r[6], "region": r[7], "enterprise_id": r[8],
                              "site_name": r[9]}
    return out


def _temp_windows(conn: Connection, windows: dict[int, tuple[int, int | None]]) -> str:
    """A temporary table of (series_id, t_from, t_to) windows; returns its name."""
    name = "_eh_win"
    if is_pg(conn):
        conn.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {name} (series_id int PRIMARY KEY, "
                          "t_from timestamptz, t_to timestamptz)"))
    else:
        conn.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {name} (series_id INTEGER PRIMARY KEY, "
                          "t_from INTEGER, t_to INTEGER)"))
    conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608 (fixed name)
    far = 4102444800  # 2100-01-01
    conn.execute(text(f"INSERT INTO {name} VALUES (:s, {ts(conn, 'a')}, {ts(conn, 'b')})"),  # noqa: S608
                 [{"s": s, "a": a, "b": far if b is None else b} for s, (a, b) in windows.items()])
    return name


def load_windows(conn: Connection, windows: dict[int, tuple[int, int | None]], *,
                 with_qc: bool = False) -> tuple[np.ndarray, np.ndarray, ObsArrays, np.ndarray | None]:
    """Observations of each series in its window [t_from, t_to) (t_to None = open), sorted by series, source,
    time. Returns (series_id per row, source_id per row, arrays, qc level per row or None).

    ``with_qc``: also the highest QC flag level stored for each observation (0 when none).
    """
    if not windows:
        e = np.zeros(0, np.int64)
        return e, e, ObsArrays(e, e, np.zeros(0), np.zeros(0, dtype=object), e), (e if with_qc else None)
    w = _temp_windows(conn, windows)
    qc = (", COALESCE((SELECT MAX(f.level) FROM qc_flag f WHERE f.series_id = o.series_id AND f.time = o.time "
          "AND f.source_id = o.source_id), 0)") if with_qc else ""
    sql = (f"SELECT o.series_id, o.source_id, {ep(conn, 'o.time')}, o.value, o.flag, {ep(conn, 'o.received_at')}"  # noqa: S608 (integer ids and fixed names only)
           f"{qc} FROM {w} w JOIN observation o ON o.series_id = w.series_id AND o.time >= w.t_from "
           "AND o.time < w.t_to ORDER BY o.series_id, o.source_id, o.time")
    raw = conn.connection.driver_connection.cursor()
    raw.execute(sql)  # no bound parameters in this statement
    rows = raw.fetchall()
    raw.close()
    if not rows:
        e = np.zeros(0, np.int64)
        return e, e, ObsArrays(e, e, np.zeros(0), np.zeros(0, dtype=object), e), (e if with_qc else None)
    cols = list(zip(*rows, strict=True))
    sid = np.fromiter(cols[0], dtype=np.int64, count=len(rows))
    src = np.fromiter(cols[1], dtype=np.int64, count=len(rows))
    t = np.fromiter(cols[2], dtype=np.int64, count=len(rows))
    v = np.array(cols[3], dtype=np.float64)  # None → nan
    f = np.array(cols[4], dtype=object)
    r = np.fromiter(cols[5], dtype=np.int64, count=len(rows))
    q = np.fromiter(cols[6], dtype=np.int64, count=len(rows)) if with_qc else None
    key = sid * 65536 + src
    change = np.r_[True, key[1:] != key[:-1]]
    group = np.cumsum(change) - 1
    return sid, src, ObsArrays(group, t, v, f, r), q


def source_names(conn: Connection) -> dict[int, str]:
    return {int(r[0]): r[1] for r in conn.execute(text("SELECT id, name FROM source"))}


def upsert_flags(conn: Connection, rows: Sequence[tuple[int, int, int, str, int, str | None]], now: int) -> None:
    """Write flags (series, time, source, rule, level, detail); an existing flag takes the new level/detail."""
    if not rows:
        return
    t = ts(conn, "t")
    c = ts(conn, "c")
    sql = (f"INSERT INTO qc_flag (series_id, time, source_id, rule, level, detail, created_at) "  # noqa: S608 (integer ids and fixed names only)
           f"VALUES (:s, {t}, :src, :r, :l, :d, {c}) ON CONFLICT (series_id, time, source_id, rule) "
           "DO UPDATE SET level = excluded.level, detail = excluded.detail")
    conn.execute(text(sql), [{"s": s, "t": tt, "src": src, "r": r, "l": lv, "d": d, "c": now}
                             for s, tt, src, r, lv, d in rows])


def delete_flags_from(conn: Connection, series_from: dict[int, int], rules: Sequence[str]) -> None:
    """Delete the flags of the given rules at or after a time, per series (before a re-evaluation)."""
    if not series_from:
        return
    rl = ", ".join(f"'{r}'" for r in rules)
    conn.execute(text(f"DELETE FROM qc_flag WHERE series_id = :s AND time >= {ts(conn, 't')} "  # noqa: S608
                      f"AND rule IN ({rl})"), [{"s": s, "t": t} for s, t in series_from.items()])
