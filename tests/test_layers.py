"""Imports point down the layers of DESIGN §2: a lower layer never imports a higher one."""

from __future__ import annotations

import ast
from pathlib import Path

import accord

PACKAGE = Path(accord.__file__).parent

_ABOVE_SYNC = {"documents", "runtime", "services", "api", "web", "cli"}
FORBIDDEN: dict[str, set[str]] = {
    "errors": {"config", "connectors", "mapping", "sync", "state"} | _ABOVE_SYNC,
    "config": {"sync", "state", "mapping"} | _ABOVE_SYNC,
    "connectors": {"state", "sync", "mapping"} | _ABOVE_SYNC,
    "mapping": {"state", "sync"} | _ABOVE_SYNC,
    "state": {"connectors", "sync"} | _ABOVE_SYNC,
    "sync": _ABOVE_SYNC,
    "documents": {"runtime", "services", "api", "web", "cli"},
    "runtime": {"services", "api", "web", "cli"},
    "services": {"api", "web", "cli"},
    "api": {"web", "cli"},
}
"""Layer -> the layers it must not import (``TYPE_CHECKING`` imports included)."""


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n.split(".")[1] for n in names if n.startswith("accord.")}


def test_no_layer_imports_one_above_it() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        layer = parts[0] if len(parts) > 1 else path.stem
        for target in sorted(_imports(path) & FORBIDDEN.get(layer, set())):
            wrong.append(f"{path.relative_to(PACKAGE)} ({layer}) imports {target}")
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_a_wrong_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from accord.connectors.registry import x\nimport accord.sync.pages\n")
    assert _imports(module) == {"connectors", "sync"}
