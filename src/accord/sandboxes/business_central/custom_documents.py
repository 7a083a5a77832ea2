"""The custom API group's document pages (docs/custom-api-group.md, ADR 0022): what API v2.0
lacks around sales documents, as Accord's extension publishes it.

- ``salesOrderOperations`` / ``salesQuoteOperations``: API pages over Sales Header (one row per
  order or quote, ``id`` = the v2.0 document's id) with the base app's ``Status``
  (Open/Released) and bound actions ``release``, ``reopen``, ``archive`` and, on orders,
  ``ship`` and ``invoice`` (the v2.0 ``shipAndInvoice`` split in two).
- ``salesOrderArchives`` / ``salesQuoteArchives`` and their lines: Sales Header Archive and
  Sales Line Archive, one version per archive action (read-only).
- ``itemAvailabilities``: one row per item, inventory less the outstanding quantity on sales
  orders (computed, read-only).
- ``customerLedgerEntries``: Cust. Ledger Entry (read-only), written by posting.
- ``customerPaymentJournalOperations``: the payment journal batches with a ``post`` action
  (v2.0 has the journals and their lines, not the posting).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from accord.sandboxes.business_central.entities import _spec
from accord.sandboxes.common.store import EntitySpec, Store

_ID = "id:guid::ro"
_MOD = "lastModifiedDateTime:datetime::ro"
SALES_HEADER_STATUS = ("Open", "Released", "Pending Approval", "Pending Prepayment")
"""BC's ``Sales Document Status`` enum."""
LEDGER_DOCUMENT_TYPES = (
    " ",
    "Payment",
    "Invoice",
    "Credit Memo",
    "Finance Charge Memo",
    "Reminder",
    "Refund",
)
"""BC's ``Gen. Journal Document Type`` enum."""

_OPERATION = (
    f"{_ID} number::20:ro externalDocumentNumber::35:ro customerNumber::20:ro status:::ro "
    "lastArchivedVersion:int::ro"
)
_ARCHIVE = (
    f"{_ID} documentId:guid::ro number::20:ro versionNumber:int::ro "
    "externalDocumentNumber::35:ro customerId:guid::ro customerNumber::20:ro "
    "customerName::100:ro documentDate:date::ro currencyCode::10:ro "
    "totalAmountExcludingTax:float::ro totalAmountIncludingTax:float::ro "
    "archivedDateTime:datetime::ro"
)
_ARCHIVE_LINE = (
    f"{_ID} documentId:guid::ro documentNumber::20:ro versionNumber:int::ro sequence:int::ro "
    "lineType:::ro lineObjectNumber::20:ro description::100:ro description2::50:ro "
    "unitOfMeasureCode::10:ro quantity:float::ro unitPrice:float::ro discountPercent:float::ro "
    "amountExcludingTax:float::ro amountIncludingTax:float::ro"
)


def _read_only(name: str, type_name: str, fields: str, **extra: Any) -> EntitySpec:
    return _spec(name, type_name, fields, read_only=True, **extra)


def _computed(name: str, type_name: str, fields: str, **extra: Any) -> EntitySpec:
    """A page whose ``lastModifiedDateTime`` the sandbox sets when the values change."""
    return replace(_read_only(name, type_name, fields, **extra), modified=None)


_TEXTS = "yourReference::35 workDescription"
"""The Sales Header fields v2.0 lacks that Microsoft's order and quote intake set (Your
Reference, Work Description: a Blob, no length); the only writable fields of the pages."""


def _operations(name: str, type_name: str, fields: str, **extra: Any) -> EntitySpec:
    """An operations page: read-only but for :data:`_TEXTS` (PATCH; no POST, no DELETE)."""
    page = _computed(name, type_name, f"{fields} {_TEXTS}", **extra)
    return replace(page, extra={**page.extra, "read_only": False, "modify_only": True})


