"""What posting writes besides the posted documents: customer ledger entries (one per posted
invoice, credit memo and payment, applied to each other as BC applies them) and item
inventory (a FlowField over item ledger entries: shipping lowers it without changing the
item's version or modified time). Read through the custom API group's
``customerLedgerEntries`` and ``itemAvailabilities`` pages."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from accord.sandboxes.business_central.document_lines import money
from accord.sandboxes.common.store import COMPANY, Row, Store

ZERO = Decimal(0)
LEDGER = "customerLedgerEntries"


def decimal(value: object) -> Decimal:
    return Decimal(str(value or 0))


def add_entry(
    store: Store, company: str, document_type: str, document: Row, amount: Decimal, **extra: object
) -> Row:
    """A new open customer ledger entry for a posted document (``amount`` signed as BC:
    invoices positive, payments and credit memos negative)."""
    t = store.table(LEDGER)
    top = store.scalar(sa.select(sa.func.max(t.c.entryNumber)).where(t.c[COMPANY] == company))
    values: Row = {
        "entryNumber": int(top or 0) + 1,
        "customerId": document.get("customerId"),
        "customerNumber": document.get("customerNumber"),
        "postingDate": store.clock.now().date().isoformat(),
        "documentType": document_type,
        "documentNumber": document.get("number") or document.get("documentNumber") or "",
        "externalDocumentNumber": document.get("externalDocumentNumber") or "",
        "currencyCode": document.get("currencyCode") or "",
        "dueDate": document.get("dueDate") or document.get("postingDate") or "0001-01-01",
        "amount": money(amount),
        "remainingAmount": money(amount),
        "open": amount != 0,
        **extra,
    }
    return store.insert_raw(LEDGER, values, company)


def invoice_entry(store: Store, company: str, invoice: Row) -> Row | None:
    found = store.find_raw(
        LEDGER, {"documentType": "Invoice", "documentNumber": invoice["number"]}, company
    )
    return found[0] if found else None


def apply_to_invoice(
    store: Store, company: str, invoice: Row, amount: Decimal, entry: Row | None
) -> Decimal:
    """Apply ``amount`` (positive) of a payment or credit memo ``entry`` to an open posted
    invoice: the invoice's remaining amount and status (Paid at zero) and both ledger
    entries' remaining amounts follow. Returns the amount applied."""
    if invoice["status"] != "Open":
        return ZERO
    remaining = money(invoice["remainingAmount"])
    applied = min(money(amount), remaining)
    left = remaining - applied
    store.update_raw(
        "salesInvoices",
        invoice["id"],
        {"remainingAmount": left, "status": "Paid" if left <= 0 else "Open"},
        company,
    )
    target = invoice_entry(store, company, invoice)
    if target is not None:
        store.update_raw(
            LEDGER,
            target["id"],
            {
                "remainingAmount": left,
                "open": left > 0,
                "closedByEntryNumber": (entry or {}).get("entryNumber", 0) if left <= 0 else 0,
            },
            company,
        )
    if entry is not None:
        rest = decimal(entry["remainingAmount"]) + applied
        store.update_raw(LEDGER, entry["id"], {"remainingAmount": rest, "open": rest != 0}, company)
    return applied


def close_invoice_entry(store: Store, company: str, invoice: Row) -> None:
    """A canceled invoice's entry is closed (its corrective credit memo balances it)."""
    target = invoice_entry(store, company, invoice)
    if target is not None:
        store.update_raw(LEDGER, target["id"], {"remainingAmount": ZERO, "open": False}, company)


def per_base_unit(store: Store, company: str, item_number: str, unit: str) -> Decimal:
    """Quantity per unit of measure of ``unit`` for the item (1 for its base unit or unknown)."""
    found = store.find_raw(
        "itemUnitsOfMeasure", {"itemNumber": item_number, "unitOfMeasureCode": unit}, company
    )
    return decimal(found[0]["quantityPerUnitOfMeasure"]) if found else Decimal(1)


def take_from_inventory(store: Store, company: str, line: Row, quantity: Decimal) -> None:
    """Shipping ``quantity`` of an item line lowers the item's inventory (a FlowField)."""
    if line.get("lineType") != "Item" or not quantity:
        return
    item = store.get_raw("items", str(line.get("itemId") or ""), company)
    if item is None:
        return
    base = quantity * per_base_unit(
        store, company, str(item["number"]), str(line.get("unitOfMeasureCode") or "")
    )
    t = store.table("items")
    with store.transaction():
        store.conn.execute(
            t.update()
            .where(t.c.id == item["id"], t.c[COMPANY] == company)
            .values(inventory=decimal(item["inventory"]) - base)
        )
