"""Business Central API v2.0 sales documents as data (fields from the v2.0 resource pages).

Headers (salesOrders, salesQuotes, salesInvoices, salesCreditMemos, salesShipments) change
with ``lastModifiedDateTime``; their lines have no modified time and are read per document
(BC refuses a line list without ``documentId``), so they are snapshot entities. Posted
documents (salesShipments and their lines) are read-only; bound actions are in :data:`ACTIONS`.
"""

from __future__ import annotations

from accord.connectors.base import ChangeTracking, EntityInfo, FieldInfo, FieldType

MAX_PAGE_SIZE = 20_000
MAX_BATCH_SIZE = 100
MODIFIED = "lastModifiedDateTime"
_TYPES = {
    "": FieldType.STRING,
    "d": FieldType.DECIMAL,
    "b": FieldType.BOOLEAN,
    "g": FieldType.GUID,
    "t": FieldType.DATETIME,
    "dt": FieldType.DATE,
    "i": FieldType.INTEGER,
    "o": FieldType.OPTION,
}
_LOOKUPS = {
    "customerId": "customers",
    "billToCustomerId": "customers",
    "currencyId": "currencies",
    "paymentTermsId": "paymentTerms",
    "shipmentMethodId": "shipmentMethods",
    "itemId": "items",
    "unitOfMeasureId": "unitsOfMeasure",
    "orderId": "salesOrders",
    "invoiceId": "salesInvoices",
    "appliesToInvoiceId": "salesInvoices",
    "journalId": "customerPaymentJournals",
}
_LENGTHS = {
    "number": 20,
    "externalDocumentNumber": 35,
    "yourReference": 35,
    "customerNumber": 20,
    "description": 100,
    "description2": 50,
    "lineObjectNumber": 20,
    "unitOfMeasureCode": 10,
    "currencyCode": 10,
}
_HEADER_RO = set(
    [
        "id",
        "customerName",
        "pricesIncludeTax",
        "discountAppliedBeforeTax",
        "totalAmountExcludingTax",
        "totalTaxAmount",
        "totalAmountIncludingTax",
        "fullyShipped",
        "status",
        "lastModifiedDateTime",
        "remainingAmount",
        "sentDate",
        "acceptedDate",
        "orderId",
        "orderNumber",
        "invoiceNumber",
    ]
)
_LINE_RO = set(
    [
        "id",
        "discountAppliedBeforeTax",
        "amountExcludingTax",
        "taxPercent",
        "totalTaxAmount",
        "amountIncludingTax",
        "invoiceDiscountAllocation",
        "netAmount",
        "netTaxAmount",
        "netAmountIncludingTax",
        "shippedQuantity",
        "invoicedQuantity",
    ]
)
_PARTY = (
    "customerId:g customerNumber customerName billToName billToCustomerId:g billToCustomerNumber "
    "shipToName shipToContact sellToAddressLine1 sellToAddressLine2 sellToCity sellToCountry "
    "sellToState sellToPostCode billToAddressLine1 billToAddressLine2 billToCity billToCountry "
    "billToState billToPostCode shipToAddressLine1 shipToAddressLine2 shipToCity shipToCountry "
    "shipToState shipToPostCode"
)
_AMOUNTS = "totalAmountExcludingTax:d totalTaxAmount:d totalAmountIncludingTax:d"
_LINE = (
    "id:g documentId:g sequence:i itemId:g accountId:g lineType:o lineObjectNumber description "
    "description2 unitOfMeasureId:g unitOfMeasureCode quantity:d unitPrice:d discountAmount:d "
    "discountPercent:d discountAppliedBeforeTax:b amountExcludingTax:d taxCode taxPercent:d "
    "totalTaxAmount:d amountIncludingTax:d netAmount:d netTaxAmount:d netAmountIncludingTax:d "
    "itemVariantId:g locationId:g"
)
_HEADERS = {
    "salesOrders": (
        f"id:g number externalDocumentNumber orderDate:dt postingDate:dt {_PARTY} "
        "shortcutDimension1Code shortcutDimension2Code currencyId:g currencyCode "
        "pricesIncludeTax:b paymentTermsId:g shipmentMethodId:g salesperson partialShipping:b "
        "requestedDeliveryDate:dt discountAmount:d discountAppliedBeforeTax:b "
        f"{_AMOUNTS} fullyShipped:b status:o lastModifiedDateTime:t phoneNumber email"
    ),
    "salesQuotes": (
        f"id:g number externalDocumentNumber documentDate:dt postingDate:dt dueDate:dt {_PARTY} "
        "shortcutDimension1Code shortcutDimension2Code currencyId:g currencyCode "
        "paymentTermsId:g shipmentMethodId:g salesperson discountAmount:d "
        f"{_AMOUNTS} status:o sentDate:t validUntilDate:dt acceptedDate:dt "
        "lastModifiedDateTime:t phoneNumber email"
    ),
    "salesInvoices": (
        "id:g number externalDocumentNumber invoiceDate:dt postingDate:dt dueDate:dt "
        f"promisedPayDate:dt customerPurchaseOrderReference {_PARTY} currencyId:g "
        "shortcutDimension1Code shortcutDimension2Code currencyCode orderId:g orderNumber "
        "paymentTermsId:g shipmentMethodId:g salesperson disputeStatusId:g disputeStatus "
        "pricesIncludeTax:b remainingAmount:d discountAmount:d discountAppliedBeforeTax:b "
        f"{_AMOUNTS} status:o lastModifiedDateTime:t phoneNumber email"
    ),
    "salesCreditMemos": (
        "id:g number externalDocumentNumber creditMemoDate:dt postingDate:dt dueDate:dt "
        + " ".join(f for f in _PARTY.split() if not f.startswith("shipTo"))
        + " shortcutDimension1Code shortcutDimension2Code currencyId:g currencyCode "
        "paymentTermsId:g shipmentMethodId:g salesperson pricesIncludeTax:b discountAmount:d "
        f"discountAppliedBeforeTax:b {_AMOUNTS} status:o lastModifiedDateTime:t invoiceId:g "
        "invoiceNumber phoneNumber email customerReturnReasonId:g"
    ),
    "salesShipments": (
        "id:g number externalDocumentNumber invoiceDate:dt postingDate:dt dueDate:dt "
        "customerPurchaseOrderReference customerId:g customerNumber customerName "
        "billToCustomerId:g billToName billToCustomerNumber "
        + " ".join(_PARTY.split()[6:])
        + " currencyCode orderNumber paymentTermsCode shipmentMethodCode salesperson "
        "pricesIncludeTax:b lastModifiedDateTime:t phoneNumber email"
    ),
    "customerPayments": (
        "id:g journalId:g journalDisplayName lineNumber:i customerId:g customerNumber "
        "postingDate:dt documentNumber externalDocumentNumber amount:d appliesToInvoiceId:g "
        "appliesToInvoiceNumber description comment lastModifiedDateTime:t"
    ),
    "customerPaymentJournals": (
        "id:g code displayName lastModifiedDateTime:t balancingAccountId:g balancingAccountNumber"
    ),
}
_LINES = {
    "salesOrderLines": (
        _LINE.replace("netAmount:d", "invoiceDiscountAllocation:d netAmount:d")
        + " shipmentDate:dt shippedQuantity:d invoicedQuantity:d invoiceQuantity:d shipQuantity:d"
    ),
    "salesQuoteLines": _LINE,
    "salesInvoiceLines": _LINE.replace("netAmount:d", "invoiceDiscountAllocation:d netAmount:d")
    + " shipmentDate:dt",
    "salesCreditMemoLines": _LINE.replace("netAmount:d", "invoiceDiscountAllocation:d netAmount:d")
    + " shipmentDate:dt",
    "salesShipmentLines": (
        "id:g documentId:g documentNo sequence:i lineType:o lineObjectNumber description "
        "description2 unitOfMeasureCode unitPrice:d quantity:d discountPercent:d taxPercent:d "
        "shipmentDate:dt"
    ),
}
HEADER_OF_LINES = {
    "salesOrderLines": "salesOrders",
    "salesQuoteLines": "salesQuotes",
    "salesInvoiceLines": "salesInvoices",
    "salesCreditMemoLines": "salesCreditMemos",
    "salesShipmentLines": "salesShipments",
}
POSTED = frozenset({"salesShipments", "salesShipmentLines"})
ACTIONS: dict[str, tuple[str, ...]] = {
    "salesOrders": ("shipAndInvoice",),
    "salesQuotes": ("makeInvoice", "makeOrder", "send"),
    "salesInvoices": (
        "cancel",
        "cancelAndSend",
        "makeCorrectiveCreditMemo",
        "post",
        "postAndSend",
        "send",
    ),
    "salesCreditMemos": ("cancel", "cancelAndSend", "post", "postAndSend", "send"),
}
"""Entity set -> its bound actions (``POST {set}({id})/Microsoft.NAV.<action>``, 204)."""


