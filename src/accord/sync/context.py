"""What a running sync needs: the database, the integration's mappings, both connectors."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from accord.connectors.base import Connector
from accord.errors import ConfigError, UnknownEntityError
from accord.mapping.fields import CompiledMapping, Side
from accord.state.db import Database
from accord.state.store import IntegrationConfig

Progress = Callable[[str, int], None]
"""Called with (what, how many more records) as a pass advances."""


def worker_id() -> str:
    """Unique per sync context: host, process and a random part (threads share a pid)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class SyncContext:
    """Shared by every pass of one integration."""

    db: Database
    config: IntegrationConfig
    connectors: dict[Side, Connector]
    owner: str = field(default_factory=worker_id)
    progress: Progress | None = None

    @cached_property
    def mappings(self) -> dict[str, CompiledMapping]:
        """Every mapping compiled and checked against both connectors' entities."""
        compiled = {}
        for spec in self.config.template.mappings:
            entities = {}
            for side, name in (("local", spec.local), ("remote", spec.remote)):
                try:
                    entities[side] = self.connectors[side].entity(name)  # type: ignore[index]
                except UnknownEntityError as exc:
                    raise ConfigError(
                        exc.message, location=f"mappings[{spec.name}].{side}"
                    ) from None
            compiled[spec.name] = CompiledMapping.compile(spec, entities)  # type: ignore[arg-type]
        return compiled

    def mapping(self, name: str) -> CompiledMapping:
        if name not in self.mappings:
            self.config.template.mapping(name)  # raises with the valid names
        return self.mappings[name]

    def mapping_id(self, name: str) -> int:
        return self.config.mapping_ids[name]

    def connector(self, side: Side) -> Connector:
        return self.connectors[side]

    def report(self, what: str, count: int) -> None:
        if self.progress is not None:
            self.progress(what, count)
