"""Operations: ``ecohub backup`` and ``ecohub restore`` (SQLite online backup API; PostgreSQL pg_dump/pg_restore)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, audit, console, fail, open_store, print_json

BACKUP_HELP = (
    "Back up the whole database to the file given with -o.\n\n"
    "SQLite: a consistent copy through SQLite's online backup API (the platform may keep running). "
    "PostgreSQL: pg_dump in custom format (needs the PostgreSQL client programs). "
    "The row counts of every table and a SHA-256 of the raw observations are printed (--json: as one object) "
    "so that a restore can be checked against them."
)

RESTORE_HELP = (
    "Replace the database's content with the backup FILE (made by 'ecohub backup').\n\n"
    "The backend must match (an SQLite backup into SQLite, a pg_dump archive into PostgreSQL). "
    "A database that already holds data is refused unless --force is given. "
    "Afterwards the counts and the observation hash are printed: compare them with what 'ecohub backup' printed."
)


def backup_cmd(
    output: Annotated[Path, typer.Option("-o", "--output", help="Backup file to write (replaced if it exists).")],
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    verify: Annotated[bool, typer.Option(help="Print row counts and the observation hash.")] = True,
    database_url: DatabaseUrl = None,
) -> None:
    from ecohub.store.backup import BackupError, backup, fingerprint

    store = open_store(database_url, init_if_empty=False)
    try:
        size = backup(store, output)
    except BackupError as e:
        fail(str(e))
    audit(store, "backup", "backup", str(output), {"bytes": size})
    out = {"file": str(output), "bytes": size, "backend": store.dialect}
    if verify:
        out |= fingerprint(store).as_dict()
    _show(out, json_out)


def restore_cmd(
    file: Annotated[Path, typer.Argument(help="Backup file made by 'ecohub backup'.")],
    force: Annotated[bool, typer.Option("--force", help="Replace a database that already holds data.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    from ecohub.config import Settings
    from ecohub.store.backup import BackupError, fingerprint, restore
    from ecohub.store.db import Store

    store = Store.open(Settings.from_env(database_url=database_url).database_url)
    try:
        restore(store, file, force=force)
    except BackupError as e:
        fail(str(e))
    store = open_store(database_url, init_if_empty=False)  # checks the restored schema against the code
    audit(store, "restore", "restore", str(file))
    _show({"file": str(file), "backend": store.dialect} | fingerprint(store).as_dict(), json_out)


def _show(out: dict, json_out: bool) -> None:
    if json_out:
        print_json(out)
        return
    for k, v in out.items():
        if k == "counts":
            nonzero = {t: n for t, n in v.items() if n}
            console.print(f"rows: {sum(v.values()):,} in {len(nonzero)} non-empty tables "
                          f"(observation {v.get('observation', 0):,})")
        else:
            console.print(f"{k}: {v}")


def register(app: typer.Typer) -> None:
    app.command("backup", help=BACKUP_HELP)(backup_cmd)
    app.command("restore", help=RESTORE_HELP)(restore_cmd)
