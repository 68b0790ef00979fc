"""Shared fixtures of the HJ 212 codec tests."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest

try:  # the package may not be installed in the venv: use the src layout directly
    import ecohub.protocols.hj212  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

#: Real packets inside the repository (tests/fixtures/hj212_packets, README there: sources and licences).
DATA = Path(__file__).resolve().parents[1] / "fixtures" / "hj212_packets"


def _jsonl(name: str) -> list[dict]:
    with gzip.open(DATA / name, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="session")
def device_packets() -> list[dict]:
    return _jsonl("device_packets.jsonl.gz")


@pytest.fixture(scope="session")
def spec_examples() -> list[dict]:
    return _jsonl("spec_and_command_examples.jsonl.gz")


@pytest.fixture(scope="session")
def simulator_session() -> list[dict]:
    return _jsonl("simulator_session_2021-04.jsonl.gz")


@pytest.fixture(scope="session")
def capture_log() -> bytes:
    return (DATA / "raw_logs" / "GB212ReceiverApp_capture_2021-01-06_07.txt").read_bytes()
