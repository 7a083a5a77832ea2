"""Start sandboxes on loopback HTTPS: ``run_sandboxes`` (context manager, background threads)
and ``serve_forever`` (foreground, for ``accord sandbox up``)."""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from accord.sandboxes.common.base import SandboxCore
from accord.sandboxes.common.clock import Clock
from accord.sandboxes.common.faults import Faults
from accord.sandboxes.common.limits import Limits
from accord.sandboxes.common.server import Server, TlsFiles, make_tls
from accord.sandboxes.common.store import Store

ENTRY_POINT_GROUP = "accord.sandboxes"
"""Entry-point group of sandbox factories: ``name = "pkg.module:build"``, where
``build(*, records, seed_value, token_lifetime, database_dir, options=None, ...)``."""


class _Registered(Mapping[str, Callable[..., SandboxCore]]):
    """The sandbox factories registered through entry points, read on each look-up."""

    def _points(self) -> dict[str, Any]:
        return {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}

    def __getitem__(self, name: str) -> Callable[..., SandboxCore]:
        factory: Callable[..., SandboxCore] = self._points()[name].load()
        return factory

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._points()))

    def __len__(self) -> int:
        return len(self._points())


SANDBOXES: Mapping[str, Callable[..., SandboxCore]] = _Registered()
"""Sandbox name (the system it emulates) -> factory."""


