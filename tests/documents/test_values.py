"""The pure parts of a document transfer: placeholders, lookups with fallbacks, text split
into comment lines, and line positions that stay put across runs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from accord.config.documents import DocumentMappingSpec
from accord.documents.values import (
    POSITION_STEP,
    Lookups,
    Scope,
    field_values,
    plan_lines,
    split_text,
    table_key,
)

LINE = {"crm": "salesorderdetails", "erp": "salesOrderLines"}


def mapping(**lines: Any) -> DocumentMappingSpec:
    spec = {
        "name": "ORDER",
        "crm": "salesorders",
        "erp": "salesOrders",
        "direction": "to_erp",
        "trigger": {"when": {"field": "statecode", "op": "eq", "value": 1}},
        "identity": {"crm": "name", "erp": "externalDocumentNumber"},
        "settings": {"write_in_item": {"required": False}},
        "header": [{"crm": "_customerid_value", "erp": "customerId", "lookup": "CUSTOMER"}],
        "lines": {
            **LINE,
            "key": {"crm": "id"},
            "order_by": {"crm": "seq"},
            "position": {"erp": "sequence"},
            "comment_lines": {"max_length": 10, "field": "description", "values": {"t": "C"}},
            "fields": [
                {
                    "crm": "product",
                    "erp": "lineObjectNumber",
                    "lookup": "ITEM",
                    "lookup_by": {"erp": "key"},
                    "fallback": {
                        "when": {"field": "writein", "op": "eq", "value": True},
                        "value": "${setting.write_in_item}",
                    },
                },
                {"crm": "quantity", "erp": "quantity"},
                {"crm": "text", "erp": "description", "overflow": "comment_lines"},
                {"crm": "more", "erp": "description", "overflow": "comment_lines"},
            ],
            **lines,
        },
    }
    return DocumentMappingSpec.model_validate(spec)


def items(doc: DocumentMappingSpec, table: dict[str, str]) -> Lookups:
    assert doc.lines is not None
    key = table_key(doc.lines.fields[0], ("crm", "erp"))
    return Lookups({key: table})


def test_split_text_fills_the_field_then_comment_lines_and_keeps_line_breaks() -> None:
    assert split_text("abcdefghij", 4, 3) == ["abcd", "efg", "hij"]
    assert split_text("ab\ncdef", 10, 2) == ["ab", "cd", "ef"]
    assert split_text("", 4, 4) == [""]


def test_placeholders_keep_a_whole_value_typed_and_fill_text() -> None:
    now = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    scope = Scope({"price": Decimal("1.50")}, source={"name": "SO-1"}, now=now)
    assert scope.render("${setting.price}") == Decimal("1.50")
    assert scope.render({"k": "${source.name}:${today}"}) == {"k": "SO-1:2026-11-27"}


def test_a_zero_in_text_is_written_and_only_a_missing_value_is_blank() -> None:
    """A quote's first revision is 0: its archive key must say so (not end blank)."""
    scope = Scope({}, source={"revision": 0, "paid": Decimal("0.00"), "none": None})
    assert scope.render("q:archive:${source.revision}") == "q:archive:0"
    assert scope.render("${source.paid} paid") == "0.00 paid"
    assert scope.render("[${source.none}]") == "[]"


def test_lines_get_positions_items_write_ins_and_comment_lines() -> None:
    doc = mapping()
    rows = [
        {"id": "a", "seq": 1, "product": "p1", "quantity": Decimal(2), "text": "short"},
        {"id": "b", "seq": 2, "writein": True, "text": "x" * 25, "more": "note"},
    ]
    planned, problems = plan_lines(
        doc, rows, items(doc, {"p1": "ITEM-1"}), Scope({"write_in_item": "W"}), lambda n: 10, {}
    )
    assert problems == []
    assert [(p.position, p.key, p.kind) for p in planned] == [
        (10000, "a", "line"),
        (20000, "b", "line"),
        (20001, "b#1", "comment"),
        (20002, "b#2", "comment"),
        (20003, "b#3", "comment"),
    ]
    assert planned[0].values == {
        "lineObjectNumber": "ITEM-1",
        "quantity": Decimal(2),
        "description": "short",
        "sequence": 10000,
    }
    assert planned[1].values["lineObjectNumber"] == "W"
    assert [p.values["description"] for p in planned[1:]] == ["x" * 10, "x" * 10, "x" * 5, "note"]
    assert planned[2].values == {"t": "C", "description": "x" * 10, "sequence": 20001}


def test_recorded_positions_stay_and_new_lines_go_after_the_last() -> None:
    doc = mapping()
    rows = [{"id": "new", "seq": 1, "product": "p1"}, {"id": "old", "seq": 2, "product": "p1"}]
    planned, _ = plan_lines(
        doc, rows, items(doc, {"p1": "I"}), Scope({}), lambda n: 10, {"old": 3 * POSITION_STEP}
    )
    assert [(p.key, p.position) for p in planned] == [("new", 40000), ("old", 30000)]


@pytest.mark.parametrize(
    ("row", "settings", "expected"),
    [
        ({"writein": True}, {}, "no value for the fallback ${setting.write_in_item}"),
        ({"product": "p9"}, {"write_in_item": "W"}, "p9 is not coupled in mapping ITEM"),
    ],
)
def test_a_line_that_cannot_be_looked_up_is_a_problem_naming_it(
    row: dict[str, Any], settings: dict[str, Any], expected: str
) -> None:
    doc = mapping()
    _, problems = plan_lines(
        doc, [{"id": "k", "seq": 3, **row}], items(doc, {}), Scope(settings), lambda n: 10, {}
    )
    [problem] = problems
    assert problem.line == "3 (k)" and expected in problem.message
    assert problem.text("salesorders SO-1").startswith("document salesorders SO-1, line 3 (k)")