SPECS: tuple[EntitySpec, ...] = (
    _operations(
        "salesOrderOperations",
        "salesOrderOperation",
        f"{_OPERATION} completelyShipped:bool::ro lastShipmentNumber::20:ro "
        f"lastInvoiceNumber::20:ro {_MOD}",
        enums={"status": SALES_HEADER_STATUS},
        defaults={"status": "Open"},
        actions=("release", "reopen", "ship", "invoice", "archive"),
    ),
    _operations(
        "salesQuoteOperations",
        "salesQuoteOperation",
        f"{_OPERATION} {_MOD}",
        enums={"status": SALES_HEADER_STATUS},
        defaults={"status": "Open"},
        actions=("release", "reopen", "archive"),
    ),
    _read_only(
        "salesOrderArchives",
        "salesOrderArchive",
        f"{_ARCHIVE} status:::ro {_MOD}",
        enums={"status": SALES_HEADER_STATUS},
    ),
    _read_only(
        "salesOrderArchiveLines",
        "salesOrderArchiveLine",
        f"{_ARCHIVE_LINE} shippedQuantity:float::ro invoicedQuantity:float::ro",
    ),
    _read_only(
        "salesQuoteArchives",
        "salesQuoteArchive",
        f"{_ARCHIVE} validUntilDate:date::ro status:::ro {_MOD}",
        enums={"status": SALES_HEADER_STATUS},
    ),
    _read_only("salesQuoteArchiveLines", "salesQuoteArchiveLine", _ARCHIVE_LINE),
    _computed(
        "itemAvailabilities",
        "itemAvailability",
        f"{_ID} itemId:guid::ro itemNumber::20:ro displayName::100:ro "
        "baseUnitOfMeasureCode::10:ro blocked:bool::ro inventory:float::ro "
        f"quantityOnSalesOrders:float::ro availableQuantity:float::ro {_MOD}",
    ),
    _read_only(
        "customerLedgerEntries",
        "customerLedgerEntry",
        f"{_ID} entryNumber:int::ro customerId:guid::ro customerNumber::20:ro "
        "postingDate:date::ro documentType:::ro documentNumber::20:ro "
        "externalDocumentNumber::35:ro description::100:ro currencyCode::10:ro "
        "amount:float::ro remainingAmount:float::ro open:bool::ro dueDate:date::ro "
        f"closedByEntryNumber:int::ro {_MOD}",
        enums={"documentType": LEDGER_DOCUMENT_TYPES},
    ),
    _computed(
        "customerPaymentJournalOperations",
        "customerPaymentJournalOperation",
        f"{_ID} code::10:ro displayName::100:ro lineCount:int::ro totalAmount:float::ro {_MOD}",
        actions=("post",),
    ),
)
"""The document pages of the custom API group."""

_SOURCES = {
    "salesOrderOperations": "salesOrders",
    "salesQuoteOperations": "salesQuotes",
    "customerPaymentJournalOperations": "customerPaymentJournals",
}
OPERATIONS = {
    spec.name: (_SOURCES[spec.name], tuple(spec.extra["actions"]))
    for spec in SPECS
    if spec.name in _SOURCES
}
"""Operations page -> (the v2.0 entity set it stands for, its bound actions)."""
ARCHIVES = {
    "salesOrders": ("salesOrderArchives", "salesOrderArchiveLines"),
    "salesQuotes": ("salesQuoteArchives", "salesQuoteArchiveLines"),
}
"""v2.0 document set -> (its archive headers, their lines)."""

STATUS_PAGES = {"salesOrders": "salesOrderOperations", "salesQuotes": "salesQuoteOperations"}


def header_status(store: Store, header: str, key: str, company: str | None) -> str:
    """The base app's ``Status`` of an order or quote (Open unless released); other
    documents have none (Open)."""
    page = STATUS_PAGES.get(header)
    row = store.get_raw(page, key, company) if page and company else None
    return str(row["status"]) if row is not None else "Open"
