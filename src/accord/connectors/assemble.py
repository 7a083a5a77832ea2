"""Connection settings from what a person types: ``key=value`` pairs checked against the
system's settings model and its auth variant (the ``accord connect`` options come from here)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from accord.connectors.registry import ConnectionSettings, describe_errors, plugin
from accord.connectors.settings import auth_model
from accord.errors import ConfigError

OPTION_PREFIX = "options."
"""``--set options.page_size=500`` sets a tuning option rather than a field."""
_FIXED = frozenset({"name", "system", "auth", "options", "cache_dir"})


def settable_fields(system: str, kind: str) -> list[str]:
    """The keys ``--set`` takes for ``system`` signing in with auth ``kind``."""
    model = plugin(system).settings_model
    top = [k for k in model.model_fields if k not in _FIXED]
    auth = [k for k in auth_model(kind).model_fields if k != "kind"]
    return [*top, *auth, f"{OPTION_PREFIX}<name>"]


def _option_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def assemble_settings(
    name: str,
    system: str,
    values: Mapping[str, str],
    *,
    auth_kind: str | None = None,
    sandbox_facts: Mapping[str, Any] | None = None,
) -> ConnectionSettings:
    """Typed settings of ``system`` from ``values`` (``key=value`` input), starting from a
    sandbox's published facts when given; errors name the key and list the valid ones."""
    location = f"connection {name!r}"
    model = plugin(system, location=location).settings_model
    document: dict[str, Any] = {"name": name, "system": system, "options": {}}
    if sandbox_facts is not None:
        document = dict(model.from_sandbox({**sandbox_facts, "system": system}, name))
        document["auth"] = document["auth"].model_dump()
        document["options"] = dict(document["options"])
    kind = auth_kind or document.get("auth", {}).get("kind") or model.accepted_auth[0]
    if kind not in model.accepted_auth:
        raise ConfigError(
            f"auth kind {kind!r} is not accepted by {system}; "
            f"valid: {', '.join(model.accepted_auth)}",
            location=location,
        )
    auth: dict[str, Any] = document.get("auth", {})
    if auth.get("kind") != kind:
        auth = {"kind": kind}
    auth_fields = auth_model(kind).model_fields
    for key, value in values.items():
        if key.startswith(OPTION_PREFIX) and len(key) > len(OPTION_PREFIX):
            document["options"][key.removeprefix(OPTION_PREFIX)] = _option_value(value)
        elif key in model.model_fields and key not in _FIXED:
            document[key] = value
        elif key in auth_fields and key != "kind":
            auth[key] = value
        else:
            valid = ", ".join(settable_fields(system, kind))
            raise ConfigError(
                f"{key!r} is not a setting of {system} with auth {kind}; valid: {valid}",
                location=location,
            )
    try:
        return model.model_validate({**document, "auth": auth})
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc), location=location) from None
