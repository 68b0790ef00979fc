"""``ecohub lake sync`` (database → partitioned Parquet) and ``ecohub spark daily-aqi|hj663|rankings|completeness|
emissions`` (statistics on Spark over the lake)."""

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


Lake = Annotated[Path, typer.Option("--lake", help="Lake folder written by 'ecohub lake sync'.")]
From = Annotated[str, typer.Option("--from", help="First Beijing day, YYYY-MM-DD.")]
To = Annotated[str, typer.Option("--to", help="Last Beijing day, YYYY-MM-DD.")]
Master = Annotated[str, typer.Option(help="Spark master: local[2], spark://host:7077, yarn …")]
Output = Annotated[Path | None, typer.Option("-o", "--output", help="CSV file to write.")]
JsonOut = Annotated[bool, typer.Option("--json", help="JSON lines on stdout.")]


def _run(job: str, lake: Path, from_: str, to: str, master: str, output: Path | None, json_out: bool,
         **kw) -> None:
    """Check the arguments, run one job of ``ecohub.lake`` on Spark, write its rows (CSV or JSON lines)."""
    try:
        d0, d1 = date.fromisoformat(from_), date.fromisoformat(to)
    except ValueError as e:
        fail(f"--from/--to: not a date YYYY-MM-DD ({e})")
    if d1 < d0:
        fail(f"--from {from_} is after --to {to}")
    if not (lake / "_ecohub_lake.json").exists():
        fail(f"--lake {lake}: no lake there (no _ecohub_lake.json): run 'ecohub lake sync --to {lake}' first")
    try:
        from ecohub.lake import spark_jobs, spark_stats
    except ImportError as e:
        fail(f"pyspark is not installed ({e}): pip install 'ecohub[spark]'")
    jobs = {"daily-aqi": (spark_jobs.daily_aqi, ("site", "date")), "hj663": (spark_stats.hj663, ("period", "city")),
            "rankings": (spark_stats.rankings, ()), "completeness": (spark_stats.completeness, ("site", "period")),
            "emissions": (spark_stats.emissions, ("site", "pollutant", "date"))}
    fn, order = jobs[job]
    from pyspark.sql import SparkSession

    ours = SparkSession.getActiveSession() is None  # a caller's session (tests, a notebook) is left running
    spark = spark_jobs.session(master)
    try:
        df = fn(spark, lake, d0, d1, **kw)
        columns = df.columns
        rows = [r.asDict() for r in (df.orderBy(*order) if order else df).collect()]
    except ValueError as e:
        fail(str(e))
    finally:
        if ours:
            spark.stop()
    if json_out:
        for r in rows:
            print_json(r)
    if output is not None or not json_out:
        f = open(output, "w", newline="", encoding="utf-8") if output else sys.stdout
        try:
            w = csv.DictWriter(f, fieldnames=list(columns))
            w.writeheader()
            w.writerows(rows)
        finally:
            if output:
                f.close()
    if output:
        console.print(f"{len(rows)} rows → {output}")


def daily_aqi_cmd(lake: Lake, from_: From, to: To, master: Master = "local[2]", output: Output = None,
                  json_out: JsonOut = False) -> None:
    _run("daily-aqi", lake, from_, to, master, output, json_out)


def hj663_cmd(lake: Lake, from_: From, to: To,
              by: Annotated[str, typer.Option(help="period (the whole --from … --to) or month.")] = "period",
              master: Master = "local[2]", output: Output = None, json_out: JsonOut = False) -> None:
    if by not in ("period", "month"):
        fail(f"--by: {by!r} is not period or month")
    _run("hj663", lake, from_, to, master, output, json_out, by=by)


def rankings_cmd(lake: Lake, from_: From, to: To, master: Master = "local[2]", output: Output = None,
                 json_out: JsonOut = False) -> None:
    _run("rankings", lake, from_, to, master, output, json_out)


def completeness_cmd(lake: Lake, from_: From, to: To, master: Master = "local[2]", output: Output = None,
                     json_out: JsonOut = False) -> None:
    _run("completeness", lake, from_, to, master, output, json_out)


