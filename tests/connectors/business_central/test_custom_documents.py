"""The Business Central connector reaches the custom API group's document pages over loopback
HTTPS: descriptors matching the sandbox's pages, incremental reads of item availability as
orders are placed and shipped, bound actions at the URLs the descriptors name, ledger entries
and archive lines."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from accord.connectors.base import ChangeQuery, Record, WriteOp
from accord.connectors.business_central.connector import BusinessCentralConnector
from accord.connectors.business_central.custom_api import ENTITIES
from accord.connectors.business_central.custom_documents import (
    API_GROUP,
    DOCUMENT_PAGES,
    GROUP_ACTIONS,
)
from accord.connectors.registry import build_connector
from accord.sandboxes.business_central.custom_documents import OPERATIONS
from accord.testing.contract import FAST_RETRY
from accord.testing.sandbox import settings_from_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    from accord.sandboxes import run_sandboxes

    with run_sandboxes(["business-central"], records=20, seed=7) as sx:
        yield sx["business-central"]


@pytest.fixture(scope="module")
def connector(sandbox: Any) -> Iterator[BusinessCentralConnector]:
    built = build_connector(settings_from_sandbox(sandbox, retry=FAST_RETRY))
    assert isinstance(built, BusinessCentralConnector)
    with closing(built):
        yield built


def read(connector: BusinessCentralConnector, entity: str, **query: Any) -> list[Record]:
    return [
        r for page in connector.read_changes(entity, ChangeQuery(**query)) for r in page.records
    ]


def call(connector: BusinessCentralConnector, entity: str, key: str, action: str) -> Any:
    assert action in GROUP_ACTIONS[entity]
    url = f"{connector.collection(ENTITIES[entity])}({key})/Microsoft.NAV.{action}"
    return connector.http.request("POST", url, idempotent=False)


def test_descriptors_match_the_sandbox_pages(sandbox: Any) -> None:
    for name, info in DOCUMENT_PAGES.items():
        spec = sandbox.store.specs[name]
        assert list(info.fields) == spec.names, name
        writable = {f.name for f in spec.fields if not f.read_only}
        assert {n for n, f in info.fields.items() if not f.read_only} == writable, name
        assert writable <= {"yourReference", "workDescription"}, name
        assert info.api_group == API_GROUP
        assert (info.modified_field is None) is (spec.name.endswith("ArchiveLines")), name
    assert {k: tuple(sorted(v)) for k, v in GROUP_ACTIONS.items()} == {
        k: tuple(sorted(actions)) for k, (_, actions) in OPERATIONS.items()
    }
    lines = DOCUMENT_PAGES["salesOrderArchiveLines"].fields["documentId"]
    assert lines.lookup_entity == "salesOrderArchives"
    assert DOCUMENT_PAGES["itemAvailabilities"].fields["itemId"].lookup_entity == "items"


def test_availability_reads_incrementally_as_orders_come_and_ship(
    sandbox: Any, connector: BusinessCentralConnector
) -> None:
    every = read(connector, "itemAvailabilities")
    assert len(every) == sandbox.store.count("items", sandbox.company_id)
    item = next(i for i in sandbox.store.all("items", sandbox.company_id) if not i["blocked"])
    since = max(r.modified_at for r in every if r.modified_at)
    sandbox.clock.advance(1)
    assert read(connector, "itemAvailabilities", since=since) == []
    customer = sandbox.store.all("customers", sandbox.company_id)[0]
    [made] = connector.write(
        "salesOrders",
        [_create({"customerId": customer["id"]})],
    )
    assert made.ok and made.id
    [line] = connector.write(
        "salesOrderLines",
        [_create({"documentId": made.id, "itemId": item["id"], "quantity": 4})],
    )
    assert line.ok, line.error
    [changed] = read(connector, "itemAvailabilities", since=since)
    assert changed.values["itemNumber"] == item["number"]
    before = next(r for r in every if r.id == item["id"])
    assert changed.values["quantityOnSalesOrders"] == before.values["quantityOnSalesOrders"] + 4
    assert changed.values["availableQuantity"] == before.values["availableQuantity"] - 4
    assert call(connector, "salesOrderOperations", str(made.id), "ship").status_code == 204
    assert changed.modified_at is not None
    sandbox.clock.advance(1)
    [shipped] = read(
        connector, "itemAvailabilities", since=changed.modified_at - timedelta(milliseconds=1)
    )
    assert shipped.values["inventory"] == before.values["inventory"] - 4
    assert shipped.values["availableQuantity"] == changed.values["availableQuantity"]
    [page] = connector.find("salesOrderOperations", {"id": str(made.id)})
    assert page.values["status"] == "Released" and page.values["completelyShipped"] is True
    assert call(connector, "salesOrderOperations", str(made.id), "archive").status_code == 204
    archive = connector.find("salesOrderArchives", {"documentId": str(made.id)})
    assert [a.values["versionNumber"] for a in archive] == [1]
    archived = read(connector, "salesOrderArchiveLines")
    mine = [r for r in archived if r.values["documentId"] == archive[0].id]
    assert [(r.values["quantity"], r.values["shippedQuantity"]) for r in mine] == [
        (Decimal(4), Decimal(4))
    ]
    assert call(connector, "salesOrderOperations", str(made.id), "invoice").status_code == 204
    entries = connector.find("customerLedgerEntries", {"customerNumber": customer["number"]})
    assert any(e.values["documentType"] == "Invoice" and e.values["open"] for e in entries)


def _create(values: dict[str, Any]) -> WriteOp:
    return WriteOp("create", "x", values)
