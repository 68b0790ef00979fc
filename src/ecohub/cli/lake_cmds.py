"""``ecohub lake sync`` (database → partitioned Parquet) and ``ecohub spark daily-aqi`` (statistics on Spark)."""

from __future__ import annotations

import csv
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, console, fail, open_store, print_json

SYNC_HELP = (
    "Copy the observations received since the last sync into the lake DIR as hive-partitioned Parquet "
    "(observations/interval=…/kind=…/date=…/part-<sync>-….parquet), incrementally.\n\n"
    "Only files are added; the manifest _ecohub_lake.json records each committed sync and its watermark "
    "(received_at). Rows received within the last --settle-seconds wait for the next sync, so that a transaction "
    "still committing is not missed. Files of an interrupted sync are removed by the next one."
)
DAILY_HELP = (
    "Station daily values (24-h means with ≥ 20 valid hours, O3 daily max 8-h) and daily AQI (HJ 633) for the "
    "Beijing days --from … --to, computed by Spark over the lake's Parquet files with the same definition as "
    "the embedded path (ecohub.lake.daily). Needs Java 17+ and pyspark. Writes CSV (-o) or JSON lines (--json)."
)


def sync_cmd(
    to: Annotated[Path, typer.Option("--to", help="Lake folder (created if missing).")],
    settle_seconds: Annotated[float, typer.Option(help="Leave rows received this recently for the next sync.")] = 120,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    from ecohub.lake.sync import sync

    if settle_seconds < 0:
        fail(f"--settle-seconds: must be ≥ 0, not {settle_seconds}")
    store = open_store(database_url, init_if_empty=False)
    try:
        res = sync(store, to, settle_seconds=settle_seconds)
    except (ValueError, OSError) as e:
        fail(str(e))
    if json_out:
        print_json(res.as_dict())
    else:
        console.print(f"sync {res.sync_id}: {res.rows:,} observations in {res.files} files; "
                      f"watermark {res.watermark.isoformat() if res.watermark else '-'}")


def daily_aqi_cmd(
    lake: Annotated[Path, typer.Option("--lake", help="Lake folder written by 'ecohub lake sync'.")],
    from_: Annotated[str, typer.Option("--from", help="First Beijing day, YYYY-MM-DD.")],
    to: Annotated[str, typer.Option("--to", help="Last Beijing day, YYYY-MM-DD.")],
    master: Annotated[str, typer.Option(help="Spark master: local[2], spark://host:7077, yarn …")] = "local[2]",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="CSV file to write.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON lines on stdout.")] = False,
) -> None:
    try:
        d0, d1 = date.fromisoformat(from_), date.fromisoformat(to)
    except ValueError as e:
        fail(f"--from/--to: not a date YYYY-MM-DD ({e})")
    if d1 < d0:
        fail(f"--from {from_} is after --to {to}")
    if not (lake / "_ecohub_lake.json").exists():
        fail(f"--lake {lake}: no lake there (no _ecohub_lake.json): run 'ecohub lake sync --to {lake}' first")
    try:
        from ecohub.lake.daily import COLUMNS
        from ecohub.lake.spark_jobs import daily_aqi, session
    except ImportError as e:
        fail(f"pyspark is not installed ({e}): pip install 'ecohub[spark]'")
    spark = session(master)
    try:
        rows = [r.asDict() for r in daily_aqi(spark, lake, d0, d1).orderBy("site", "date").collect()]
    except ValueError as e:
        fail(str(e))
    finally:
        spark.stop()
    if json_out:
        for r in rows:
            print_json(r)
    if output is not None or not json_out:
        f = open(output, "w", newline="", encoding="utf-8") if output else sys.stdout
        try:
            w = csv.DictWriter(f, fieldnames=list(COLUMNS))
            w.writeheader()
            w.writerows(rows)
        finally:
            if output:
                f.close()
    if output:
        console.print(f"{len(rows)} station-days → {output}")


def register(app: typer.Typer) -> None:
    lake = typer.Typer(help="The Parquet lake: history for Spark and DuckDB.", no_args_is_help=True)
    lake.command("sync", help=SYNC_HELP)(sync_cmd)
    app.add_typer(lake, name="lake")
    spark = typer.Typer(help="Statistics on Spark over the lake (same definitions as the embedded path).",
                        no_args_is_help=True)
    spark.command("daily-aqi", help=DAILY_HELP)(daily_aqi_cmd)
    app.add_typer(spark, name="spark")
