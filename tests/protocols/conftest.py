"""Shared fixtures of the HJ 212 codec tests."""

from __future__ import annotations

import gzip
import json
import os
import sys
from pathlib import Path

import pytest

try:  # the package may not be installed in the venv: use the src layout directly
    import ecohub.protocols.hj212  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "hj212_packets"


def _missing(path) -> None:
    """The shared data sit beside the repository in CI: there, their absence is a failure, not a skip."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true but the shared data are missing: {path}")
    pytest.skip(f"shared data not found: {path}")


def _jsonl(name: str) -> list[dict]:
    path = DATA / name
    if not path.exists():
        _missing(path)
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="session")
def device_packets() -> list[dict]:
    return _jsonl("device_packets.jsonl")


@pytest.fixture(scope="session")
def spec_examples() -> list[dict]:
    return _jsonl("spec_and_command_examples.jsonl")


@pytest.fixture(scope="session")
def simulator_session() -> list[dict]:
    return _jsonl("simulator_session_2021-04.jsonl.gz")


@pytest.fixture(scope="session")
def capture_log() -> bytes:
    path = DATA / "raw_logs" / "GB212ReceiverApp_capture_2021-01-06_07.txt"
    if not path.exists():
        _missing(path)
    return path.read_bytes()
