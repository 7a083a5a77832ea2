from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from accord.connectors.base import FieldType
from accord.mapping.values import canonical, coerce, content_hash, same


def test_numbers_compare_by_value_across_representations() -> None:
    assert canonical(1.0) == 1 and canonical(Decimal("2.50")) == 2.5
    assert same(100, "100") is False  # text is never a number by accident
    assert same(100, 100.0)


def test_empty_and_missing_are_the_same() -> None:
    assert same("", None) and same(None, "")
    assert not same("x", None)


def test_hash_ignores_order_and_empty_vs_none() -> None:
    assert content_hash([("a", 1), ("b", "")]) == content_hash([("b", None), ("a", 1.0)])
    assert content_hash([("a", 1)]) != content_hash([("a", 2)])


def test_coerce_to_field_types() -> None:
    assert coerce("3", FieldType.OPTION) == 3
    assert coerce("Company", FieldType.OPTION) == "Company"
    assert coerce("2.50", FieldType.DECIMAL) == 2.5
    assert coerce("true", FieldType.BOOLEAN) is True
    assert coerce(7, FieldType.STRING) == "7"


@given(
    st.one_of(
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(),
        st.booleans(),
        st.none(),
    )
)
def test_canonical_is_idempotent(value: object) -> None:
    once = canonical(value)
    assert canonical(once) == once
    assert same(value, once)
