"""A test double of an HTTP SMS gateway on 127.0.0.1: records what it is sent; answers 401 without the token and
503 while ``fail`` is set."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class SmsDouble:
    def __init__(self, token: str = "t0ken"):
        self.token = token
        self.sent: list[dict] = []
        self.fail = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Authorization") != f"Bearer {outer.token}":
                    return self._answer(401, {"error": "bad token"})
                if outer.fail:
                    return self._answer(503, {"error": "carrier down"})
                msg = json.loads(body)
                outer.sent.append(msg)
                return self._answer(200, {"id": f"m{len(outer.sent)}"})

            def _answer(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
