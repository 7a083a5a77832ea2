"""Setting up: connections (checked before they are saved) and integrations from templates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.config.loader import load_template
from accord.connectors.registry import ConnectionSettings, build_connector
from accord.errors import ConfigError
from accord.services.hub import Hub
from accord.state.store import save_connection, save_integration


def connect(hub: Hub, settings: ConnectionSettings, *, check: bool = True) -> None:
    """Save a connection; with ``check`` authenticate and call the system first."""
    if check:
        connector = build_connector(settings)
        try:
            connector.check()
        finally:
            connector.close()
    with hub.db.session() as session:
        save_connection(session, hub.box, settings)


def connection_summary(settings: ConnectionSettings, *, checked: bool) -> dict[str, Any]:
    """A saved connection as plain JSON, secrets masked (``accord connect --json``)."""
    return {
        "name": settings.name,
        "system": settings.system,
        "auth": settings.auth.kind,
        "checked": checked,
        "settings": settings.model_dump(mode="json"),
    }


def init_integration(
    hub: Hub, template: str, connections: Mapping[str, str], *, name: str | None = None
) -> str:
    """Create (or refresh) an integration from a template, a saved connection per role."""
    spec = load_template(template)
    roles = ", ".join(f"{role} ({system})" for role, system in spec.roles.items())
    unknown = sorted(set(connections) - set(spec.roles))
    missing = [role for role in spec.roles if role not in connections]
    if unknown or missing:
        problem = (
            f"unknown role {', '.join(unknown)}"
            if unknown
            else f"no connection for {', '.join(missing)}"
        )
        raise ConfigError(f"template {spec.name}: {problem}; its roles: {roles}")
    for role, system in spec.roles.items():
        found = hub.connection(connections[role])
        if found.system != system:
            raise ConfigError(
                f"template {spec.name} needs a {system} connection as {role}; "
                f"{connections[role]!r} is {found.system}"
            )
    integration = name or spec.name
    with hub.db.session() as session:
        save_integration(session, integration, spec, dict(connections))
    return integration
