"""The ``ecohub`` command: one Typer app; each area module adds its commands through ``register(app)``."""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer


def _root(as_: Annotated[str | None, typer.Option(
        "--as", envvar="ECOHUB_AS", show_envvar=True,
        help="Who runs this, as the audit log records it (cli:NAME). Default: the operating-system user.")] = None,
          log_format: Annotated[str | None, typer.Option(
              "--log-format", help="Log lines: text or json (one object a line: ts, level, logger, msg, request/"
                                   "connection id). Default: ECOHUB_LOG_FORMAT, else text.")] = None,
          ) -> None:
    """ecohub — environmental monitoring data platform (环境监测数据平台)."""
    if log_format is not None:
        from ecohub import logs

        try:
            logs.set_format(log_format)
        except ValueError as e:
            raise typer.BadParameter(str(e), param_hint="--log-format") from None
    if as_ is not None or "ecohub.cli.common" in sys.modules:  # standalone commands never import it
        from ecohub.cli.common import set_actor

        set_actor(as_)


def _new_app() -> typer.Typer:
    app = typer.Typer(
        name="ecohub",
        help="ecohub — environmental monitoring data platform (环境监测数据平台).\n\n"
        "Ingest (HJ 212, MQTT, HTTP, CSV/Excel), assess against the national standards, warn, map, share.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,
    )
    app.callback()(_root)
    return app


# Modules that add commands to ``app``. Order is the order of ``--help``.
COMMAND_MODULES = [
    "ecohub.cli.serve_cmds",
    "ecohub.cli.data_cmds",
    "ecohub.cli.gateway_cmds",
    "ecohub.cli.bus_cmds",
    "ecohub.cli.api_cmds",
    "ecohub.cli.standards_cmds",
    "ecohub.cli.worker_cmds",
    "ecohub.cli.permits_cmds",
    "ecohub.cli.waste_cmds",
    "ecohub.cli.hj212_cmds",
    "ecohub.cli.ingest_cmds",
    "ecohub.cli.ops_cmds",
    "ecohub.cli.lake_cmds",
    "ecohub.cli.assess_cmds",
    "ecohub.cli.analysis_cmds",
    "ecohub.cli.emergency_cmds",
    "ecohub.cli.forecast_cmds",
    "ecohub.cli.redline_cmds",
    "ecohub.cli.risk_cmds",
    "ecohub.cli.report_cmds",
    "ecohub.cli.config_cmds",
    "ecohub.cli.case_cmds",
    "ecohub.cli.complaint_cmds",
    "ecohub.cli.inspect_cmds",
    "ecohub.cli.credit_cmds",
    "ecohub.cli.exchange_cmds",
    "ecohub.cli.crypto_cmds",
]

# Commands that need no database: ``ecohub <command>`` imports only the module that defines it, so these
# start without SQLAlchemy, Alembic and the rest (issue 12: CLI start-up). Any other first word (``--help``
# and ``--as NAME`` included) builds the whole command line.
# Keys: the leading words of the command; values: "module" (its ``register``) or "module:function".
STANDALONE = {
    ("aqi",): "ecohub.cli.standards_cmds",
    ("water-class",): "ecohub.cli.standards_cmds",
    ("hj212", "parse"): "ecohub.cli.hj212_cmds:register_parse",
}


def build(modules: list[str]) -> typer.Typer:
    """A command-line app with the commands that ``modules`` ("module" or "module:function") register."""
    app = _new_app()
    for spec in modules:
        module, _, function = spec.partition(":")
        getattr(importlib.import_module(module), function or "register")(app)
    return app


def modules_for(argv: list[str]) -> list[str]:
    """What ``argv`` needs: the one registration of a standalone command, else every command module."""
    for words, spec in STANDALONE.items():
        if tuple(argv[:len(words)]) == words:
            return [spec]
    return COMMAND_MODULES


def __getattr__(name: str) -> typer.Typer:  # ``from ecohub.cli.main import app``: the whole command line
    if name == "app":
        app = build(COMMAND_MODULES)
        globals()["app"] = app
        return app
    raise AttributeError(name)


def main() -> None:  # console-script entry point
    build(modules_for(sys.argv[1:]))()


if __name__ == "__main__":
    main()
