"""One settings object (``ecohub.config.Settings``): environment first, then ``.env``, then the documented
defaults; ``ecohub config show`` prints the effective values with secrets masked; nothing else in the package
reads ``ECOHUB_*`` variables itself."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from typer.testing import CliRunner

from ecohub.api.security import ApiConfig
from ecohub.cli.main import app
from ecohub.config import Settings

SRC = Path(__file__).resolve().parents[2] / "src" / "ecohub"


def show(monkeypatch, tmp_path, env: dict, dotenv: str | None = None):
    monkeypatch.chdir(tmp_path)
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv, encoding="utf-8")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    r = CliRunner().invoke(app, ["config", "show", "--json"])
    return r, {row["variable"]: row for row in map(json.loads, r.stdout.splitlines())} if r.exit_code == 0 else {}


def test_show_masks_secrets_and_prefers_the_environment(monkeypatch, tmp_path):
    r, rows = show(monkeypatch, tmp_path, {
        "ECOHUB_SECRET_KEY": "k" * 40, "ECOHUB_SMTP_PASSWORD": "hunter2-secret",
        "ECOHUB_DATABASE_URL": "postgresql://ops:db-secret@db.example:5432/ecohub", "ECOHUB_OFFLINE_MINUTES": "30",
        "ECOHUB_TILE_URL": ""},  # empty counts as unset
        dotenv="ECOHUB_OFFLINE_MINUTES=45\nECOHUB_PM25_TARGET=30\n")
    assert r.exit_code == 0, r.output
    for secret in ("k" * 40, "hunter2-secret", "db-secret"):
        assert secret not in r.stdout
    assert rows["ECOHUB_SECRET_KEY"]["value"] == "********" and rows["ECOHUB_SMTP_PASSWORD"]["value"] == "********"
    assert rows["ECOHUB_DATABASE_URL"]["value"] == "postgresql+psycopg://ops:***@db.example:5432/ecohub"
    assert rows["ECOHUB_OFFLINE_MINUTES"]["value"] == 30 and rows["ECOHUB_OFFLINE_MINUTES"]["default"] == 60
    assert rows["ECOHUB_PM25_TARGET"]["value"] == 30.0  # from .env
    assert rows["ECOHUB_TILE_URL"]["value"] == ""
    assert all(row["description"] for row in rows.values())  # every setting documents itself


def test_a_bad_value_is_refused_naming_the_variable(monkeypatch, tmp_path):
    r, _ = show(monkeypatch, tmp_path, {"ECOHUB_TILE_MAXZOOM": "abc"})
    assert r.exit_code == 2 and "ECOHUB_TILE_MAXZOOM" in r.output


def test_settings_are_passed_down(monkeypatch, tmp_path):
    monkeypatch.setenv("ECOHUB_RATE_LIMIT_ANON", "7")
    monkeypatch.setenv("ECOHUB_CORS_ORIGINS", "https://a.example, https://b.example")
    s = Settings.from_env(data_dir=tmp_path)
    assert s.database_url == f"sqlite:///{(tmp_path / 'ecohub.db').as_posix()}"
    cfg = ApiConfig.from_settings(s)
    assert cfg.rate_anon_per_min == 7 and cfg.cors_origins == ["https://a.example", "https://b.example"]
    assert Settings.from_env(database_url="postgres://u@h/db").database_url == "postgresql+psycopg://u@h/db"


def test_nothing_else_reads_the_environment():
    """``ECOHUB_*`` are read by ``ecohub.config`` only (``os.environ`` / ``getenv`` anywhere else fails this,
    except the CLI's ``--password-env NAME``, which names a variable of the operator's choosing, Spark's own
    ``PYSPARK_PYTHON``, and the load driver handing its environment to the processes it starts)."""
    allowed = {("cli/data_cmds.py", "password_env"), ("lake/spark_jobs.py", "PYSPARK_PYTHON"),
               ("bus/loadtest.py", "PYTHONUNBUFFERED")}  # the load driver passes its environment to its children
    found = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if rel == "config.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") and \
                    isinstance(node.value, ast.Name) and node.value.id == "os":
                line = path.read_text(encoding="utf-8").splitlines()[node.lineno - 1]
                if not any(rel == f and key in line for f, key in allowed):
                    found.append(f"{rel}:{node.lineno}: {line.strip()}")
    assert found == []
