"""The ``ecohub`` command: one Typer app; each area module adds its commands through ``register(app)``."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from ecohub.cli.common import set_actor

app = typer.Typer(
    name="ecohub",
    help="ecohub — environmental monitoring data platform (环境监测数据平台).\n\n"
    "Ingest (HJ 212, MQTT, HTTP, CSV/Excel), assess against the national standards, warn, map, share.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)



@app.callback()
def _root(as_: Annotated[str | None, typer.Option(
        "--as", envvar="ECOHUB_AS", show_envvar=True,
        help="Who runs this, as the audit log records it (cli:NAME). Default: the operating-system user.")] = None,
          ) -> None:
    """ecohub — environmental monitoring data platform (环境监测数据平台)."""
    set_actor(as_)


# Modules that add commands to ``app``. Order is the order of ``--help``.
COMMAND_MODULES = [
    "ecohub.cli.serve_cmds",
    "ecohub.cli.data_cmds",
    "ecohub.cli.gateway_cmds",
    "ecohub.cli.api_cmds",
    "ecohub.cli.standards_cmds",
    "ecohub.cli.worker_cmds",
    "ecohub.cli.hj212_cmds",
    "ecohub.cli.ingest_cmds",
    "ecohub.cli.assess_cmds",
    "ecohub.cli.analysis_cmds",
    "ecohub.cli.emergency_cmds",
    "ecohub.cli.forecast_cmds",
    "ecohub.cli.redline_cmds",
    "ecohub.cli.report_cmds",
]

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:  # console-script entry point
    app()


if __name__ == "__main__":
    main()