def _accepted(factory: Callable[..., Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments in ``extra`` that ``factory`` takes."""
    parameters = inspect.signature(factory).parameters
    return {k: v for k, v in extra.items() if k in parameters}


@dataclass
class SandboxHandle:
    """A running sandbox: its URLs, credentials and test controls."""

    core: SandboxCore
    server: Server
    tls: TlsFiles

    @property
    def name(self) -> str:
        """Registry name, e.g. ``business-central``."""
        return self.core.name

    @property
    def system(self) -> str:
        """The connector system this sandbox emulates (its registry name)."""
        return self.core.name

    @property
    def origin(self) -> str:
        """``https://127.0.0.1:PORT``."""
        return self.server.origin

    @property
    def base_url(self) -> str:
        """API root URL."""
        return self.core.base_url(self.server.origin)

    @property
    def tenant(self) -> str:
        """Tenant id used in the authority and token URLs."""
        return self.core.identity.tenant

    @property
    def authority(self) -> str:
        """``https://127.0.0.1:PORT/<tenant>`` (for msal)."""
        return f"{self.server.origin}/{self.tenant}"

    @property
    def token_url(self) -> str:
        """Client-credentials token endpoint."""
        return f"{self.authority}/oauth2/v2.0/token"

    @property
    def client_id(self) -> str:
        """Accepted client id."""
        return self.core.identity.client_id

    @property
    def client_secret(self) -> str:
        """Accepted client secret."""
        return self.core.identity.client_secret or ""

    @property
    def ca_cert(self) -> str:
        """Path of the CA certificate (PEM) clients must trust."""
        return self.tls.ca_cert

    @property
    def scope(self) -> str:
        """The ``<resource>/.default`` scope to request."""
        return self.core.scope

    @property
    def company_id(self) -> str | None:
        """BC default company id (None for Dataverse)."""
        return self.core.company_id

    @property
    def company_name(self) -> str | None:
        """BC default company name (None for Dataverse)."""
        return self.core.company_name

    @property
    def store(self) -> Store:
        """Direct access to the rows (writes count as another user's changes)."""
        return self.core.store

    @property
    def faults(self) -> Faults:
        """Fault injection, latency and rate limit controls."""
        return self.core.faults

    @property
    def limits(self) -> Limits:
        """Service-protection limits: ``switch_on(scale, **settings)``, ``configure(None)``,
        ``stats()``."""
        if self.core.limits is None:
            raise ValueError(f"sandbox {self.name!r} models no service-protection limits")
        return self.core.limits

    @property
    def clock(self) -> Clock:
        """The settable clock behind modified times and token expiry."""
        return self.core.clock

    @property
    def options(self) -> Any:
        """The sandbox's behaviour options (BcOptions / DvOptions), mutable at run time."""
        return self.core.extra["options"]

    def stats(self) -> dict[str, Any]:
        """Request counts: ``{"total", "by_route", "counters"}``."""
        return self.core.faults.stats()

    def reset_stats(self) -> None:
        """Zero the request counters."""
        self.core.faults.reset_stats()

    def expire_tokens(self) -> None:
        """Invalidate every issued token."""
        self.core.identity.expire_tokens()

    def set_credentials(self, client_id: str, client_secret: str | None) -> None:
        """Change the accepted credentials (None secret refuses all token requests)."""
        self.core.identity.set_credentials(client_id, client_secret)

    def as_json(self) -> dict[str, Any]:
        """Connection facts as plain JSON."""
        return {
            "system": self.system,
            "base_url": self.base_url,
            "token_url": self.token_url,
            "authority": self.authority,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "ca_cert": self.ca_cert,
            "scope": self.scope,
            "tenant": self.tenant,
            "company_id": self.company_id,
            "company_name": self.company_name,
        }


class SandboxSet(Mapping[str, SandboxHandle]):
    """The running sandboxes by name."""

    def __init__(self, handles: dict[str, SandboxHandle], tls: TlsFiles) -> None:
        self._handles = handles
        self.tls = tls

    def __getitem__(self, name: str) -> SandboxHandle:
        return self._handles[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._handles)

    def __len__(self) -> int:
        return len(self._handles)

    def as_json(self) -> dict[str, Any]:
        """``{name: handle.as_json()}``."""
        return {name: h.as_json() for name, h in self._handles.items()}


@contextlib.contextmanager
def run_sandboxes(
    names: Sequence[str] | None = None,
    records: int = 100,
    seed: int = 7,
    token_lifetime: int = 3600,
    database_dir: str | None = None,
    options: Mapping[str, Any] | None = None,
    ports: Mapping[str, int] | None = None,
    limits: Mapping[str, Mapping[str, Any]] | None = None,
    **build_kwargs: Any,
) -> Iterator[SandboxSet]:
    """Build, seed and serve the named sandboxes (default: every registered one) over
    loopback HTTPS; stop them on exit.

    ``options`` maps a sandbox name to its options object (BcOptions / DvOptions);
    ``ports`` pins ports (default: free ports); ``limits`` maps a sandbox name (``"*"``: every
    sandbox that models them) to the settings its service-protection limits are switched on
    with (``{"scale": 10, ...}``, see :class:`~accord.sandboxes.common.limits.ServiceLimits`);
    extra keyword arguments (e.g.
    ``seed_overlap``) go to the builders that accept them.
    """
    registered = dict(SANDBOXES.items())
    names = list(registered) if names is None else names
    unknown = [n for n in names if n not in registered]
    if unknown:
        raise ValueError(f"unknown sandbox(es) {unknown}; valid: {sorted(registered)}")
    workdir = Path(tempfile.mkdtemp(prefix="accord-sandboxes-"))
    data_dir = Path(database_dir) if database_dir else workdir
    tls = make_tls(workdir / "tls")
    handles: dict[str, SandboxHandle] = {}
    try:
        for name in names:
            kwargs: dict[str, Any] = {
                "records": records,
                "seed_value": seed,
                "token_lifetime": token_lifetime,
                "database_dir": str(data_dir / name),
            }
            if options and name in options:
                kwargs["options"] = options[name]
            factory = registered[name]
            kwargs.update(_accepted(factory, build_kwargs))
            core = factory(**kwargs)
            server = Server(core.app, tls, port=(ports or {}).get(name, 0))
            core.identity.scopes.add(f"{server.origin}/.default")
            if limits and (name in limits or ("*" in limits and core.limits is not None)):
                spec = dict(limits.get(name) or limits["*"])
                if core.limits is None:
                    raise ValueError(f"sandbox {name!r} models no service-protection limits")
                core.limits.switch_on(float(spec.pop("scale", 1.0)), **spec)
            server.start()
            handles[name] = SandboxHandle(core, server, tls)
        yield SandboxSet(handles, tls)
    finally:
        for handle in handles.values():
            handle.server.request_stop()  # all at once: each takes a tick of its loop
        for handle in handles.values():
            handle.server.stop()
            for close in handle.core.closers:
                close()
            handle.core.store.close()
        shutil.rmtree(workdir, ignore_errors=True)


def serve_forever(
    names: Sequence[str] | None,
    records: int = 100,
    seed: int = 7,
    json_out: bool = False,
    print_fn: Callable[[str], Any] = print,
    stop: threading.Event | None = None,
    json_file: Path | None = None,
    notice_fn: Callable[[str], Any] | None = None,
    **kwargs: Any,
) -> None:
    """Start the sandboxes, print their connection facts, serve until KeyboardInterrupt,
    SIGTERM or ``stop``; then remove their keys and data.

    With ``json_out`` exactly one line of JSON (``SandboxSet.as_json()``) is printed first;
    ``json_file`` gets the same JSON once every sandbox serves (written atomically, mode
    0600) and is removed when they stop.
    """
    event = stop or threading.Event()
    previous = _stop_on_sigterm(event)
    try:
        with run_sandboxes(names, records=records, seed=seed, **kwargs) as sx:
            facts = json.dumps(sx.as_json())
            if json_file is not None:
                write_private(json_file, facts + "\n")
                if notice_fn is not None:
                    notice_fn(f"sandbox facts (with secrets) written to {json_file}")
            if json_out:
                print_fn(facts)
            else:
                _print_facts(sx, print_fn)
            with contextlib.suppress(KeyboardInterrupt):
                while not event.wait(1.0):
                    pass
    finally:
        if json_file is not None:
            json_file.unlink(missing_ok=True)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _print_facts(sx: SandboxSet, print_fn: Callable[[str], Any]) -> None:
    for name, info in sx.as_json().items():
        print_fn(f"{name}: {info['base_url']}")
        for key in (
            "token_url",
            "client_id",
            "client_secret",
            "scope",
            "ca_cert",
            "company_id",
            "company_name",
        ):
            if info.get(key):
                print_fn(f"  {key}: {info[key]}")


def _stop_on_sigterm(event: threading.Event) -> Any:
    """Let SIGTERM set ``event`` (clean shutdown) when running in the main thread; returns
    the previous handler (None when none was installed)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda _signum, _frame: event.set())


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file renamed over it), mode 0600;
    the folder is created when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
