from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from accord.config.filters import (
    OPERATORS,
    Filter,
    all_of,
    any_of,
    check_filter,
    matches,
    negate,
    where,
)
from accord.config.loader import parse_template
from accord.connectors.base import EntityInfo, FieldInfo, FieldType
from accord.errors import ConfigError

ENTITY = EntityInfo(
    name="customers",
    key="id",
    fields={
        f.name: f
        for f in (
            FieldInfo("id", FieldType.GUID),
            FieldInfo("displayName"),
            FieldInfo("creditLimit", FieldType.DECIMAL),
            FieldInfo("taxLiable", FieldType.BOOLEAN),
            FieldInfo("priority", FieldType.INTEGER),
            FieldInfo("since", FieldType.DATE),
            FieldInfo("currencyId", FieldType.LOOKUP),
        )
    },
)


def template(**mapping: Any) -> dict[str, Any]:
    base = {"name": "CUSTOMER", "erp": "customers", "crm": "accounts"}
    base["fields"] = [{"erp": "displayName", "crm": "name"}]
    return {
        "name": "t",
        "roles": {"erp": "business-central", "crm": "dataverse"},
        "mappings": [{**base, **mapping}],
    }


def test_short_and_combined_forms_parse() -> None:
    short = Filter.model_validate({"field": "blocked", "op": "eq", "value": " "})
    assert (short.field, short.op, short.value) == ("blocked", "eq", " ")
    nested = Filter.model_validate(
        {
            "all": [
                {"field": "isdisabled", "op": "eq", "value": False},
                {
                    "any": [
                        {"not": {"field": "a", "op": "is_null"}},
                        {"field": "b", "op": "lt", "value": 3},
                    ]
                },
            ]
        }
    )
    assert nested == all_of(
        where("isdisabled", "eq", False),
        any_of(negate(where("a", "is_null")), where("b", "lt", 3)),
    )


