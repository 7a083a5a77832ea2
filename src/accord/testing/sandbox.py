"""Connection settings for a running sandbox, so tests and demos reach it like a real tenant."""

from __future__ import annotations

from typing import Any

from accord.connectors.registry import ConnectionSettings

_SYSTEMS = ("business-central", "dataverse")


def system_of(handle: Any) -> str:
    """The connector system a sandbox handle emulates."""
    for attribute in ("system", "name", "kind"):
        value = getattr(handle, attribute, None)
        if isinstance(value, str) and value in _SYSTEMS:
            return value
    base_url = str(handle.base_url)
    if "/api/data/" in base_url:
        return "dataverse"
    if "/api/v2.0" in base_url:
        return "business-central"
    raise ValueError(f"cannot tell which system the sandbox at {base_url} emulates")


def settings_from_sandbox(
    handle: Any, name: str | None = None, **options: Any
) -> ConnectionSettings:
    """``ConnectionSettings`` pointing at ``handle`` (a ``run_sandboxes`` entry).

    Business Central connections default to the sandbox's company; ``options`` are passed
    through (``page_size``, ``batch_size``, ``retry``, ...).
    """
    system = system_of(handle)
    merged: dict[str, Any] = {}
    if system == "business-central" and getattr(handle, "company_name", None):
        merged["company"] = handle.company_name
    merged.update(options)
    return ConnectionSettings(
        name=name or f"{system}-sandbox",
        system=system,
        base_url=handle.base_url,
        token_url=handle.token_url,
        client_id=handle.client_id,
        client_secret=handle.client_secret,
        scope=getattr(handle, "scope", None),
        ca_cert=getattr(handle, "ca_cert", None),
        options=merged,
    )
