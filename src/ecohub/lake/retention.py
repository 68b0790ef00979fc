"""``ecohub retention run``: what the lake holds decides what the database may drop. The lake's manifest
(:func:`ecohub.lake.sync.read_manifest`) gives the watermark of its last committed sync — every observation
received no later than that is in its Parquet files — and :func:`ecohub.store.retention.run_retention` drops
the raw minute rows older than the cut-off and received by then. Refused, with the reason, when the lake holds
nothing (no manifest, no committed sync, or its files are missing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ecohub.domain.errors import InputError
from ecohub.lake.sync import committed_files, read_manifest
from ecohub.store import audit
from ecohub.store.db import Store
from ecohub.store.retention import RetentionResult, run_retention

__all__ = ["retention", "synced_until"]


def synced_until(lake: Path) -> datetime:
    """The watermark of the lake's last committed sync; :class:`InputError` when nothing is synced."""
    lake = Path(lake)
    hint = f"run 'ecohub lake sync --to {lake}' first: retention drops only what the lake holds"
    try:
        m = read_manifest(lake)
    except ValueError as e:
        raise InputError("lake", str(lake), f"{e}; nothing is dropped") from None
    if not m["syncs"]:
        raise InputError("lake", str(lake), f"nothing is synced to Parquet there: {hint}")
    if sum(s.get("rows", 0) for s in m["syncs"]) and not committed_files(lake):
        raise InputError("lake", str(lake), f"the manifest lists synced rows but their Parquet files are missing: "
                         f"{hint}")
    return datetime.fromisoformat(m["syncs"][-1]["watermark"]).astimezone(UTC)


def retention(store: Store, lake: Path, *, older_than_days: int, dry_run: bool = False,
              now: datetime | None = None, origin: audit.Origin | None = None) -> RetentionResult:
    if older_than_days < 1:
        raise InputError("older_than_days", older_than_days, "must be at least 1")
    until = synced_until(lake)
    cutoff = (now or datetime.now(UTC)) - timedelta(days=older_than_days)
    return run_retention(store, cutoff=cutoff, synced_until=until, dry_run=dry_run, origin=origin)