def test_yaml_floats_become_exact_decimals() -> None:
    parsed = Filter.model_validate({"field": "price", "op": "in", "value": [0.1, 2]})
    assert parsed.value == (Decimal("0.1"), 2)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"field": "a", "op": "equals", "value": 1}, "'eq', 'ne', 'gt'"),
        ({"field": "a"}, "needs 'op'; valid operators: " + ", ".join(OPERATORS)),
        ({"field": "a", "op": "eq"}, "needs 'value'"),
        ({"field": "a", "op": "in", "value": []}, "non-empty list"),
        ({"field": "a", "op": "contains", "value": 3}, "needs text"),
        ({"field": "a", "op": "gt", "value": True}, "number, text or date"),
        ({"field": "a", "op": "eq", "value": [1, 2]}, "use op 'in'"),
        ({"all": []}, "'all' needs at least one filter"),
        (
            {"field": "a", "op": "eq", "value": 1, "any": [{"field": "b", "op": "is_null"}]},
            "got field, any",
        ),
        ({"wrong": 1}, "Extra inputs"),
        ({"not": {"field": "a", "op": "eq", "value": 1}, "op": "eq"}, "belong to a condition"),
    ],
)
def test_bad_filters_say_what_is_wrong(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Filter.model_validate(data)
    assert message in str(caught.value)


def test_template_errors_name_the_place_and_the_operators() -> None:
    bad = {
        "all": [{"field": "a", "op": "eq", "value": 1}, {"field": "b", "op": "like", "value": 1}]
    }
    with pytest.raises(ConfigError) as caught:
        parse_template(template(filters={"crm": bad}), "t.yaml")
    text = str(caught.value)
    assert "t.yaml: mappings[CUSTOMER].filters.crm.all[1].op:" in text
    assert "'startswith', 'endswith' or 'is_null'" in text


def test_odata_text_is_an_error_that_shows_the_typed_form() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_template(
            template(filters={"crm": "isdisabled eq false and accessmode ne 4"}), "t.yaml"
        )
    assert "mappings[CUSTOMER].filters.crm: a filter is typed, not OData text" in str(caught.value)
    assert (
        "{all: [{field: isdisabled, op: eq, value: false}, {field: accessmode, op: ne, value: 4}]}"
        in str(caught.value)
    )
    with pytest.raises(ConfigError, match=r"\{field: type, op: eq, value: \"O'Neil\"\}"):
        parse_template(template(filters={"erp": "type eq 'O''Neil'"}), "t.yaml")
    with pytest.raises(ConfigError, match=r"a typed expression, e\.g\. \{all: "):
        parse_template(template(filters={"erp": "contains(name,'x')"}), "t.yaml")


def test_stored_spec_round_trips_through_json() -> None:
    original = all_of(
        negate(where("a", "is_null")),
        where("b", "eq", None),
        where("c", "in", [1, Decimal("2.5")]),
        where("d", "ge", date(2024, 1, 1)),
    )
    dumped = original.model_dump(mode="json")
    assert dumped["all"][0] == {"not": {"field": "a", "op": "is_null"}}
    assert dumped["all"][1] == {"field": "b", "op": "eq", "value": None}
    again = Filter.model_validate(dumped)
    for values in ({"a": 1, "c": Decimal("2.50"), "d": "2024-02-01"}, {"a": 1, "c": 2}):
        assert matches(again, values) == matches(original, values)
    assert matches(again, {"a": 1, "c": Decimal("2.50"), "d": "2024-02-01"})


def test_check_filter_names_unknown_fields_and_lists_valid_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        check_filter(where("nmae", "eq", "x"), ENTITY, "mapping CUSTOMER local_filter")
    text = str(caught.value)
    assert text.startswith("mapping CUSTOMER local_filter: filter field 'nmae'")
    assert (
        "valid fields: creditLimit, currencyId, displayName, id, priority, since, taxLiable" in text
    )


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        (where("creditLimit", "eq", "lots"), "value 'lots' is not a decimal"),
        (where("taxLiable", "eq", 1), "value 1 is not a boolean"),
        (where("priority", "in", [1, "2"]), "value '2' is not a integer"),
        (where("currencyId", "eq", "EUR"), "value 'EUR' is not a lookup"),
        (where("since", "lt", "yesterday"), "value 'yesterday' is not a date"),
        (where("creditLimit", "contains", "1"), "'contains' works on text fields only"),
        (where("taxLiable", "gt", 0), "'gt' cannot order boolean values"),
    ],
)
def test_check_filter_rejects_values_the_field_cannot_hold(condition: Filter, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        check_filter(negate(condition), ENTITY, "here")


def test_check_filter_accepts_fitting_values() -> None:
    check_filter(
        all_of(
            where("creditLimit", "ge", Decimal("0.1")),
            where("creditLimit", "le", "12.5"),  # a stored spec's decimal
            where("since", "lt", date(2024, 1, 1)),
            where("currencyId", "eq", "5d115c9c-44e3-ea11-bb43-000d3a2feaca"),
            where("displayName", "startswith", "A"),
            where("taxLiable", "is_null", False),
        ),
        ENTITY,
        "here",
    )


def test_matches_compares_like_the_services() -> None:
    row = {"name": "Alpha", "limit": Decimal("12.50"), "day": "2024-03-01", "flag": True}
    assert matches(where("name", "eq", "ALPHA"), row)
    assert matches(where("name", "startswith", "al"), row)
    assert matches(where("limit", "eq", Decimal("12.5")), row)
    assert matches(where("limit", "gt", 12), row)
    assert matches(where("day", "lt", date(2024, 3, 2)), row)
    assert matches(where("flag", "ne", False), row)
    assert matches(where("name", "in", ["beta", "alpha"]), row)
    assert not matches(where("name", "contains", "z"), row)


def test_matches_follows_sql_three_valued_logic_for_empty_fields() -> None:
    row = {"name": None}
    assert not matches(where("name", "eq", "x"), row)
    assert not matches(where("name", "ne", "x"), row)
    assert not matches(negate(where("name", "eq", "x")), row)
    assert matches(where("name", "eq", None), row)
    assert matches(where("missing", "is_null"), row)
    assert not matches(where("missing", "is_null", False), row)
    assert matches(any_of(where("name", "eq", "x"), where("name", "is_null")), row)
    assert not matches(all_of(where("name", "ne", "x"), where("name", "is_null")), row)
