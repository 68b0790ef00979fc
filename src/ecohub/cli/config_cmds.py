"""``ecohub config show``: the effective settings (environment ``ECOHUB_*``, then ``.env``, then the documented
defaults), secrets masked."""

from __future__ import annotations

from typing import Annotated

import typer

config_app = typer.Typer(help="The effective configuration (ECOHUB_* variables, .env, defaults).",
                         no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")


@config_app.command("show")
def config_show(
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per setting: name, variable, value, "
                                                          "default, description.")] = False,
    database_url: Annotated[str | None, typer.Option("--database-url", help="As every command takes it: shown as "
                                                                             "the effective database.")] = None,
) -> None:
    """Print every setting with its environment variable and effective value. Secrets (the token signing key,
    the SMTP password, a password inside the database URL) are masked, never printed."""
    from pydantic import ValidationError

    from ecohub.cli.common import console, fail, print_rows
    from ecohub.config import Settings

    try:
        s = Settings.from_env(database_url=database_url)
    except ValidationError as e:
        fail("invalid configuration: " + "; ".join(
            f"ECOHUB_{'_'.join(str(x) for x in err['loc']).upper()}: {err['msg']}" for err in e.errors()))
    rows = s.shown()
    if json_out:
        print_rows(rows, True, {})
        return
    print_rows(rows, False, {"variable": "variable", "value": lambda r: "" if r["value"] is None else r["value"],
                             "default": lambda r: "" if r["default"] is None else r["default"]})
    console.print("Secrets are masked. Set a variable in the environment or in .env (environment first).")
