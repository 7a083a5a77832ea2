"""A real uvicorn on 127.0.0.1 serving the API over a world (sandboxes and bc-sales)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from accord.api.app import create_app
from accord.services import operations, tokens
from accord.services.workloads import local_executor
from tests.worlds import World, WorldFactory, creating_template


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The API is a thin layer over services tested on both databases: SQLite suffices."""
    return f"sqlite:///{tmp_path / 'state.db'}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    world: World
    base_url: str
    token: str

    def client(self, token: str | None = "") -> httpx.Client:
        """A client sending ``token`` (the fixture's by default; None: no header)."""
        chosen = self.token if token == "" else token
        headers = {"Authorization": f"Bearer {chosen}"} if chosen else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def wait_finished(self, key: str, timeout: float = 30.0) -> dict[str, object]:
        with self.client() as client:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                body: dict[str, object] = client.get(f"/api/v1/workloads/{key}").json()
                if body["status"] in ("done", "failed"):
                    return body
                time.sleep(0.1)
        raise AssertionError(f"workload {key} did not finish: {body}")


@pytest.fixture
def served(make_world: WorldFactory, tmp_path: Path) -> Iterator[Served]:
    world = make_world(records=6, template=creating_template(tmp_path))
    operations.sync_full(world.hub)
    executor = local_executor(world.hub, background=True)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(world.hub, executor), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    token, _ = tokens.create(world.hub, "tests")
    try:
        yield Served(world, f"http://127.0.0.1:{port}", token)
    finally:
        server.should_exit = True
        thread.join(10)
        executor.close()
