"""The Dataverse connector reads and writes sales documents, their lines and timeline posts
over loopback HTTPS, and meets the document state rules of the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal
from typing import Any

import pytest

from accord.config.filters import where
from accord.connectors.base import ChangeQuery, Record, WriteOp
from accord.connectors.dataverse.entities import ENTITIES, LOOKUPS
from accord.connectors.registry import build_connector
from accord.testing.sandbox import settings_from_sandbox

DOCUMENT_SETS = (
    "quotes",
    "quotedetails",
    "salesorders",
    "salesorderdetails",
    "invoices",
    "invoicedetails",
    "posts",
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    from accord.sandboxes import run_sandboxes

    with run_sandboxes(["dataverse"], records=20, seed=7) as sx:
        yield sx["dataverse"]


def test_descriptors_name_only_served_columns(sandbox: Any) -> None:
    for name in DOCUMENT_SETS:
        served = set(sandbox.store.specs[name].names)
        assert set(ENTITIES[name].fields) <= served, name
    assert LOOKUPS["salesorderdetails"]["_salesorderid_value"].nav == "salesorderid"
    assert ENTITIES["salesorderdetails"].fields["baseamount"].read_only


def read_all(connector: Any, entity: str, query: ChangeQuery) -> list[Record]:
    return [r for page in connector.read_changes(entity, query) for r in page.records]


def test_order_lines_post_and_the_read_only_rule(sandbox: Any) -> None:
    account = sandbox.store.all("accounts")[0]["accountid"]
    product = sandbox.store.all("products")[0]["productid"]
    with closing(build_connector(settings_from_sandbox(sandbox))) as connector:
        [order] = connector.write(
            "salesorders",
            [WriteOp("create", "o", {"name": "SO-DV-1", "_customerid_value": account})],
        )
        assert order.ok, order.error
        details = connector.write(
            "salesorderdetails",
            [
                WriteOp(
                    "create",
                    "1",
                    {
                        "_salesorderid_value": order.id,
                        "_productid_value": product,
                        "quantity": Decimal("2"),
                        "priceperunit": Decimal("0.1"),
                    },
                ),
                WriteOp(
                    "create",
                    "2",
                    {
                        "_salesorderid_value": order.id,
                        "isproductoverridden": True,
                        "productdescription": "Write-in",
                        "quantity": 1,
                        "priceperunit": Decimal("5"),
                    },
                ),
            ],
        )
        assert all(d.ok for d in details), [d.error for d in details]
        lines = read_all(
            connector,
            "salesorderdetails",
            ChangeQuery(filter=where("_salesorderid_value", "eq", order.id)),
        )
        assert sorted(r.values["baseamount"] for r in lines) == [Decimal("0.20"), Decimal("5.00")]
        [header] = read_all(
            connector, "salesorders", ChangeQuery(filter=where("name", "eq", "SO-DV-1"))
        )
        assert header.values["totalamount"] == Decimal("5.20")
        assert header.values["ordernumber"].startswith("ORD-")
        submit = connector.write(
            "salesorders", [WriteOp("update", "s", {"statecode": 1}, id=order.id)]
        )
        assert submit[0].ok, submit[0].error
        marker = connector.write(
            "salesorders",
            [WriteOp("update", "m", {"lastbackofficesubmit": "2026-11-27"}, id=order.id)],
        )
        assert not marker[0].ok and "Read-Only" in str(marker[0].error)
        [post] = connector.write(
            "posts",
            [
                WriteOp(
                    "create",
                    "p",
                    {
                        "text": "A shipment has been created for the order.",
                        "_regardingobjectid_value": order.id,
                    },
                )
            ],
        )
        assert post.ok, post.error
        timeline = read_all(
            connector,
            "posts",
            ChangeQuery(filter=where("_regardingobjectid_value", "eq", order.id)),
        )
        assert [p.values["text"] for p in timeline] == [
            "A shipment has been created for the order."
        ]


def test_a_state_only_a_request_reaches_is_written_as_that_request(sandbox: Any) -> None:
    """An update to Fulfilled goes as ``FulfillSalesOrder`` (an Update is refused); its
    other values go first as an update; an order that cannot be fulfilled fails the op."""
    account = sandbox.store.all("accounts")[0]["accountid"]
    with closing(build_connector(settings_from_sandbox(sandbox))) as connector:
        [made] = connector.write(
            "salesorders",
            [WriteOp("create", "o", {"name": "SO-DV-FULFIL", "_customerid_value": account})],
        )
        assert made.ok and made.id, made.error
        fulfil = {"statecode": 3, "statuscode": 100001, "description": "done"}
        [done] = connector.write("salesorders", [WriteOp("update", "f", fulfil, id=made.id)])
        assert done.ok, done.error
        row = sandbox.store.get_raw("salesorders", made.id)
        assert (row["statecode"], row["statuscode"], row["description"]) == (3, 100001, "done")
        [again] = connector.write(
            "salesorders",
            [WriteOp("update", "f", {"statecode": 3, "statuscode": 100001}, id=made.id)],
        )
        assert not again.ok and "state 3" in str(again.error)
