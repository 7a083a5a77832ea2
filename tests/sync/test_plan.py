from __future__ import annotations

import pytest

from accord.sync.plan import dependency_levels, dependency_order


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
