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
        rows: list[Row] = []
        for item in store.all("items", company):
            inventory = decimal(item["inventory"])
            on_orders = ordered.get(item["id"], Decimal(0))
            rows.append(
                {
                    "id": item["id"],
                    "itemId": item["id"],
                    "itemNumber": item["number"],
                    "displayName": item["displayName"],
                    "baseUnitOfMeasureCode": item["baseUnitOfMeasureCode"],
                    "blocked": bool(item["blocked"]),
                    "inventory": inventory,
                    "quantityOnSalesOrders": on_orders,
                    "availableQuantity": inventory - on_orders,
                }
            )
        keep_rows(store, PAGE, company, rows)


def keep_rows(
    store: Store, page: str, company: str, rows: list[Row], only: str | None = None
) -> None:
    """Make a computed page's rows ``rows`` (by id): a row whose values changed is stamped
    with the current time, rows no longer wanted are removed (``only``: just that row)."""
    spec = store.specs[page]
    with store.transaction():
        if only is None:
            current = {r["id"]: r for r in store.all(page, company)}
        else:
            found = store.get_raw(page, only, company)
            current = {only: found} if found is not None else {}
        for row in rows:
            old = current.get(row["id"])
            if old is not None and all(_same(old[k], v) for k, v in row.items()):
                continue
            stamped = {**row, "lastModifiedDateTime": store.now_text(spec)}
            if old is None:
                store.insert_raw(page, stamped, company)
            else:
                store.update_raw(page, row["id"], stamped, company)
        for key in set(current) - {r["id"] for r in rows}:
            store.delete_raw(page, key, company)


def _same(left: object, right: object) -> bool:
    if isinstance(right, Decimal):
        return decimal(left) == right
    return left == right
