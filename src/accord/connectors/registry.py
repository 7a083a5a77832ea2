"""Which connector serves which system: plugins registered through entry points.

A connector package exposes a :class:`ConnectorPlugin` and registers it in the
``accord.connectors`` entry-point group (``business-central = "pkg.module:PLUGIN"``); nothing
else in Accord names a system.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from accord.connectors.base import Connector
from accord.connectors.settings import ConnectionSettings
from accord.errors import ConfigError

__all__ = [
    "ENTRY_POINT_GROUP",
    "ConnectionSettings",
    "ConnectorPlugin",
    "build_connector",
    "describe_errors",
    "plugin",
    "plugins",
    "settings_from_document",
    "systems",
]

ENTRY_POINT_GROUP = "accord.connectors"


@dataclass(frozen=True)
class ConnectorPlugin:
    """What a connector package declares: its system, its settings model and its builder."""

    system: str
    settings_model: type[ConnectionSettings]
    build: Callable[[Any], Connector]
    """``build(settings) -> Connector`` (``settings`` is an instance of ``settings_model``);
    does no I/O."""


def plugins() -> dict[str, ConnectorPlugin]:
    """Every registered connector plugin by system name (read from installed metadata).

    Scanning the installed metadata costs a tenth of a second, and every sync context
    (every workload a worker runs) asks: the scan is kept per import path."""
    return dict(_scan(tuple(sys.path)))


@functools.lru_cache(maxsize=8)
def _scan(path: tuple[str, ...]) -> dict[str, ConnectorPlugin]:  # path: the cache key
    found: dict[str, ConnectorPlugin] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        where = f"entry point {point.name} = {point.value} ({ENTRY_POINT_GROUP})"
        try:
            loaded = point.load()
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"cannot load the connector plugin: {exc}", location=where) from exc
        if not isinstance(loaded, ConnectorPlugin):
            raise ConfigError(
                f"is a {type(loaded).__name__}, not a ConnectorPlugin", location=where
            )
        if loaded.system != point.name:
            raise ConfigError(
                f"the plugin says its system is {loaded.system!r}, not {point.name!r}",
                location=where,
            )
        found[point.name] = loaded
    return found


def systems() -> list[str]:
    """Names of the registered systems, sorted."""
    return sorted(plugins())


def plugin(system: str, *, location: str | None = None) -> ConnectorPlugin:
    """The plugin of ``system``; an unknown system's error lists the registered ones."""
    registered = plugins()
    try:
        return registered[system]
    except KeyError:
        valid = ", ".join(sorted(registered)) or "(none registered)"
        raise ConfigError(
            f"unknown system {system!r}; registered systems: {valid}", location=location
        ) from None


def describe_errors(error: ValidationError) -> str:
    """A pydantic validation error as ``field.path: message`` lines joined by ``; ``."""
    parts = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "settings"
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def settings_from_document(document: Mapping[str, Any]) -> ConnectionSettings:
    """Typed settings of the system a plain document names (validated by its plugin)."""
    name = document.get("name", "?")
    location = f"connection {name!r}"
    if not isinstance(document.get("system"), str):
        raise ConfigError("settings name no system", location=location)
    model = plugin(document["system"], location=location).settings_model
    try:
        return model.model_validate(dict(document))
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc), location=location) from None


def build_connector(settings: ConnectionSettings) -> Connector:
    """Build the connector for ``settings.system``."""
    found = plugin(settings.system, location=f"connection {settings.name!r}")
    if not isinstance(settings, found.settings_model):
        settings = settings_from_document(
            {**settings.model_dump(), "auth": settings.auth, "cache_dir": settings.cache_dir}
        )
    return found.build(settings)
