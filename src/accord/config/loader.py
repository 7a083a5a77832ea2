"""Load a template from YAML with errors that name the file, the place and the valid values."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from accord.config.spec import TemplateSpec
from accord.errors import ConfigError

BUILTIN_PACKAGE = "accord.templates"


def builtin_templates() -> list[str]:
    """Names of the templates shipped with Accord."""
    folder = resources.files(BUILTIN_PACKAGE)
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def place(
    loc: tuple[int | str, ...], data: Any, labels: Callable[[Any], str | None] | None = None
) -> str:
    """Turn a pydantic location into ``mappings[CUSTOMER].fields[2].direction``; ``labels``
    names a list entry (default: its ``name``)."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            label = str(item)
            if isinstance(node, list) and 0 <= item < len(node):
                node = node[item]
                named = labels(node) if labels else _name(node)
                label = named or label
            parts[-1] = f"{parts[-1]}[{label}]" if parts else f"[{label}]"
        else:
            parts.append(item)
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"


def _name(node: Any) -> str | None:
    return node["name"] if isinstance(node, dict) and isinstance(node.get("name"), str) else None


def parse_template(data: Any, source: str) -> TemplateSpec:
    """Validate already-parsed YAML ``data``; ``source`` names it in errors."""
    if not isinstance(data, dict):
        raise ConfigError(
            "a template must be a mapping with 'name' and 'mappings'", location=source
        )
    try:
        return TemplateSpec.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not str(p).startswith("function-after"))
            msg = err["msg"].removeprefix("Value error, ")
            # checks across the template name their place in the message itself
            lines.append(f"{source}: {place(loc, data)}: {msg}" if loc else f"{source}: {msg}")
        raise ConfigError("invalid template\n  " + "\n  ".join(lines), location=source) from None


def load_template(name_or_path: str) -> TemplateSpec:
    """Load a built-in template by name, or a YAML file by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise ConfigError("template file not found", location=str(path))
        text = path.read_text(encoding="utf-8")
        source = str(path)
    else:
        names = builtin_templates()
        if name_or_path not in names:
            raise ConfigError(
                f"unknown template {name_or_path!r}; built-in templates: {', '.join(names)}; "
                "or give a path to a .yaml file"
            )
        text = (resources.files(BUILTIN_PACKAGE) / f"{name_or_path}.yaml").read_text("utf-8")
        source = f"{name_or_path}.yaml (built-in)"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise ConfigError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}", location=where
        ) from None
    return parse_template(data, source)
