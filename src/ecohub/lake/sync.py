"""``ecohub lake sync``: copy what the database received since the last sync into the lake (incremental).

A sync selects the observations whose ``received_at`` lies after the previous sync's watermark and no later than
``now − settle`` (a writer's transaction may commit a little after the time it stamped; ``settle`` leaves it
that long), writes them as new Parquet files (one per partition and chunk, named after the sync), and then
commits the sync in the manifest (written atomically). Files of a sync that never committed are deleted first.
The database is only read. Raw data are immutable, so a re-done sync cannot change a value, only repeat a row.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pds
from sqlalchemy import select

from ecohub.domain.timeutil import BEIJING
from ecohub.lake.layout import MANIFEST, OBSERVATIONS, PARTITIONS, SCHEMA
from ecohub.store.db import Store
from ecohub.store.schema import observation, parameter, series, site, source

CHUNK = 200_000


@dataclass
class SyncResult:
    sync_id: str
    rows: int
    files: int
    watermark: datetime | None
    previous: datetime | None
    removed_stale_files: int = 0

    def as_dict(self) -> dict:
        return {"sync_id": self.sync_id, "rows": self.rows, "files": self.files,
                "watermark": self.watermark.isoformat() if self.watermark else None,
                "previous": self.previous.isoformat() if self.previous else None,
                "removed_stale_files": self.removed_stale_files}


def read_manifest(root: Path) -> dict:
    p = Path(root) / MANIFEST
    if not p.exists():
        return {"version": 1, "syncs": []}
    try:
        m = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{p}: not a readable lake manifest ({e})") from e
    if not isinstance(m, dict) or not isinstance(m.get("syncs"), list):
        raise ValueError(f"{p}: not a lake manifest (no 'syncs' list)")
    return m


def _write_manifest(root: Path, m: dict) -> None:
    p = Path(root) / MANIFEST
    tmp = p.with_name(p.name + f".{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(m, ensure_ascii=False, indent=1), encoding="utf-8")
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    tmp.replace(p)  # atomic: the manifest is the old one or the new one


def committed_files(root: Path) -> list[Path]:
    """The Parquet files of committed syncs (what readers should read)."""
    ids = {s["id"] for s in read_manifest(root)["syncs"]}
    return sorted(p for p in (Path(root) / OBSERVATIONS).rglob("part-*.parquet") if _sync_id(p) in ids)


def _sync_id(p: Path) -> str:
    return p.name.split("-")[1]


def _remove_uncommitted(root: Path, committed: set[str]) -> int:
    n = 0
    for p in (Path(root) / OBSERVATIONS).rglob("part-*.parquet"):
        if _sync_id(p) not in committed:
            p.unlink()
            n += 1
    return n


def _to_table(rows: list) -> pa.Table:
    if not rows:
        return SCHEMA.empty_table()
    site_c, param_c, interval_c, kind_c, region_c, time_c, value_c, flag_c, source_c, recv_c = (
        list(c) for c in zip(*rows, strict=True))
    times = [t.astimezone(UTC) for t in time_c]
    dates = [t.astimezone(BEIJING).date().isoformat() for t in times]
    return pa.table({
        "site": site_c, "parameter": param_c, "interval": interval_c, "kind": kind_c, "region_code": region_c,
        "time": times, "date": dates, "value": value_c, "flag": flag_c, "source": source_c,
        "received_at": [t.astimezone(UTC) for t in recv_c],
    }, schema=SCHEMA)


def sync(store: Store, root: Path, *, settle_seconds: float = 120, now: datetime | None = None) -> SyncResult:
    """Copy the observations received since the last committed sync into the lake at ``root``."""
    root = Path(root)
    (root / OBSERVATIONS).mkdir(parents=True, exist_ok=True)
    m = read_manifest(root)
    removed = _remove_uncommitted(root, {s["id"] for s in m["syncs"]})
    previous = datetime.fromisoformat(m["syncs"][-1]["watermark"]) if m["syncs"] else None
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=settle_seconds)
    # received_at is stamped in whole seconds: rows of the current second may still come, so stop before it
    cutoff = cutoff.replace(microsecond=0) - timedelta(seconds=1)
    sync_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + uuid.uuid4().hex[:6]
    q = (select(site.c.code, parameter.c.name, series.c.interval, site.c.kind, site.c.region_code,
                observation.c.time, observation.c.value, observation.c.flag, source.c.name,
                observation.c.received_at)
         .select_from(observation.join(series, series.c.id == observation.c.series_id)
                      .join(site, site.c.id == series.c.site_id)
                      .join(parameter, parameter.c.id == series.c.parameter_id)
                      .join(source, source.c.id == observation.c.source_id))
         .where(observation.c.received_at <= cutoff))
    if previous is not None:
        q = q.where(observation.c.received_at > previous)
    rows_total, newest = 0, None
    written: list[str] = []
    with store.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=CHUNK).execute(q)
        for n_chunk, part in enumerate(result.partitions(CHUNK)):
            table = _to_table(list(part))
            rows_total += table.num_rows
            recv_max = pc.max(table["received_at"]).as_py()
            newest = recv_max if newest is None or recv_max > newest else newest
            pds.write_dataset(
                table, root / OBSERVATIONS, format="parquet",
                partitioning=pds.partitioning(pa.schema([SCHEMA.field(p) for p in PARTITIONS]), flavor="hive"),
                basename_template=f"part-{sync_id}-{n_chunk}-{{i}}.parquet",
                existing_data_behavior="overwrite_or_ignore",
                file_visitor=lambda f: written.append(f.path))
    files = len(written)
    watermark = cutoff if previous is None or cutoff > previous else previous
    m["syncs"].append({"id": sync_id, "watermark": watermark.isoformat(), "rows": rows_total, "files": files,
                       "newest_received": newest.isoformat() if newest else None,
                       "at": datetime.now(UTC).isoformat()})
    _write_manifest(root, m)
    return SyncResult(sync_id, rows_total, files, watermark, previous, removed)
