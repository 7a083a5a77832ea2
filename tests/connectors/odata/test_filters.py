"""Typed filters as OData ``$filter``: literals per type, and agreement with :func:`matches`
through a real Business Central sandbox (records it returns == records ``matches`` keeps)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.config.filters import Filter, all_of, any_of, matches, negate, where
from accord.connectors.base import ChangeQuery, FieldType
from accord.connectors.odata.filters import render_odata
from accord.connectors.registry import build_connector
from accord.errors import ConfigError
from accord.testing.contract import FAST_RETRY
from accord.testing.sandbox import settings_from_sandbox

TYPES = {
    "name": FieldType.STRING,
    "price": FieldType.DECIMAL,
    "active": FieldType.BOOLEAN,
    "id": FieldType.GUID,
    "owner": FieldType.LOOKUP,
    "day": FieldType.DATE,
    "at": FieldType.DATETIME,
    "count": FieldType.INTEGER,
}
GUID = "5D115C9C-44E3-EA11-BB43-000D3A2FEACA"


@pytest.mark.parametrize(
    ("condition", "text"),
    [
        (where("name", "eq", "O'Brien"), "name eq 'O''Brien'"),
        (where("id", "eq", GUID), f"id eq {GUID.lower()}"),
        (where("owner", "ne", None), "owner ne null"),
        (where("price", "ge", Decimal("12345678901234.5678")), "price ge 12345678901234.5678"),
        (where("price", "lt", Decimal("1E+2")), "price lt 100"),
        (where("price", "eq", "0.10"), "price eq 0.10"),
        (where("active", "eq", False), "active eq false"),
        (where("day", "gt", date(2024, 2, 29)), "day gt 2024-02-29"),
        (where("day", "le", "2024-03-01"), "day le 2024-03-01"),
        (
            where("at", "gt", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
            "at gt 2024-01-02T03:04:05.000Z",
        ),
        (where("at", "lt", "2024-01-02T03:04:05Z"), "at lt 2024-01-02T03:04:05.000Z"),
        (where("count", "in", [1, 2]), "count in (1,2)"),
        (where("count", "in", [1]), "count eq 1"),
        (where("name", "contains", "a'b"), "contains(name,'a''b')"),
        (where("name", "startswith", "A"), "startswith(name,'A')"),
        (where("name", "endswith", "z"), "endswith(name,'z')"),
        (where("name", "is_null"), "name eq null"),
        (where("name", "is_null", False), "name ne null"),
    ],
)
def test_conditions_render_with_literals_of_their_type(condition: Filter, text: str) -> None:
    assert render_odata(condition, TYPES) == text


def test_combinations_are_parenthesized() -> None:
    tree = all_of(
        where("active", "eq", True),
        any_of(where("count", "gt", 1), negate(where("name", "eq", "x"))),
    )
    assert render_odata(tree, TYPES) == (
        "(active eq true) and ((count gt 1) or (not (name eq 'x')))"
    )
    assert render_odata(all_of(where("count", "eq", 1)), TYPES) == "count eq 1"


def test_precision_in_seconds_for_dataverse() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
    assert render_odata(where("at", "ge", moment), TYPES, "s") == "at ge 2024-01-02T03:04:05Z"


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (where("id", "eq", "not-a-guid"), "field 'id' is not a valid guid"),
        (where("day", "eq", "soon"), "field 'day' is not a valid date"),
        (where("price", "eq", "cheap"), "field 'price' is not a valid decimal"),
    ],
)
def test_values_a_type_cannot_take_are_config_errors(condition: Filter, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        render_odata(condition, TYPES)


# -- agreement with matches() through the Business Central sandbox ------------------------------
NAMES = ["Alpha", "alpha", "Beta", "O'Brien", "", "Gamma Ray", None]
PRICES = [Decimal("0"), Decimal("0.1"), Decimal("0.10"), Decimal("12.5"), Decimal("-3"),
          Decimal("12345678901234.5678"), None]  # fmt: skip
KINDS = ["Inventory", "Service", "Non-Inventory"]
CATEGORIES = ["11111111-2222-3333-4444-555555555555", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", None]
ORDER = ["eq", "ne", "gt", "ge", "lt", "le"]


def _conditions() -> st.SearchStrategy[Filter]:
    text = st.sampled_from([n for n in NAMES if n is not None] + ["al", "ray", "o'b", "Z"])
    price = st.sampled_from([p for p in PRICES if p is not None] + [Decimal("5"), Decimal("1E+1")])
    category = st.sampled_from([c for c in CATEGORIES if c is not None])
    return st.one_of(
        st.builds(where, st.just("displayName"), st.sampled_from(ORDER), text),
        st.builds(
            where,
            st.just("displayName"),
            st.sampled_from(["contains", "startswith", "endswith"]),
            text,
        ),
        st.builds(
            where, st.just("displayName"), st.just("in"), st.lists(text, min_size=1, max_size=3)
        ),
        st.builds(where, st.just("unitPrice"), st.sampled_from(ORDER), price),
        st.builds(
            where, st.just("unitPrice"), st.just("in"), st.lists(price, min_size=1, max_size=3)
        ),
        st.builds(where, st.just("blocked"), st.sampled_from(["eq", "ne"]), st.booleans()),
        st.builds(where, st.just("type"), st.sampled_from(["eq", "ne"]), st.sampled_from(KINDS)),
        st.builds(where, st.just("itemCategoryId"), st.sampled_from(["eq", "ne"]), category),
        st.builds(
            where,
            st.sampled_from(["displayName", "unitPrice", "blocked", "itemCategoryId"]),
            st.just("is_null"),
            st.sampled_from([None, True, False]),
        ),
        st.builds(
            where,
            st.sampled_from(["displayName", "unitPrice"]),
            st.sampled_from(["eq", "ne"]),
            st.none(),
        ),
    )


FILTERS = st.recursive(
    _conditions(),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda fs: all_of(*fs)),
        st.lists(inner, min_size=1, max_size=3).map(lambda fs: any_of(*fs)),
        inner.map(negate),
    ),
    max_leaves=6,
)


class Items:
    """A connector and the rows it serves (short repr for hypothesis reports)."""

    def __init__(self, connector: Any, rows: list[dict[str, Any]]) -> None:
        self.connector = connector
        self.rows = rows

    def __repr__(self) -> str:
        return f"Items({len(self.rows)} rows)"


@pytest.fixture(scope="module")
def items() -> Iterator[Items]:
    """A BC sandbox whose items are every mix of the sampled values, and a connector to it."""
    from accord.sandboxes import run_sandboxes

    with run_sandboxes(["business-central"], records=0, seed=3) as sx:
        handle = sx["business-central"]
        store = handle.store
        for old in store.all("items"):
            store.delete("items", old["id"])
        rows = []
        for i in range(42):
            values = {
                "number": f"F{i:03d}",
                "displayName": NAMES[i % len(NAMES)],
                "unitPrice": PRICES[(i // 2) % len(PRICES)],
                "blocked": [True, False, None][i % 3],
                "type": KINDS[(i // 3) % len(KINDS)],
                "itemCategoryId": CATEGORIES[(i // 5) % len(CATEGORIES)],
            }
            rows.append(store.insert("items", values))
        settings_ = settings_from_sandbox(handle, retry=FAST_RETRY)
        with closing(build_connector(settings_)) as connector:
            yield Items(connector, rows)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=FILTERS)
def test_sandbox_returns_exactly_the_records_matches_keeps(items: Items, tree: Filter) -> None:
    connector, rows = items.connector, items.rows
    feed = connector.read_changes("items", ChangeQuery(filter=tree, fields=["displayName"]))
    served = {r.id for page in feed for r in page.records}
    expected = {row["id"] for row in rows if matches(tree, row)}
    assert served == expected, render_odata(tree, connector.types(connector.entity("items")))
