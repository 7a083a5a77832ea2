"""The document mapping kind: the three flows of the design's examples load in Accord's syntax,
survive being stored, and malformed variants fail naming the mapping and the place."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from accord.config.filters import matches
from accord.config.loader import load_template, parse_template
from accord.errors import ConfigError

FLOWS = Path(__file__).parent / "documents"
Data = dict[str, Any]


def flow(name: str) -> Data:
    data: Data = yaml.safe_load((FLOWS / f"{name}.yaml").read_text(encoding="utf-8"))
    return data


def test_sales_order_intake_reads_as_written() -> None:
    spec = load_template(str(FLOWS / "sales-order-intake.yaml"))
    assert [m.name for m in spec.mappings] == ["CUSTOMER", "ITEM-PRODUCT", "UNIT OF MEASURE"]
    order = next(d for d in spec.documents if d.name == "SALES ORDER")
    assert (order.entity("crm"), order.entity("erp"), order.target) == (
        "salesorders",
        "salesOrders",
        "erp",
    )
    assert order.trigger.when is not None
    submitted = {"statecode": 1, "lastbackofficesubmit": None}
    assert matches(order.trigger.when, submitted)
    assert not matches(order.trigger.when, {**submitted, "lastbackofficesubmit": "2026-11-27"})
    assert order.identity == {"crm": "name", "erp": "externalDocumentNumber"}
    assert order.lines is not None and order.lines.key == {"crm": "salesorderdetailid"}
    product = order.lines.fields[0]
    assert product.lookup == "ITEM-PRODUCT" and product.fallback is not None
    assert product.fallback.value == "${setting.write_in_item}"
    assert order.lines.comment_lines is not None
    assert order.lines.comment_lines.max_length == 100
    assert [t.name for t in order.events.timeline] == ["released", "shipped", "invoiced"]
    assert order.events.timeline[1].each["erp"].entity == "salesShipments"
    quote = next(d for d in spec.documents if d.name == "SALES QUOTE")
    assert quote.revision is not None and quote.revision.before_rebuild == ["archive"]
    assert quote.actions[1].couples_to == "SALES ORDER"
    assert [r.entity for r in order.ended_by["erp"]] == ["salesInvoices"]


def test_invoice_to_order_and_order_to_3pl_read_as_written() -> None:
    invoice = load_template(str(FLOWS / "ordermentum-invoice-to-order.yaml")).documents[0]
    assert invoice.lines is not None and invoice.lines.embedded == ["ordering"]
    assert invoice.charges[0].per_role == {"ordering": "totalFreight"}
    paid = invoice.write_back[0]
    assert paid.after == "pass" and paid.related["erp"].link == {"orderNumber": "number"}
    assert matches(paid.when["erp"], {"status": "Paid", "remainingAmount": 0})
    assert not matches(paid.when["erp"], {"status": "Open", "remainingAmount": 10})
    order = load_template(str(FLOWS / "order-to-3pl.yaml")).documents[0]
    assert order.trigger.event == "order.ready_for_fulfillment" and order.writes == "deep_insert"
    assert [(t.raise_, t.copy_) for t in order.events.timeline] == [
        ("order.picked", []),
        ("order.shipped", ["tracking_number", "carrier"]),
    ]


@pytest.mark.parametrize(
    "name", ["sales-order-intake", "ordermentum-invoice-to-order", "order-to-3pl"]
)
def test_stored_spec_loads_back_the_same(name: str) -> None:
    spec = load_template(str(FLOWS / f"{name}.yaml")).with_field_ids()
    stored = spec.model_dump(mode="json")
    assert parse_template(stored, "stored") == spec


def sales_order(data: Data) -> Data:
    found: Data = next(m for m in data["mappings"] if m["name"] == "SALES ORDER")
    return found


def line_field(data: Data, number: int) -> Data:
    found: Data = sales_order(data)["lines"]["fields"][number]
    return found


def _set(path: tuple[Any, ...], value: Any) -> Callable[[Data], None]:
    def change(data: Data) -> None:
        node: Any = sales_order(data)
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return change


def _drop(*path: Any) -> Callable[[Data], None]:
    def change(data: Data) -> None:
        node: Any = sales_order(data)
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return change


def _rename_table(data: Data) -> None:
    data["mappings"][0]["name"] = "SALES ORDER"


SO = "mappings[SALES ORDER]"
PRODUCT = f"{SO}.lines.fields[crm=_productid_value:erp=itemId]"
BAD = [
    (_set(("kind",), "documents"), f"{SO}.kind: 'documents' is not valid; valid: table, document"),
    (_set(("direction",), "both"), f"{SO}.direction: 'both' is not valid; valid: to_erp, to_crm"),
    (
        _set(("header", 1, "direction"), "both"),
        f"{SO}.header[crm=requestdeliveryby:erp=requestedDeliveryDate].direction: a transfer "
        "writes each field one way: to_erp (on creation) or to_crm (flows back on each pass)",
    ),
    (
        _set(("lines", "fields", 0, "lookup"), "PRODUCT"),
        f"{PRODUCT}.lookup: unknown mapping 'PRODUCT'",
    ),
    (
        _drop("settings", "write_in_item"),
        f"{SO}.settings: ${{setting.write_in_item}} is used but not declared; "
        "declared: auto_create_orders",
    ),
    (
        _set(("trigger", "when"), "statecode eq 1 and lastbackofficesubmit eq null"),
        f"{SO}.trigger.when: a filter is typed, not OData text; instead of",
    ),
    (
        _set(("trigger", "event"), "order.submitted"),
        f"{SO}.trigger: a trigger is exactly one of 'when' (a condition) or 'event'",
    ),
    (
        _set(("actions", 0, "key"), "fulfil-once"),
        f"{SO}.actions[fulfil]: action fulfil: 'key' must name the document",
    ),
    (
        _drop("lines", "comment_lines"),
        f"{SO}.lines.fields[crm=productdescription:erp=description].overflow: comment_lines "
        "needs lines.comment_lines",
    ),
    (_set(("lines", "key"), {"erp": "id"}), f"{SO}.lines.key: name the line key of crm"),
    (
        _set(("identity",), {"sales": "name", "erp": "externalDocumentNumber"}),
        f"{SO}.identity: 'sales' is not a role of this template (erp, crm)",
    ),
    (
        _set(("write_back", 0, "crm"), {"lastbackofficesubmit": "${todays}"}),
        f"{SO}.write_back[0]: write-back: ${{todays}} is not a placeholder",
    ),
    (
        _set(("header", 1, "erp"), "externalDocumentNumber"),
        f"{SO}.header[crm=requestdeliveryby:erp=externalDocumentNumber]: "
        "erp.externalDocumentNumber holds the identity (crm.name)",
    ),
    (
        _set(("missing_dependency",), "skip"),
        f"{SO}.missing_dependency: Input should be 'export_first', 'wait' or 'hold'",
    ),
    (
        _drop("events", "timeline", 0, "crm"),
        f"{SO}.events.timeline[released]: event released neither posts",
    ),
    (_rename_table, "mapping names repeat: SALES ORDER"),
    (
        _set(("actions", 0, "couples_to"), "ORDER"),
        f"{SO}.actions[fulfil].couples_to: unknown document mapping 'ORDER'",
    ),
    (
        _set(("lines", "fields", 0, "fallback"), {"value": ""}),
        f"{PRODUCT}.fallback: a fallback needs a 'value'",
    ),
    (
        _set(("header", 1, "uncoupled"), "blank"),
        f"{SO}.header[crm=requestdeliveryby:erp=requestedDeliveryDate]: 'fallback', "
        "'lookup_by', 'lookup_field' and 'uncoupled' go with a 'lookup'",
    ),
    (
        _set(("header", 1, "lookup_field"), "name"),
        f"{SO}.header[crm=requestdeliveryby:erp=requestedDeliveryDate]: 'fallback', "
        "'lookup_by', 'lookup_field' and 'uncoupled' go with a 'lookup'",
    ),
    (_set(("sales",), "orders"), f"{SO}: 'sales' is neither a setting nor a role"),
    (_drop("erp"), f"{SO}: no entity named for role erp"),
    (
        _set(
            ("ended_by",), {"bc": [{"entity": "salesInvoices", "link": {"orderNumber": "number"}}]}
        ),
        f"{SO}.ended_by: 'bc' is not a role of this template (erp, crm)",
    ),
]


@pytest.mark.parametrize(("change", "message"), BAD, ids=[m for _, m in BAD])
def test_malformed_document_mappings_name_the_place(
    change: Callable[[Data], None], message: str
) -> None:
    data = copy.deepcopy(flow("sales-order-intake"))
    change(data)
    with pytest.raises(ConfigError) as err:
        parse_template(data, "t.yaml")
    assert message in str(err.value)


def test_a_template_needs_a_mapping_of_either_kind() -> None:
    with pytest.raises(ConfigError, match="a template needs at least one mapping"):
        parse_template({"name": "t", "roles": {"erp": "x", "crm": "y"}, "mappings": []}, "t")