def emissions_cmd(lake: Lake, from_: From, to: To, master: Master = "local[2]", output: Output = None,
                  json_out: JsonOut = False) -> None:
    _run("emissions", lake, from_, to, master, output, json_out)


HJ663_HELP = (
    "HJ 663 period evaluation of every city on Spark over the lake: period means of SO2, NO2, PM10, PM2.5, CO 95th "
    "and O3-8h 90th percentiles (rounded as published), the comprehensive index and rank, days per AQI level, good "
    "(compliance) days and heavy-pollution days — per whole period or per month (--by month). Same definition "
    "as the embedded reports and rankings (ecohub.analytics.period)."
)
RANKINGS_HELP = "City ranking by the comprehensive index for --from … --to on Spark (as the embedded ranking)."
COMPLETENESS_HELP = (
    "Completeness per site and Beijing day on Spark: values expected, received, valid (device flags) and the "
    "transmission / effective / effective-transmission rates (ecohub.quality.completeness)."
)
EMISSIONS_HELP = (
    "Emissions accounting per outlet, pollutant and Beijing day on Spark from the lake's outlet data: Cou where "
    "valid, else C × Q, stopped hours zero, interior gaps substituted over the period (HJ 75-2017; "
    "ecohub.supervision.permits.hourly)."
)


def retention_run_cmd(
    lake: Annotated[Path | None, typer.Option("--lake", help="Lake folder of 'ecohub lake sync' (default "
                                                             "ECOHUB_LAKE_DIR, else <data folder>/lake).")] = None,
    older_than_days: Annotated[int | None, typer.Option(
        min=1, help="Drop raw minute observations older than this many days (default ECOHUB_RETENTION_DAYS, "
                    "400).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count only; change nothing.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Drop raw minute observations older than N days that the lake already holds (received no later than its
    last sync's watermark); audited; on PostgreSQL whole monthly partitions when all their rows qualify. Run it
    as the schema owner. Refused when nothing is synced."""
    from ecohub.cli.common import origin
    from ecohub.config import Settings
    from ecohub.domain.errors import InputError
    from ecohub.lake.retention import retention

    settings = Settings.from_env(database_url=database_url)
    folder = lake or settings.lake_dir
    assert folder is not None
    store = open_store(database_url, init_if_empty=False)
    try:
        res = retention(store, folder, older_than_days=older_than_days or settings.retention_days,
                        dry_run=dry_run, origin=origin("retention run"))
    except InputError as e:
        fail(str(e))
    finally:
        store.close()
    if json_out:
        print_json(res.as_dict())
        return
    verb = "would drop" if res.dry_run else "dropped"
    console.print(f"{verb} {res.rows:,} raw minute observations older than {res.cutoff:%Y-%m-%d %H:%M} UTC "
                  f"and in the lake (received by {res.synced_until.isoformat()}); {res.kept_unsynced:,} old but "
                  f"not yet in the lake kept; {res.batches} chained batches"
                  + (f"; partitions dropped: {', '.join(res.partitions_dropped)}" if res.partitions_dropped else ""),
                  highlight=False)


def register(app: typer.Typer) -> None:
    ret = typer.Typer(help="Retention of raw minute data (after it is in the Parquet lake).", no_args_is_help=True)
    ret.command("run")(retention_run_cmd)
    app.add_typer(ret, name="retention")
    lake = typer.Typer(help="The Parquet lake: history for Spark and DuckDB.", no_args_is_help=True)
    lake.command("sync", help=SYNC_HELP)(sync_cmd)
    app.add_typer(lake, name="lake")
    spark = typer.Typer(help="Statistics on Spark over the lake (same definitions as the embedded path).",
                        no_args_is_help=True)
    spark.command("daily-aqi", help=DAILY_HELP)(daily_aqi_cmd)
    spark.command("hj663", help=HJ663_HELP)(hj663_cmd)
    spark.command("rankings", help=RANKINGS_HELP)(rankings_cmd)
    spark.command("completeness", help=COMPLETENESS_HELP)(completeness_cmd)
    spark.command("emissions", help=EMISSIONS_HELP)(emissions_cmd)
    app.add_typer(spark, name="spark")
