"""Which connector serves which system, and how one is built from connection settings."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from accord.connectors.base import Connector
from accord.errors import ConfigError

SYSTEMS: dict[str, str] = {
    "business-central": "accord.connectors.business_central.connector",
    "dataverse": "accord.connectors.dataverse.connector",
}
"""System name -> module exposing ``build(settings) -> Connector``."""


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything needed to reach one system; secrets are plain here, encrypted at rest.

    ``base_url`` is the API root (BC ``…/api/v2.0``, Dataverse ``…/api/data/v9.2``);
    ``token_url`` the OAuth 2.0 token endpoint (``…/{tenant}/oauth2/v2.0/token``).
    ``options`` carries system-specific choices, e.g. ``company`` and ``environment`` for
    Business Central, ``page_size`` and ``batch_size`` for either.
    """

    name: str
    system: str
    base_url: str
    token_url: str
    client_id: str
    client_secret: str
    scope: str | None = None
    ca_cert: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


def build_connector(settings: ConnectionSettings) -> Connector:
    """Build the connector for ``settings.system``."""
    try:
        module_name = SYSTEMS[settings.system]
    except KeyError:
        valid = ", ".join(sorted(SYSTEMS))
        raise ConfigError(
            f"unknown system {settings.system!r}; valid systems: {valid}",
            location=f"connection {settings.name!r}",
        ) from None
    module = importlib.import_module(module_name)
    connector: Connector = module.build(settings)
    return connector
