"""A NATS JetStream server of the test's own (``nats-server -js``, a temporary store directory, a free port on
127.0.0.1), so that a test can kill and restart it; the machine's shared server is never touched. Skips when
nats-server is absent, fails instead under CI=true (like the PostgreSQL tests)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NatsServer:
    def __init__(self, binary: str, store_dir: Path):
        self.binary = binary
        self.store_dir = store_dir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen([self.binary, "-a", "127.0.0.1", "-p", str(self.port), "-js",
                                      "-sd", str(self.store_dir)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nats-server did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def nats_server(tmp_path):
    binary = os.environ.get("ECOHUB_TEST_NATS_SERVER") or shutil.which("nats-server") \
        or ("/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None)
    if not binary:
        if IN_CI:
            pytest.fail("CI=true but nats-server is not installed: the bus tests must run in CI")
        pytest.skip("nats-server not installed (set ECOHUB_TEST_NATS_SERVER)")
    srv = NatsServer(binary, tmp_path / "nats")
    srv.start()
    yield srv
    srv.stop()
