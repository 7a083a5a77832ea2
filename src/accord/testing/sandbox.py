"""Connection settings for a running sandbox, so tests and demos reach it like a real tenant."""

from __future__ import annotations

from typing import Any

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
