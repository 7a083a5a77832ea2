"""Connection settings for a running sandbox, so tests and demos reach it like a real tenant."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from accord.connectors.registry import ConnectionSettings, plugin, systems

_FACTS = (
    "system",
    "base_url",
    "token_url",
    "client_id",
    "client_secret",
    "scope",
    "ca_cert",
    "company_name",
    "auth",
)


def system_of(handle: Any) -> str:
    """The connector system a sandbox handle emulates (its ``system`` attribute)."""
    system = getattr(handle, "system", None)
    if isinstance(system, str) and system:
        return system
    raise ValueError(
        f"sandbox handle {handle!r} names no system (give it a 'system' attribute); "
        f"registered systems: {', '.join(systems())}"
    )


def settings_from_sandbox(
    handle: Any, name: str | None = None, **values: Any
) -> ConnectionSettings:
    """Settings of ``handle``'s system pointing at it (a ``run_sandboxes`` entry or an object
    with the facts of ``accord sandbox up --json``).

    ``values`` set fields of the system's settings model (``company``, ...); the others go
    to ``options`` (``page_size``, ``batch_size``, ``retry``, ...). Business Central
    connections default to the sandbox's company.
    """
    system = system_of(handle)
    facts = {key: getattr(handle, key) for key in _FACTS if getattr(handle, key, None)}
    model = plugin(system).settings_model
    settings: ConnectionSettings = model.from_sandbox(facts, name or f"{system}-sandbox", **values)
    return settings


def sandbox_tls(handle: Any) -> ssl.SSLContext:
    """An SSL context trusting the sandbox's CA."""
    return ssl.create_default_context(cafile=handle.ca_cert)


def sandbox_token(handle: Any) -> str:
    """A client-credentials token from the sandbox's own token endpoint."""
    resp = httpx.post(
        handle.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": handle.client_id,
            "client_secret": handle.client_secret,
            "scope": handle.scope,
        },
        verify=sandbox_tls(handle),
    )
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def api_client(handle: Any) -> httpx.Client:
    """An HTTP client of the sandbox's API root with a bearer token, as a user's app has:
    how tests and the demo act in a system as its users do."""
    return httpx.Client(
        base_url=handle.base_url + "/",
        verify=sandbox_tls(handle),
        headers={"Authorization": f"Bearer {sandbox_token(handle)}", "Accept": "application/json"},
        timeout=30,
    )
