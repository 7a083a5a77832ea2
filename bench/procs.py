"""Child processes: sandboxes served in their own interpreter, and measured runs.

Each sandbox runs in a separate process so its server never shares the GIL with the code
being measured; request counts are read over HTTP from ``/_sandbox/stats``.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]


def own_peak_rss_mb() -> float:
    """Peak resident set size of this process's own memory, in MiB: ``VmHWM`` of its address
    space. ``ru_maxrss`` is not that in a child process: Linux keeps across ``exec`` the peak of
    the address space it replaced, and a child started by ``vfork`` (as ``subprocess`` does)
    replaced its parent's, so it reports the parent's peak when that is higher."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


BC = "business-central"
DV = "dataverse"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), str(REPO / "src"), env.get("PYTHONPATH", "")) if p
    )
    return env


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process, all threads (this one when ``pid`` is None).

    Unlike wall time, a process's CPU time hardly depends on what else the machine runs.
    """
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


class CpuMeter:
    """CPU seconds that named processes (None: this one) spend between start and stop."""

    def __init__(self, pids: dict[str, int | None]):
        self.pids = pids
        self.at_start = {name: cpu_seconds(pid) for name, pid in pids.items()}

    def stop(self) -> dict[str, float]:
        return {
            name: round(cpu_seconds(pid) - self.at_start[name], 2)
            for name, pid in self.pids.items()
        }


def origin_of(base_url: str) -> str:
    """``https://127.0.0.1:PORT`` of a sandbox API root."""
    url = httpx.URL(base_url)
    return f"{url.scheme}://{url.host}:{url.port}"


class SandboxProcess:
    """One sandbox served by ``python -m bench.serve`` until :meth:`stop`."""

    def __init__(self, name: str, records: int, seed: int = 7, timeout: float = 900.0):
        self.name = name
        started = time.time()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.serve", name, str(records), str(seed)],
            cwd=REPO,
            env=_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError(f"sandbox {name} exited before printing its connection facts")
        self.ready_at = time.time()
        """Every seeded row was written before this moment."""
        self.start_seconds = self.ready_at - started
        """From launch to serving: the interpreter, seeding and indexes."""
        try:
            self.facts: dict[str, Any] = json.loads(line)
        except ValueError:
            self.stop()
            raise RuntimeError(f"sandbox {name} printed {line[:200]!r}, not JSON") from None
        self.facts["name"] = name
        self.facts["pid"] = self.proc.pid
        self.facts["origin"] = origin_of(self.facts["base_url"])
        self._admin = httpx.Client(
            base_url=self.facts["origin"],
            verify=ssl.create_default_context(cafile=self.facts["ca_cert"]),
            timeout=timeout,
        )

    @property
    def handle(self) -> SimpleNamespace:
        """An object with the attributes ``settings_from_sandbox`` reads."""
        return SimpleNamespace(**self.facts)

    def stats(self) -> dict[str, Any]:
        """``{"total", "by_route", "counters"}`` since the last reset."""
        response = self._admin.get("/_sandbox/stats")
        response.raise_for_status()
        stats: dict[str, Any] = response.json()
        return stats

    def reset_stats(self) -> None:
        self._admin.post("/_sandbox/reset-stats").raise_for_status()

    def stop(self) -> None:
        """SIGINT (the server cleans its temp files), then wait."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        if hasattr(self, "_admin"):
            self._admin.close()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_child(module: str, config: dict[str, Any], timeout: float = 7200.0) -> dict[str, Any]:
    """Run ``python -m module`` with ``config`` as JSON on stdin; return its JSON stdout."""
    done = subprocess.run(
        [sys.executable, "-m", module],
        input=json.dumps(config),
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


PG_ADMIN = os.environ.get("ACCORD_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
"""A PostgreSQL database to connect to while creating and dropping a run's own database."""


@contextmanager
def fresh_database(prefix: str, keep: bool = False) -> Iterator[str]:
    """A new PostgreSQL database named ``<prefix>_<random>`` for one run, dropped afterwards
    unless ``keep`` (its SQLAlchemy URL)."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        if not keep:
            with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_queue(app: Any, queue: str) -> None:
    """Delete a run's private broker queue and close the Celery app."""
    try:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
    finally:
        app.close()
