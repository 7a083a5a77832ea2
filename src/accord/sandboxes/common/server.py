"""Serve an ASGI app with uvicorn on 127.0.0.1 over HTTPS (certificate made by ``trustme``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import trustme
import uvicorn
from starlette.types import ASGIApp


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the CA clients must trust, and the server's chain and key."""

    ca_cert: str
    cert_chain: str
    key: str


def make_tls(directory: str | Path) -> TlsFiles:
    """Create a throw-away CA and a 127.0.0.1/localhost server certificate in ``directory``."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="Accord sandbox CA")
    cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
    files = TlsFiles(
        str(folder / "ca.pem"), str(folder / "server-chain.pem"), str(folder / "server-key.pem")
    )
    ca.cert_pem.write_to_path(files.ca_cert)
    cert.private_key_and_cert_chain_pem.write_to_path(files.cert_chain)
    cert.private_key_pem.write_to_path(files.key)
    return files


class _QuietAborts(logging.Filter):
    """Hide the traceback uvicorn logs for connections a fault rule drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionAbortedError)


logging.getLogger("uvicorn.error").addFilter(_QuietAborts())


def bind(port: int = 0, host: str = "127.0.0.1") -> socket.socket:
    """A listening-ready TCP socket (port 0 picks a free port)."""
    # proto must say TCP: asyncio only sets TCP_NODELAY on accepted sockets whose proto is
    # IPPROTO_TCP, and without it every response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class Server:
    """One uvicorn server for one app, on a pre-bound socket so the port is known at once."""

    def __init__(self, app: ASGIApp, tls: TlsFiles, port: int = 0, host: str = "127.0.0.1"):
        self.sock = bind(port, host)
        self.host = host
        self.port: int = self.sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            ssl_certfile=tls.cert_chain,
            ssl_keyfile=tls.key,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_keep_alive=30,
            backlog=1024,
            timeout_graceful_shutdown=1,
            date_header=False,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def origin(self) -> str:
        """``https://127.0.0.1:PORT``."""
        return f"https://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Serve in a daemon thread; returns once the server accepts connections."""
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])),
            name=f"sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox server on port {self.port} did not start")
            time.sleep(0.01)

    def request_stop(self) -> None:
        """Ask the server to exit without waiting (several stop at once)."""
        self.server.should_exit = True
        self.server.force_exit = True  # do not wait for idle keep-alive connections

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the server to exit and wait for its thread."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
        with contextlib.suppress(OSError):
            self.sock.close()
