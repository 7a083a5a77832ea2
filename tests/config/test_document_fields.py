"""Document mappings checked against the connectors' descriptors: the example flows name only
real entities and fields, and a wrong one fails naming the mapping and the place."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from accord.config.document_fields import check_document_fields
from accord.config.loader import load_template, parse_template
from accord.connectors.business_central.custom_api import ENTITIES as BC  # v2.0 + group
from accord.connectors.dataverse.entities import ENTITIES as DV
from accord.errors import ConfigError

FLOWS = Path(__file__).parent / "documents"
SYSTEMS = {"erp": BC, "crm": DV}


@pytest.mark.parametrize("name", ["sales-order-intake", "ordermentum-invoice-to-order"])
def test_the_example_flows_name_real_fields(name: str) -> None:
    spec = load_template(str(FLOWS / f"{name}.yaml"))
    for doc in spec.documents:
        check_document_fields(doc, SYSTEMS)


def test_the_bc_sales_document_mappings_name_real_fields() -> None:
    spec = load_template("bc-sales")
    assert {"SALES ORDER", "SALES INVOICE", "SALES CREDIT MEMO", "QUOTE"} <= {
        d.name for d in spec.documents
    }
    for doc in spec.documents:
        check_document_fields(doc, SYSTEMS)


def variant(change: Any) -> Any:
    data = yaml.safe_load((FLOWS / "sales-order-intake.yaml").read_text(encoding="utf-8"))
    order = next(m for m in data["mappings"] if m["name"] == "SALES ORDER")
    change(order)
    spec = parse_template(copy.deepcopy(data), "t.yaml")
    return next(d for d in spec.documents if d.name == "SALES ORDER")


def _typo(order: dict[str, Any]) -> None:
    order["header"][1]["erp"] = "requestedDeliveryDat"


def _trigger(order: dict[str, Any]) -> None:
    order["trigger"]["when"] = {"field": "lastbackofficesubmit", "op": "eq", "value": "soon"}


def _comment(order: dict[str, Any]) -> None:
    order["lines"]["comment_lines"]["values"] = {"type": "Comment"}


def _ended(order: dict[str, Any]) -> None:
    order["ended_by"]["erp"][0]["entity"] = "postedSalesInvoices"


def _position(order: dict[str, Any]) -> None:
    order["lines"]["position"] = {"erp": "lineNo"}


def _unlock(order: dict[str, Any]) -> None:
    order["write_back"][0]["unlock"] = {"crm": {"state": 0}}


def _shipment(order: dict[str, Any]) -> None:
    order["events"]["timeline"][1]["each"]["erp"]["link"] = {"orderNo": "number"}


@pytest.mark.parametrize(
    ("change", "place", "message"),
    [
        (
            _typo,
            ".header[crm=requestdeliveryby:erp=requestedDeliveryDat]",
            "'requestedDeliveryDat' is not a field of 'salesOrders'",
        ),
        (_trigger, ".trigger.when", "value 'soon' is not a date"),
        (_comment, ".lines.comment_lines", "'type' is not a field of 'salesOrderLines'"),
        (_ended, ".ended_by.erp", "'postedSalesInvoices' is not an entity of role erp"),
        (_position, ".lines.position", "'lineNo' is not a field of 'salesOrderLines'"),
        (_unlock, ".write_back[0]", "'state' is not a field of 'salesorders'"),
        (
            _shipment,
            ".events.timeline[shipped].each.link",
            "'orderNo' is not a field of 'salesShipments'",
        ),
    ],
)
def test_a_wrong_field_names_the_place(change: Any, place: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        check_document_fields(variant(change), SYSTEMS)
    text = str(err.value)
    assert f"mappings[SALES ORDER]{place}" in text and message in text
