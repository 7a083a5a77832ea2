"""Full-sync planning: mappings in dependency order (the DAG lives with the template spec,
:mod:`accord.config.dependencies`, which checks it when a template loads)."""

from __future__ import annotations

from accord.config.dependencies import dependency_levels, dependency_order

__all__ = ["dependency_levels", "dependency_order"]
