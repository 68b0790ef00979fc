"""Standalone commands start without the database stack (issue 12, CLI start-up): checked by what a fresh
interpreter has imported, never by a timing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ecohub.cli.main import COMMAND_MODULES, STANDALONE, modules_for

PROBE = """
import json, sys
from ecohub.cli.main import build, modules_for
argv = sys.argv[1:]
try:
    build(modules_for(argv))(argv, standalone_mode=False)
except SystemExit:
    pass
heavy = ("sqlalchemy", "alembic", "polars", "fastapi", "psycopg")
print(json.dumps({m: m in sys.modules for m in heavy}))
"""


@pytest.mark.parametrize("argv", [["aqi", "--help"], ["water-class", "--help"], ["hj212", "parse", "--help"]])
def test_standalone_commands_import_no_database_stack(argv):
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == {m: False for m in loaded}, loaded


def test_other_commands_and_global_options_build_the_whole_command_line():
    assert modules_for(["--help"]) == COMMAND_MODULES
    assert modules_for([]) == COMMAND_MODULES
    assert modules_for(["import", "x.csv"]) == COMMAND_MODULES
    assert modules_for(["--as", "aqi", "import"]) == COMMAND_MODULES  # "aqi" is the --as value here
    assert modules_for(["hj212", "simulate", "--devices", "3"]) == COMMAND_MODULES
    assert modules_for(["aqi", "in.csv", "-o", "out.csv"]) == [STANDALONE[("aqi",)]]
    assert modules_for(["hj212", "parse", "-"]) == [STANDALONE[("hj212", "parse")]]


@pytest.mark.parametrize("words", list(STANDALONE))
def test_standalone_registrations_give_the_same_help_as_the_whole_command_line(words, capsys):
    from typer.testing import CliRunner

    from ecohub.cli.main import app, build

    alone = CliRunner().invoke(build(modules_for(list(words))), [*words, "--help"])
    whole = CliRunner().invoke(app, [*words, "--help"])
    assert alone.exit_code == whole.exit_code == 0
    assert alone.output == whole.output
