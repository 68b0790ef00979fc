"""Browser tests: ``ecohub demo`` in a subprocess on a free 127.0.0.1 port with a temporary data folder, driven
by Playwright through Debian's chromium (``ECOHUB_TEST_CHROMIUM`` or /usr/bin/chromium; headless, no sandbox).

Without chromium the browser tests skip locally; in CI (``CI=true``) they fail instead, as the PostgreSQL tests
do. Screenshots go to ``test-artifacts/screenshots/`` (git-ignored). Every wait is bounded.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-artifacts" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PASSWORD = "Browser-Test-2026"
USERS = {"admin_t": ("admin", None), "officer_t": ("officer", "130100"), "citizen_t": ("public", None)}


def chromium_path() -> str:
    exe = os.environ.get("ECOHUB_TEST_CHROMIUM") or "/usr/bin/chromium"
    if not (Path(exe).is_file() or shutil.which(exe)):
        if IN_CI:
            pytest.fail(f"CI=true but no chromium at {exe!r}: the browser tests must run in CI")
        pytest.skip(f"chromium not found ({exe}); set ECOHUB_TEST_CHROMIUM")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if IN_CI:
            pytest.fail("CI=true but playwright is not installed")
        pytest.skip("playwright not installed")
    return exe


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Demo:
    url: str
    data_dir: Path
    proc: subprocess.Popen
    log: Path
    users: dict = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        return f"sqlite:///{(self.data_dir / 'ecohub.db').as_posix()}"

    def store(self):
        from ecohub.store.db import Store

        return Store.open(self.database_url)


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    chromium_path()  # no server without a browser to drive it
    data_dir = tmp_path_factory.mktemp("web-demo")
    port = _free_port()
    log = data_dir / "demo.log"
    env = {**os.environ, "ECOHUB_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("ECOHUB_DATABASE_URL", None)
    env.pop("ECOHUB_TILE_URL", None)
    # web tests: a quiet demo (no worker, no gateway) keeps the browser tests' CPU low; sign-in while the gateway
    # writes is proven by tests/demo/test_demo_signin_under_load.py
    cmd = [sys.executable, "-m", "ecohub.cli.main", "demo", "--host", "127.0.0.1", "--port", str(port), "--days", "2",
           "--no-worker", "--gateway-port", "0"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            pytest.fail(f"ecohub demo exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"ecohub demo did not answer within 90 s:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.3)
    d = Demo(url, data_dir, proc, log)
    from ecohub.api.identity import create_user

    store = d.store()
    with store.engine.begin() as c:
        for name, (role, region) in USERS.items():
            create_user(c, name, PASSWORD, role, region_code=region)
            d.users[name] = PASSWORD
    store.close()
    yield d
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="session")
def browser():
    exe = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@dataclass
class Watched:
    page: object
    base: str
    console_errors: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    bad_status: list = field(default_factory=list)
    external: list = field(default_factory=list)

    def problems(self) -> list[str]:
        return self.console_errors + self.page_errors + self.failed + self.bad_status + self.external

    def shot(self, name: str, full_page: bool = True) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_timeout(700)  # let the charts' entry animation finish (a picture, not a check)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def goto(self, path: str):
        self.page.goto(self.base + path, wait_until="load", timeout=30_000)

    def login(self, name: str, password: str = PASSWORD, next_path: str = "/map"):
        self.goto(f"/login?next={next_path}")
        self.page.fill("#username", name)
        self.page.fill("#password", password)
        with self.page.expect_navigation(timeout=20_000):
            self.page.click("#login-go")


@pytest.fixture
def web_page(browser, demo):
    ctx = browser.new_context(viewport={"width": 1400, "height": 950}, locale="zh-CN", timezone_id="Asia/Shanghai")
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    w = Watched(page, demo.url)
    page.on("console", lambda m: w.console_errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: w.page_errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: w.failed.append(f"failed: {r.url} {r.failure}")  # (a navigation aborts
            if "/alerts/stream" not in r.url and "ERR_ABORTED" not in (r.failure or "") else None)  # what is loading)
    page.on("response", lambda r: w.bad_status.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.on("request", lambda r: w.external.append(f"external request: {r.url}")
            if not r.url.startswith((demo.url, "data:", "blob:")) else None)
    yield w
    ctx.close()
