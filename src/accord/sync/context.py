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
        """Every mapping compiled and checked against its roles' entities: fields, filters."""
        from accord.sync.company import remember_in, resolved

        roles = self.config.template.role_names
        compiled = {}
        remember = remember_in(self.db, self.config.name)
        for spec in resolved(self.config.template, self.connectors, remember).mappings:
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
