"""Helpers of the alert tests (a uniquely named module: several test folders have a conftest)."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ecohub.store import registry as R

USCC = "91350100M000100Y43"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_outlet(store, code: str = "GAS1", kind: str = "gas_outlet", region: str = "130100") -> None:
    with store.engine.begin() as c:
        R.add_enterprise(c, USCC, "示例公司", "130100")
        R.upsert_site(c, R.SiteInput(code, kind, f"{code} 排口", 114.7, 38.1, region, USCC))


class Receiver:
    """A webhook receiver on 127.0.0.1: records (headers, body); answers with ``status`` (settable)."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.status = 200
        rec = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                rec.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(rec.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def json(self) -> list[dict]:
        return [json.loads(b) for _, b in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self):
        self.messages: list = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(envelope)
        return "250 Message accepted for delivery"