def test_overflow_hold_and_truncate() -> None:
    held = mapping()
    assert held.lines is not None
    for rule, expected in (("hold", 1), ("truncate", 0)):
        fields = [f.model_dump(by_alias=True) for f in held.lines.fields]
        fields[2]["overflow"] = rule
        doc = mapping(fields=fields)
        row = {"id": "k", "product": "p1", "text": "y" * 30}
        planned, problems = plan_lines(
            doc, [row], items(doc, {"p1": "I"}), Scope({}), lambda n: 10, {}
        )
        assert len(problems) == expected
        if rule == "truncate":
            assert planned[0].values["description"] == "y" * 10


def test_header_lookup_reason_comes_from_the_dependency_check() -> None:
    doc = mapping()
    key = table_key(doc.header[0], ("crm", "erp"))
    found = Lookups({key: {}}, {key: {"acc": "accounts acc is filtered out"}})
    values, problems = field_values(doc, doc.header, {"_customerid_value": "acc"}, found, Scope({}))
    assert values == {} and problems[0].message == "accounts acc is filtered out"


def test_an_uncoupled_value_leaves_the_field_blank_when_the_field_says_so() -> None:
    base = mapping().model_dump(by_alias=True, exclude_none=True)
    base["header"] = [
        *base["header"],
        {"crm": "_orderid_value", "erp": "orderId", "lookup": "ORDER", "uncoupled": "blank"},
    ]
    doc = DocumentMappingSpec.model_validate(base)
    customer, order = (table_key(f, ("crm", "erp")) for f in doc.header)
    found = Lookups({customer: {"acc": "C1"}, order: {"o-1": "SO-1"}})
    row = {"_customerid_value": "acc", "_orderid_value": "o-2"}
    values, problems = field_values(doc, doc.header, row, found, Scope({}))
    assert (values, problems) == ({"customerId": "C1", "orderId": None}, [])
    coupled, _ = field_values(doc, doc.header, {**row, "_orderid_value": "o-1"}, found, Scope({}))
    assert coupled["orderId"] == "SO-1"
    _, held = field_values(doc, doc.header, {"_customerid_value": "other"}, found, Scope({}))
    assert [p.field for p in held] == ["_customerid_value"]  # the default: held


def _with_freight() -> DocumentMappingSpec:
    spec = mapping().model_dump(by_alias=True, exclude_unset=True)
    spec["settings"]["freight_number"] = {"required": False}
    spec["charges"] = [
        {
            "name": "FREIGHT",
            "crm": "freight",
            "line": {"lineType": "Account", "lineObjectNumber": "${setting.freight_number}"},
        }
    ]
    return DocumentMappingSpec.model_validate(spec)


def test_a_charge_is_a_line_after_the_others_that_keeps_its_position() -> None:
    doc = _with_freight()
    rows = [{"id": "a", "seq": 1, "product": "p1"}]
    lookups, header = items(doc, {"p1": "I"}), {"freight": Decimal("4.20")}
    scope = Scope({"freight_number": "6100"}, source=header)
    planned, problems = plan_lines(doc, rows, lookups, scope, lambda n: 10, {})
    assert problems == []
    assert [(p.key, p.kind, p.position) for p in planned] == [
        ("a", "line", 10000),
        ("charge:FREIGHT", "charge", 20000),
    ]
    assert planned[1].values == {
        "lineType": "Account",
        "lineObjectNumber": "6100",
        "unitPrice": Decimal("4.20"),
        "quantity": Decimal(1),
        "sequence": 20000,
    }
    # a line added later goes after the charge, which stays where it was written
    rows.append({"id": "b", "seq": 2, "product": "p1"})
    positions = {"a": 10000, "charge:FREIGHT": 20000}
    planned, _ = plan_lines(doc, rows, lookups, scope, lambda n: 10, positions)
    assert [(p.key, p.position) for p in planned] == [
        ("a", 10000),
        ("b", 30000),
        ("charge:FREIGHT", 20000),
    ]


@pytest.mark.parametrize("amount", [None, Decimal(0)])
def test_no_charge_line_without_an_amount(amount: Decimal | None) -> None:
    doc = _with_freight()
    scope = Scope({}, source={"freight": amount})
    planned, problems = plan_lines(doc, [], Lookups(), scope, lambda n: 10, {})
    assert (planned, problems) == ([], [])


def test_a_charge_whose_setting_is_blank_is_a_problem_naming_it() -> None:
    doc = _with_freight()
    scope = Scope({}, source={"freight": Decimal(3)})
    planned, problems = plan_lines(doc, [], Lookups(), scope, lambda n: 10, {})
    assert planned == []
    [problem] = problems
    assert problem.field == "freight" and "${setting.freight_number}" in problem.message


def test_a_charge_amount_that_is_not_a_number_is_a_problem_naming_it() -> None:
    doc = _with_freight()
    scope = Scope({"freight_number": "6100"}, source={"freight": "twelve"})
    planned, problems = plan_lines(doc, [], Lookups(), scope, lambda n: 10, {})
    assert planned == []
    [problem] = problems
    assert problem.field == "freight" and "'twelve' is not an amount" in problem.message
