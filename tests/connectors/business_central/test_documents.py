"""The Business Central connector reads and writes sales documents and their lines over
loopback HTTPS, with descriptors matching the sandbox's (and so the v2.0 pages') fields."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal
from typing import Any

import pytest

from accord.config.filters import where
from accord.connectors.base import (
    ChangeQuery,
    DeepInsert,
    DeepInserter,
    FieldType,
    Record,
    WriteOp,
)
from accord.connectors.business_central.documents import ACTIONS, DOCUMENT_ENTITIES
from accord.connectors.registry import build_connector
from accord.testing.sandbox import settings_from_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    from accord.sandboxes import run_sandboxes

    with run_sandboxes(["business-central"], records=20, seed=7) as sx:
        yield sx["business-central"]


def test_descriptors_match_the_sandbox_entities(sandbox: Any) -> None:
    for name, info in DOCUMENT_ENTITIES.items():
        spec = sandbox.store.specs[name]
        assert set(info.fields) == set(spec.names), name
        served_ro = {f.name for f in spec.fields if f.read_only}
        if name not in ("salesShipments", "salesShipmentLines"):
            assert {n for n, f in info.fields.items() if f.read_only} == served_ro, name
    lines = DOCUMENT_ENTITIES["salesOrderLines"]
    assert (
        lines.modified_field is None and lines.fields["documentId"].lookup_entity == "salesOrders"
    )
    assert lines.fields["quantity"].type is FieldType.DECIMAL
    assert ACTIONS["salesQuotes"] == ("makeInvoice", "makeOrder", "send")


def read_all(connector: Any, entity: str, query: ChangeQuery) -> list[Record]:
    return [r for page in connector.read_changes(entity, query) for r in page.records]


def test_order_header_and_lines_round_trip(sandbox: Any) -> None:
    customer = sandbox.store.all("customers")[0]
    items = [i for i in sandbox.store.all("items") if not i["blocked"]][:2]
    with closing(build_connector(settings_from_sandbox(sandbox))) as connector:
        [made] = connector.write(
            "salesOrders",
            [
                WriteOp(
                    "create",
                    "h",
                    {
                        "customerNumber": customer["number"],
                        "externalDocumentNumber": "SO-CONNECTOR-1",
                    },
                )
            ],
        )
        assert made.ok, made.error
        lines = [
            WriteOp(
                "create",
                str(n),
                {
                    "documentId": made.id,
                    "itemId": item["id"],
                    "quantity": Decimal("1.5"),
                    "unitPrice": Decimal("0.1"),
                },
            )
            for n, item in enumerate(items)
        ]
        lines.append(
            WriteOp(
                "create",
                "c",
                {"documentId": made.id, "lineType": "Comment", "description": "x" * 100},
            )
        )
        written = connector.write("salesOrderLines", lines)
        assert all(r.ok for r in written), [r.error for r in written]
        read = read_all(
            connector, "salesOrderLines", ChangeQuery(filter=where("documentId", "eq", made.id))
        )
        assert [r.values["sequence"] for r in read] == [10000, 20000, 30000]
        assert read[0].values["quantity"] == Decimal("1.5")
        assert read[0].values["amountExcludingTax"] == Decimal("0.15")
        headers = read_all(
            connector,
            "salesOrders",
            ChangeQuery(filter=where("externalDocumentNumber", "eq", "SO-CONNECTOR-1")),
        )
        assert [h.id for h in headers] == [made.id]
        assert headers[0].values["totalAmountExcludingTax"] == Decimal("0.30")
        too_long = connector.write(
            "salesOrderLines",
            [
                WriteOp(
                    "create",
                    "x",
                    {"documentId": made.id, "lineType": "Comment", "description": "x" * 101},
                )
            ],
        )
        assert not too_long[0].ok and "101" in str(too_long[0].error)


def test_deep_insert_makes_documents_with_their_lines_in_one_batch(sandbox: Any) -> None:
    customer = next(c for c in sandbox.store.all("customers") if c["blocked"] == " ")
    items = [i for i in sandbox.store.all("items") if not i["blocked"]][:2]
    head = {"customerNumber": customer["number"]}
    documents = [
        DeepInsert(
            "a",
            {**head, "externalDocumentNumber": "SO-DEEP-A"},
            [
                {"sequence": 10000, "lineObjectNumber": items[0]["number"], "quantity": 2},
                {"sequence": 10001, "lineType": "Comment", "description": "more text"},
                {"sequence": 20000, "lineObjectNumber": items[1]["number"], "quantity": 1},
            ],
        ),
        DeepInsert(
            "b",
            {**head, "externalDocumentNumber": "SO-DEEP-B"},
            [
                {"sequence": 10000, "lineObjectNumber": items[0]["number"], "quantity": 1},
                {"sequence": 20000, "lineObjectNumber": "NO-SUCH-ITEM", "quantity": 1},
            ],
        ),
    ]
    sandbox.faults.reset_stats()
    with closing(build_connector(settings_from_sandbox(sandbox))) as connector:
        assert isinstance(connector, DeepInserter)
        made, refused = connector.deep_insert("salesOrders", "salesOrderLines", documents)
    routes = sandbox.faults.stats()["by_route"]
    assert [
        n for route, n in routes.items() if "api/v2.0/" in route and "companies" not in route
    ] == [1]  # one $batch
    assert made.ok and made.ref == "a" and made.id
    stored = sorted(
        (r for r in sandbox.store.all("salesOrderLines") if r["documentId"] == made.id),
        key=lambda r: r["sequence"],
    )
    assert [(r.id, r.values["sequence"]) for r in made.lines] == [
        (r["id"], r["sequence"]) for r in stored
    ]
    assert [r.values["lineType"] for r in made.lines] == ["Item", "Comment", "Item"]
    # the other: refused whole (its first line was fine), its error naming the item
    assert not refused.ok and refused.ref == "b" and not refused.lines
    assert "NO-SUCH-ITEM" in str(refused.error)
    names = [o["externalDocumentNumber"] for o in sandbox.store.all("salesOrders")]
    assert "SO-DEEP-A" in names and "SO-DEEP-B" not in names
