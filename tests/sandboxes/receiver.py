"""A webhook subscriber on 127.0.0.1 for sandbox tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class Receiver:
    """A subscriber on 127.0.0.1: echoes validation tokens, records notifications and
    answers each with the next status of ``statuses`` (then 202)."""

    def __init__(self) -> None:
        self.notifications: list[dict[str, Any]] = []
        self.requests: list[tuple[dict[str, list[str]], dict[str, str], Any]] = []
        self.handshakes = 0
        self.statuses: list[int] = []
        self.echo = True
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if "validationToken" in query:
                    receiver.handshakes += 1
                    token = query["validationToken"][0] if receiver.echo else "wrong"
                    self._answer(200, token.encode())
                    return
                status = receiver.statuses.pop(0) if receiver.statuses else 202
                if status < 300:
                    receiver.notifications.append(json.loads(body))
                    receiver.requests.append((query, dict(self.headers), json.loads(body)))
                self._answer(status, b"")

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/bc"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def changes(self) -> list[dict[str, Any]]:
        return [item for n in self.notifications for item in n["value"]]


def wait_for(check: Callable[[], Any], seconds: float = 10.0) -> None:
    """Poll ``check`` until it is true (fails after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
