"""Mapping dependencies as a DAG (``graphlib`` does the sorting): their order for a full
sync, and the cycle check a template gets when it loads."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from graphlib import CycleError, TopologicalSorter


def _prepared(depends_on: Mapping[str, Sequence[str]]) -> TopologicalSorter[str]:
    """A sorter over ``depends_on``, ready to hand out nodes.

    Raises ``ValueError`` naming the cycle (``A -> B -> A``: A depends on B, B on A).
    """
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for name, deps in depends_on.items():
        sorter.add(name, *deps)
    try:
        sorter.prepare()
    except CycleError as exc:
        # graphlib walks from a node to those that depend on it; reversed, each arrow
        # reads "depends on", as in the templates
        cycle = " -> ".join(reversed(exc.args[1]))
        raise ValueError(f"mapping dependencies form a cycle: {cycle}") from None
    return sorter


def _input_positions(depends_on: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Where each name first appears: as a key, or as a dependency of an earlier key."""
    positions: dict[str, int] = {}
    for name, deps in depends_on.items():
        for item in (name, *deps):
            positions.setdefault(item, len(positions))
    return positions


def dependency_order(depends_on: Mapping[str, Sequence[str]]) -> list[str]:
    """Order mappings so each comes after all it depends on (stable by input order: of the
    mappings whose dependencies are done, the one listed first goes next).

    Raises ``ValueError`` naming the cycle when there is one.
    """
    sorter = _prepared(depends_on)
    position = _input_positions(depends_on)
    ready: list[tuple[int, str]] = []
    order: list[str] = []
    while sorter.is_active():
        for name in sorter.get_ready():
            heapq.heappush(ready, (position[name], name))
        _, name = heapq.heappop(ready)
        order.append(name)
        sorter.done(name)
    return order


def dependency_levels(depends_on: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Group mappings into levels; every mapping of a level depends only on earlier levels
    (each level in input order)."""
    sorter = _prepared(depends_on)
    position = _input_positions(depends_on)
    levels: list[list[str]] = []
    while sorter.is_active():
        level = sorted(sorter.get_ready(), key=position.__getitem__)
        levels.append(level)
        sorter.done(*level)
    return levels
