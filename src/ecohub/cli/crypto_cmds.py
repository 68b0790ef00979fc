"""Integrity and keys (issue 19): ``ecohub data verify`` (the raw-observation batch chain). ``ecohub audit
verify`` is with the other audit commands (``api_cmds``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, console, err_console, fail, open_store, print_json

data_app = typer.Typer(help="Raw data integrity (the SM3 chain over the writer's batches).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")


def _since(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--since {text!r}: not an ISO date/time (2026-12-01 or 2026-12-01T08:00:00+08:00)")
    return int((d if d.tzinfo else d.replace(tzinfo=UTC)).timestamp())


@data_app.command("verify")
def data_verify(since: Annotated[str | None, typer.Option(help="Only batches received at or after this time "
                                                          "(ISO; UTC unless it has an offset).")] = None,
                json_out: Annotated[bool, typer.Option("--json")] = False, database_url: DatabaseUrl = None) -> None:
    """Recompute every batch's count and SM3 from the raw observations and check the chain; name the first
    broken batch (exit code 1 when something was changed or deleted)."""
    from ecohub.store.batch_chain import verify_store

    store = open_store(database_url)
    rep = verify_store(store, _since(since))
    if json_out:
        print_json(rep.as_dict())
    elif rep.ok:
        console.print(f"raw data intact: {rep.batches} batches, {rep.rows} rows checked; {rep.unchained_rows} rows "
                      "from before the chain", highlight=False)
    else:
        b = rep.broken or {}
        err_console.print(f"[bold red]raw data changed[/]: source {b.get('source')} batch seq {b.get('seq')} "
                          f"(received_at {b.get('received_at')}): {b.get('reason')}", highlight=False)
        for p in rep.problems[1:]:
            err_console.print(f"  also source {p['source']} seq {p['seq']}: {p['reason']}", highlight=False)
    if not rep.ok:
        raise typer.Exit(1)
