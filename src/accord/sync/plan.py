"""Full-sync planning: mappings ordered as a dependency DAG."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def dependency_order(depends_on: Mapping[str, Sequence[str]]) -> list[str]:
    """Order mappings so each comes after all it depends on (stable by input order).

    Raises ``ValueError`` naming the cycle when there is one.
    """
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        mark = state.get(name)
        if mark == "done":
            return
        if mark == "visiting":
            cycle = " -> ".join([*path[path.index(name) :], name])
            raise ValueError(f"mapping dependencies form a cycle: {cycle}")
        state[name] = "visiting"
        for dep in depends_on.get(name, ()):
            visit(dep, [*path, name])
        state[name] = "done"
        order.append(name)

    for name in depends_on:
        visit(name, [])
    return order


def dependency_levels(depends_on: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Group mappings into levels; every mapping of a level depends only on earlier levels."""
    level: dict[str, int] = {}
    for name in dependency_order(depends_on):
        deps = depends_on.get(name, ())
        level[name] = 1 + max((level[d] for d in deps), default=-1)
    levels: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for name in dependency_order(depends_on):
        levels[level[name]].append(name)
    return levels
