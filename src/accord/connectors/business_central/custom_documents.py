"""The custom API group's document pages as data (docs/custom-api-group.md, ADR 0022): order
and quote operations pages with their bound actions, order and quote archives, item
availability, customer ledger entries and payment journal posting. Every field is read-only:
these pages change only through their actions and through posting."""

from __future__ import annotations

from dataclasses import replace

from accord.connectors.base import EntityInfo, FieldInfo, FieldType
from accord.connectors.business_central.documents import _info

API_GROUP = "accord/integration/v1.0"
"""``<publisher>/<group>/<version>`` of the extension's API pages."""

_OPERATION = "id:g number externalDocumentNumber customerNumber status:o lastArchivedVersion:i "
_TEXTS = " yourReference workDescription"
_WRITABLE = frozenset({"yourReference", "workDescription"})
"""The only fields of the pages a client writes (PATCH on the operations pages, ADR 0024)."""
_ARCHIVE = (
    "id:g documentId:g number versionNumber:i externalDocumentNumber customerId:g "
    "customerNumber customerName documentDate:dt currencyCode totalAmountExcludingTax:d "
    "totalAmountIncludingTax:d archivedDateTime:t"
)
_ARCHIVE_LINE = (
    "id:g documentId:g documentNumber versionNumber:i sequence:i lineType:o lineObjectNumber "
    "description description2 unitOfMeasureCode quantity:d unitPrice:d discountPercent:d "
    "amountExcludingTax:d amountIncludingTax:d"
)
_PAGES = {
    "salesOrderOperations": (
        f"{_OPERATION} completelyShipped:b lastShipmentNumber lastInvoiceNumber "
        f"lastModifiedDateTime:t{_TEXTS}",
        "number",
    ),
    "salesQuoteOperations": (f"{_OPERATION} lastModifiedDateTime:t{_TEXTS}", "number"),
    "salesOrderArchives": (f"{_ARCHIVE} status:o lastModifiedDateTime:t", None),
    "salesOrderArchiveLines": (f"{_ARCHIVE_LINE} shippedQuantity:d invoicedQuantity:d", None),
    "salesQuoteArchives": (
        f"{_ARCHIVE} validUntilDate:dt status:o lastModifiedDateTime:t",
        None,
    ),
    "salesQuoteArchiveLines": (_ARCHIVE_LINE, None),
    "itemAvailabilities": (
        "id:g itemId:g itemNumber displayName baseUnitOfMeasureCode blocked:b inventory:d "
        "quantityOnSalesOrders:d availableQuantity:d lastModifiedDateTime:t",
        "itemNumber",
    ),
    "customerLedgerEntries": (
        "id:g entryNumber:i customerId:g customerNumber postingDate:dt documentType:o "
        "documentNumber externalDocumentNumber description currencyCode amount:d "
        "remainingAmount:d open:b dueDate:dt closedByEntryNumber:i lastModifiedDateTime:t",
        None,
    ),
    "customerPaymentJournalOperations": (
        "id:g code displayName lineCount:i totalAmount:d lastModifiedDateTime:t",
        "code",
    ),
}
_DOCUMENT_OF = {
    "salesOrderOperations": "salesOrders",
    "salesQuoteOperations": "salesQuotes",
    "salesOrderArchives": "salesOrders",
    "salesQuoteArchives": "salesQuotes",
    "salesOrderArchiveLines": "salesOrderArchives",
    "salesQuoteArchiveLines": "salesQuoteArchives",
    "customerPaymentJournalOperations": "customerPaymentJournals",
}
"""Where a page's ``documentId`` (or, on operations pages, ``id``) points."""


def _page(name: str, text: str, natural_key: str | None) -> EntityInfo:
    names = {item.partition(":")[0] for item in text.split()}
    info = _info(name, text, names - _WRITABLE, natural_key)
    target = _DOCUMENT_OF.get(name)
    fields = dict(info.fields)
    if target is not None and "documentId" in fields:
        fields["documentId"] = replace(
            fields["documentId"], type=FieldType.LOOKUP, lookup_entity=target
        )
    if name == "itemAvailabilities":
        fields["itemId"] = FieldInfo(
            "itemId", FieldType.LOOKUP, read_only=True, lookup_entity="items"
        )
    return replace(info, fields=fields, api_group=API_GROUP)


DOCUMENT_PAGES: dict[str, EntityInfo] = {
    name: _page(name, text, key) for name, (text, key) in _PAGES.items()
}
"""The group's document pages."""

GROUP_ACTIONS: dict[str, tuple[str, ...]] = {
    "salesOrderOperations": ("archive", "invoice", "release", "reopen", "ship"),
    "salesQuoteOperations": ("archive", "release", "reopen"),
    "customerPaymentJournalOperations": ("post",),
}
"""Operations page -> its bound actions (``POST {page}({id})/Microsoft.NAV.<action>``, 204;
``id`` is the v2.0 document's or journal's id)."""
