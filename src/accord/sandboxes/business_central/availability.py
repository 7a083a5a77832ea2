"""The computed ``itemAvailabilities`` page of the custom API group: per item, its inventory,
the quantity on sales orders (the outstanding quantity of order lines, in base units: BC's
``Qty. on Sales Order`` FlowField) and what is left available. One row per item (``id`` and
``itemId`` are the item's SystemId); ``lastModifiedDateTime`` is stamped when a value changes,
so an incremental read sees orders being created and shipped."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from accord.sandboxes.business_central.ledger import decimal
from accord.sandboxes.common.store import Row, Store

PAGE = "itemAvailabilities"
_COMPARED = (
    "itemNumber",
    "displayName",
    "baseUnitOfMeasureCode",
    "blocked",
    "inventory",
    "quantityOnSalesOrders",
    "availableQuantity",
)


def on_sales_orders(store: Store, company: str) -> dict[str, Decimal]:
    """Item id -> outstanding quantity (base units) on the company's sales order lines."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    units = {
        (u["itemNumber"], u["unitOfMeasureCode"]): decimal(u["quantityPerUnitOfMeasure"])
        for u in store.all("itemUnitsOfMeasure", company)
    }
    for line in store.all("salesOrderLines", company):
        if line["lineType"] != "Item":
            continue
        outstanding = decimal(line["quantity"]) - decimal(line["shippedQuantity"])
        if outstanding:
            key = (line["lineObjectNumber"], line["unitOfMeasureCode"])
            out[line["itemId"]] += outstanding * units.get(key, Decimal(1))
    return out


def refresh_availability(store: Store, company: str) -> None:
    """Bring the company's availability rows up to date with its items and order lines."""
    with store.transaction():
        ordered = on_sales_orders(store, company)
        current = {r["id"]: r for r in store.all(PAGE, company)}
        items = store.all("items", company)
        spec = store.specs[PAGE]
        for item in items:
            inventory = decimal(item["inventory"])
            row: Row = {
                "id": item["id"],
                "itemId": item["id"],
                "itemNumber": item["number"],
                "displayName": item["displayName"],
                "baseUnitOfMeasureCode": item["baseUnitOfMeasureCode"],
                "blocked": bool(item["blocked"]),
                "inventory": inventory,
                "quantityOnSalesOrders": ordered.get(item["id"], Decimal(0)),
                "availableQuantity": inventory - ordered.get(item["id"], Decimal(0)),
            }
            old = current.get(item["id"])
            if old is not None and all(_same(old[k], row[k]) for k in _COMPARED):
                continue
            row["lastModifiedDateTime"] = store.now_text(spec)
            if old is None:
                store.insert_raw(PAGE, row, company)
            else:
                store.update_raw(PAGE, row["id"], row, company)
        for key in set(current) - {i["id"] for i in items}:
            store.delete_raw(PAGE, key, company)


def _same(left: object, right: object) -> bool:
    if isinstance(right, Decimal):
        return decimal(left) == right
    return left == right