def _fields(text: str, read_only: set[str], entity: str) -> dict[str, FieldInfo]:
    out: dict[str, FieldInfo] = {}
    for item in text.split():
        name, _, code = item.partition(":")
        kind = _TYPES[code]
        target = HEADER_OF_LINES.get(entity) if name == "documentId" else _LOOKUPS.get(name)
        if target is not None:
            kind = FieldType.LOOKUP
        out[name] = FieldInfo(
            name,
            kind,
            read_only=name in read_only or entity in POSTED,
            max_length=_LENGTHS.get(name) if kind == FieldType.STRING else None,
            lookup_entity=target,
        )
    return out


def _info(entity: str, text: str, read_only: set[str], natural_key: str | None) -> EntityInfo:
    fields = _fields(text, read_only, entity)
    tracked = MODIFIED in fields
    return EntityInfo(
        name=entity,
        key="id",
        fields=fields,
        modified_field=MODIFIED if tracked else None,
        change_tracking=ChangeTracking.MODIFIED_SINCE if tracked else ChangeTracking.SNAPSHOT,
        client_ids=False,
        natural_key=natural_key,
        max_page_size=MAX_PAGE_SIZE,
        max_batch_size=MAX_BATCH_SIZE,
    )


DOCUMENT_ENTITIES: dict[str, EntityInfo] = {
    **{
        name: _info(
            name,
            text,
            _HEADER_RO | {"journalDisplayName"},
            {"customerPayments": None, "customerPaymentJournals": "code"}.get(name, "number"),
        )
        for name, text in _HEADERS.items()
    },
    **{name: _info(name, text, _LINE_RO, None) for name, text in _LINES.items()},
}
"""Entity set name -> description of the sales documents, their lines and payments."""
