"""Setting up: connections (checked before they are saved) and integrations from templates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from accord.config.loader import load_template
from accord.config.spec import TemplateSpec
from accord.connectors.base import Connector
from accord.connectors.registry import ConnectionSettings, build_connector
from accord.errors import ConfigError, TransientError
from accord.mapping.check import TemplateCheck, check_template
from accord.services.connections import save_connection
from accord.services.hub import Hub
from accord.state.models import Coupling, Integration, TableMapping
from accord.state.store import save_integration


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


@dataclass(frozen=True)
class IntegrationSetup:
    """What ``accord init`` made: the integration's name and what was disabled, and why."""

    name: str
    warnings: list[str] = field(default_factory=list)


def describe(connector: Connector) -> None:
    """Read the system's metadata where the connector can (custom columns, API groups)."""
    method = getattr(connector, "describe", None)
    if callable(method):
        method()


def check_against_systems(
    hub: Hub, spec: TemplateSpec, connections: Mapping[str, str], source: str
) -> TemplateCheck:
    """Check ``spec`` against the metadata of each role's connection (read over the wire).

    A system that cannot be reached now (a transient failure) is checked against Accord's
    built-in description of it instead, with a warning; credentials refused still fail."""
    connectors: dict[str, Connector] = {}
    unread: list[str] = []
    try:
        for role in spec.role_names:
            connectors[role] = build_connector(hub.connection(connections[role]))
            try:
                describe(connectors[role])
            except TransientError as exc:
                unread.append(
                    f"{role} ({connections[role]}): its metadata could not be read ({exc}); "
                    "the template was checked against Accord's built-in description only"
                )
        try:
            checked = check_template(spec, connectors, source=source)
        except ConfigError as exc:
            if not unread:
                raise
            raise ConfigError(f"{exc.message}\n  ({'; '.join(unread)})") from None
        checked.warnings[:0] = unread
        return checked
    finally:
        for connector in connectors.values():
            connector.close()


def init_integration(
    hub: Hub, template: str, connections: Mapping[str, str], *, name: str | None = None
) -> IntegrationSetup:
    """Create (or refresh) an integration from a template, a saved connection per role.

    The template is checked against each connection's metadata first: any problem fails
    the whole command and nothing is saved; a mapping whose API group the tenant lacks is
    saved disabled, with a warning (as are the mappings depending on it)."""
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
    _refuse_reinit_with_couplings(hub, integration)
    checked = check_against_systems(hub, spec, connections, template)
    with hub.db.session() as session:
        save_integration(session, integration, checked.template, dict(connections))
    return IntegrationSetup(integration, checked.warnings)


def _refuse_reinit_with_couplings(hub: Hub, integration: str) -> None:
    """``init`` over an integration that already couples records would drop the couplings
    of mappings the template no longer has and keep stale baselines: an upgrade is the way."""
    with hub.db.session() as session:
        count = session.scalar(
            select(func.count(Coupling.id))
            .join(TableMapping, TableMapping.id == Coupling.mapping_id)
            .join(Integration, Integration.id == TableMapping.integration_id)
            .where(Integration.name == integration)
        )
    if count:
        raise ConfigError(
            f"integration {integration!r} already holds {count} coupling(s); apply a newer "
            "template with 'accord template diff' and 'accord template upgrade' (they keep "
            "every coupling), or name a new integration with --name"
        )
