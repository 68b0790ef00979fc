"""Shared pieces of the command line: opening the store, printing errors the same way, the actor of the audit
log (``ecohub --as NAME …``; default the operating-system user) and the audit row of every state-changing
command."""

from __future__ import annotations

import json
import sys
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError

from ecohub.config import Settings
from ecohub.store import migrate
from ecohub.store.audit import Origin
from ecohub.store.db import Store

console = Console()
err_console = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", envvar="ECOHUB_DATABASE_URL", show_envvar=True,
                 help="SQLAlchemy URL (sqlite:///file.db or postgresql://user@host/db). "
                      "Default: SQLite file ecohub.db in ECOHUB_DATA_DIR."),
]


_actor: dict[str, str | None] = {"as": None}


def set_actor(name: str | None) -> None:
    """The name given with ``ecohub --as NAME`` (None: the operating-system user)."""
    _actor["as"] = name


def actor_name() -> str:
    """The ``--as`` name, else the operating-system user (who acknowledges, who sets a target …)."""
    return Origin.cli(_actor["as"]).actor.removeprefix("cli:") or "cli"


def origin(command: str) -> Origin:
    """This command as the audit log names it: actor ``cli:<name>``, role ``system``, method ``CLI``, the
    command (``site add``) in the path column."""
    return Origin.cli(_actor["as"], command)


def audit(store: Store, command: str, action: str, target: str | None = None, detail: dict | None = None) -> None:
    """The audit row of a state-changing command (its own transaction, after the change). Commands that write in
    one transaction of their own record with ``origin(command).record(conn, …)`` inside it instead."""
    from ecohub.store.tx import write_tx

    with write_tx(store) as conn:
        origin(command).record(conn, action, target, detail)


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def open_store(database_url: str | None, *, init_if_empty: bool = True) -> Store:
    """Open the configured database. A new SQLite file is initialised on first use; a database whose schema
    is behind the code is refused with the command that brings it up to date."""
    settings = Settings.from_env(database_url=database_url)
    store = Store.open(settings.database_url)
    try:
        current = migrate.current_revision(store.engine)
    except OperationalError as e:
        fail(f"cannot open database {store.engine.url.render_as_string(hide_password=True)}: {e.orig}")
    if current is None:
        if init_if_empty:
            store.init()
            return store
        fail("the database has no ecohub schema yet: run 'ecohub db init'")
    if current != migrate.head_revision(store.engine):
        fail(f"the database schema is at revision {current}, the code needs {migrate.head_revision(store.engine)}: "
             "run 'ecohub db upgrade'")
    store.sync_reference()
    return store


def print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def print_rows(rows: list[dict], json_out: bool, columns: dict[str, object]) -> None:
    """Rows as JSON lines (``--json``) or as a table. ``columns``: header → key, or a function of the row."""
    if json_out:
        for r in rows:
            print_json(r)
        return
    from rich.table import Table

    t = Table(*columns)
    for r in rows:
        t.add_row(*[str(f(r) if callable(f) else (r[f] if r[f] is not None else "")) for f in columns.values()])
    console.print(t)
