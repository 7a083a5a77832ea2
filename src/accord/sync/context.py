"""What a running sync needs: the database, the integration's mappings, a connector per role."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from accord.config.filters import check_filter
from accord.connectors.base import Connector
from accord.errors import ConfigError, UnknownEntityError
from accord.mapping.check import check_template, named_by_role, needs_description
from accord.mapping.fields import CompiledMapping, Role
from accord.state.db import Database
from accord.state.store import IntegrationConfig

Progress = Callable[[str, int], None]
"""Called with (what, how many more records) as a pass advances."""


def worker_id() -> str:
    """Unique per sync context: host, process and a random part (threads share a pid)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class SyncContext:
    """Shared by every pass of one integration: a connector per role."""

    db: Database
    config: IntegrationConfig
    connectors: dict[Role, Connector]
    owner: str = field(default_factory=worker_id)
    progress: Progress | None = None

    @cached_property
    def mappings(self) -> dict[str, CompiledMapping]:
        """Every mapping compiled and checked against its roles' entities: fields, filters.

        ``$company`` in the template is resolved first (:mod:`accord.sync.company`). A
        connector reads its service's metadata (once per process) only when the template
        names an entity or field its static descriptors lack (a custom column); a disabled
        mapping is compiled without checks (its entity may be absent from the tenant). No
        request is made when the static descriptors cover the template."""
        from accord.sync.company import remember_in, resolved

        remember = remember_in(self.db, self.config.name)
        template = resolved(self.config.template, self.connectors, remember)
        roles = template.role_names
        for role, named in named_by_role(template).items():
            connector = self.connector(role)
            if needs_description(connector, named) and callable(
                getattr(connector, "describe", None)
            ):
                connector.describe()  # type: ignore[attr-defined]
        # the same check as at init: every problem named at once, before any pass starts
        check_template(
            template, self.connectors, source=f"integration {self.config.name!r} (stored spec)"
        )
        compiled = {}
        for spec in template.mappings:
            if not spec.enabled:
                compiled[spec.name] = CompiledMapping.compile(spec, roles)
                continue
            entities = {}
            for role in roles:
                where = f"mappings[{spec.name}].{role}"
                try:
                    entities[role] = self.connector(role).entity(spec.entity(role))
                except UnknownEntityError as exc:
                    raise ConfigError(exc.message, location=where) from None
                if role in spec.filters:
                    check_filter(
                        spec.filters[role], entities[role], f"mappings[{spec.name}].filters.{role}"
                    )
            compiled[spec.name] = CompiledMapping.compile(spec, roles, entities)
        return compiled

    def mapping(self, name: str) -> CompiledMapping:
        if name not in self.mappings:
            self.config.template.mapping(name)  # raises with the valid names
        return self.mappings[name]

    def mapping_id(self, name: str) -> int:
        if name not in self.config.mapping_ids:
            self.config.template.mapping(name)  # raises with the valid names
        return self.config.mapping_ids[name]

    def connector(self, role: Role) -> Connector:
        if role not in self.connectors:
            raise ConfigError(
                f"no connection plays role {role!r}; roles: {', '.join(self.connectors)}"
            )
        return self.connectors[role]

    def connection_name(self, role: Role) -> str | None:
        return self.config.connections.get(role)

    def report(self, what: str, count: int) -> None:
        if self.progress is not None:
            self.progress(what, count)
