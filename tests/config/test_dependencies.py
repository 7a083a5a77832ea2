from __future__ import annotations

import pytest

from accord.config.dependencies import dependency_levels, dependency_order


def test_dependencies_come_first() -> None:
    deps = {
        "CONTACT": ["CUSTOMER"],
        "CUSTOMER": ["CURRENCY", "SALESPEOPLE"],
        "CURRENCY": [],
        "SALESPEOPLE": [],
    }
    order = dependency_order(deps)
    assert order.index("CURRENCY") < order.index("CUSTOMER") < order.index("CONTACT")
    assert dependency_levels(deps) == [["CURRENCY", "SALESPEOPLE"], ["CUSTOMER"], ["CONTACT"]]


def test_cycle_is_named() -> None:
    with pytest.raises(ValueError, match="A -> B -> A"):
        dependency_order({"A": ["B"], "B": ["A"]})


def test_longer_cycles_read_in_dependency_direction() -> None:
    with pytest.raises(ValueError, match="A -> B -> C -> A"):
        dependency_order({"A": ["B"], "B": ["C"], "C": ["A"]})
    with pytest.raises(ValueError, match="X -> X"):
        dependency_levels({"X": ["X"]})


def test_order_is_stable_by_input() -> None:
    # of the mappings whose dependencies are done, the one listed first goes next; a name
    # that only appears as a dependency counts from where it first appears
    deps = {"B": ["C"], "A": [], "C": [], "D": ["A", "B"]}
    assert dependency_order(deps) == ["C", "B", "A", "D"]
    assert dependency_levels(deps) == [["C", "A"], ["B"], ["D"]]
    assert dependency_order({"Z": [], "Y": [], "X": []}) == ["Z", "Y", "X"]
    assert dependency_order({"P": ["Q"]}) == ["Q", "P"]
    assert dependency_levels({}) == [] and dependency_order({}) == []
