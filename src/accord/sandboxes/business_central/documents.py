"""Business Central API v2.0 sales documents served by the sandbox: exactly the properties of
the v2.0 resource pages (salesOrder, salesQuote, salesShipment, salesInvoice, salesCreditMemo,
their lines, customerPayment and customerPaymentJournal), with their read-only flags, enums
and bound actions. Behaviour: :mod:`~accord.sandboxes.business_central.document_routes` and
:mod:`~accord.sandboxes.business_central.postings`.

[I] marks inferences: the pages give types, not lengths; lengths follow BC's table fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from accord.sandboxes.common.store import EntitySpec

SpecBuilder = Callable[..., EntitySpec]

_LENGTHS = {  # [I] BC table field lengths
    "number": 20,
    "externalDocumentNumber": 35,
    "customerNumber": 20,
    "billToCustomerNumber": 20,
    "customerName": 100,
    "billToName": 100,
    "shipToName": 100,
    "shipToContact": 100,
    "customerPurchaseOrderReference": 35,
    "orderNumber": 20,
    "invoiceNumber": 20,
    "documentNo": 20,
    "salesperson": 20,
    "currencyCode": 10,
    "paymentTermsCode": 10,
    "shipmentMethodCode": 10,
    "shortcutDimension1Code": 20,
    "shortcutDimension2Code": 20,
    "lineObjectNumber": 20,
    "description": 100,
    "description2": 50,
    "unitOfMeasureCode": 10,
    "taxCode": 20,
    "phoneNumber": 30,
    "email": 80,
    "disputeStatus": 50,
    "journalDisplayName": 10,
    "documentNumber": 20,
    "appliesToInvoiceNumber": 20,
    "comment": 250,
    "code": 10,
    "displayName": 100,
    "balancingAccountNumber": 20,
}
for _side in ("sellTo", "billTo", "shipTo"):
    _LENGTHS |= {
        f"{_side}AddressLine1": 100,
        f"{_side}AddressLine2": 50,
        f"{_side}City": 30,
        f"{_side}Country": 10,
        f"{_side}State": 30,
        f"{_side}PostCode": 20,
    }

_HEADER_RO = (
    "id customerName pricesIncludeTax discountAppliedBeforeTax totalAmountExcludingTax "
    "totalTaxAmount totalAmountIncludingTax fullyShipped status lastModifiedDateTime "
    "remainingAmount sentDate acceptedDate orderId orderNumber invoiceNumber"
)
_LINE_RO = (
    "id discountAppliedBeforeTax amountExcludingTax taxPercent totalTaxAmount amountIncludingTax "
    "invoiceDiscountAllocation netAmount netTaxAmount netAmountIncludingTax shippedQuantity "
    "invoicedQuantity"
)


def _fields(text: str, read_only: str) -> str:
    """Page properties (``name:type``) in the ``name:type:length:ro`` shorthand."""
    ro = set(read_only.split())
    out = []
    for item in text.split():
        name, _, ftype = item.partition(":")
        length = _LENGTHS.get(name, "") if ftype == "" else ""
        out.append(f"{name}:{ftype}:{length}:{'ro' if name in ro else ''}")
    return " ".join(out)


_PARTY = (
    "customerId:guid customerNumber customerName billToName billToCustomerId:guid "
    "billToCustomerNumber shipToName shipToContact sellToAddressLine1 sellToAddressLine2 "
    "sellToCity sellToCountry sellToState sellToPostCode billToAddressLine1 billToAddressLine2 "
    "billToCity billToCountry billToState billToPostCode shipToAddressLine1 shipToAddressLine2 "
    "shipToCity shipToCountry shipToState shipToPostCode"
)
_NO_SHIP_TO = " ".join(f for f in _PARTY.split() if not f.startswith("shipTo"))
_LINE_AMOUNTS = (
    "discountAmount:float discountPercent:float discountAppliedBeforeTax:bool "
    "amountExcludingTax:float taxCode taxPercent:float totalTaxAmount:float "
    "amountIncludingTax:float"
)
_LINE_HEAD = (
    "id:guid documentId:guid sequence:int itemId:guid accountId:guid lineType lineObjectNumber "
    "description description2 unitOfMeasureId:guid unitOfMeasureCode"
)
_NET = "netAmount:float netTaxAmount:float netAmountIncludingTax:float"

ORDER = (
    f"id:guid number externalDocumentNumber orderDate:date postingDate:date {_PARTY} "
    "shortcutDimension1Code shortcutDimension2Code currencyId:guid currencyCode "
    "pricesIncludeTax:bool paymentTermsId:guid shipmentMethodId:guid salesperson "
    "partialShipping:bool requestedDeliveryDate:date discountAmount:float "
    "discountAppliedBeforeTax:bool totalAmountExcludingTax:float totalTaxAmount:float "
    "totalAmountIncludingTax:float fullyShipped:bool status lastModifiedDateTime:datetime "
    "phoneNumber email"
)
ORDER_LINE = (
    f"{_LINE_HEAD} quantity:float unitPrice:float {_LINE_AMOUNTS} "
    f"invoiceDiscountAllocation:float {_NET} shipmentDate:date shippedQuantity:float "
    "invoicedQuantity:float invoiceQuantity:float shipQuantity:float itemVariantId:guid "
    "locationId:guid"
)
QUOTE = (
    "id:guid number externalDocumentNumber documentDate:date postingDate:date dueDate:date "
    f"{_PARTY} shortcutDimension1Code shortcutDimension2Code currencyId:guid currencyCode "
    "paymentTermsId:guid shipmentMethodId:guid salesperson discountAmount:float "
    "totalAmountExcludingTax:float totalTaxAmount:float totalAmountIncludingTax:float status "
    "sentDate:datetime validUntilDate:date acceptedDate:date lastModifiedDateTime:datetime "
    "phoneNumber email"
)
QUOTE_LINE = (
    f"{_LINE_HEAD} unitPrice:float quantity:float {_LINE_AMOUNTS} {_NET} itemVariantId:guid "
    "locationId:guid"
)
SHIPMENT = (
    "id:guid number externalDocumentNumber invoiceDate:date postingDate:date dueDate:date "
    "customerPurchaseOrderReference customerId:guid customerNumber customerName "
    "billToCustomerId:guid billToName billToCustomerNumber "
    + " ".join(_PARTY.split()[6:])
    + " currencyCode orderNumber paymentTermsCode shipmentMethodCode salesperson "
    "pricesIncludeTax:bool lastModifiedDateTime:datetime phoneNumber email"
)
SHIPMENT_LINE = (
    "id:guid documentId:guid documentNo sequence:int lineType lineObjectNumber description "
    "description2 unitOfMeasureCode unitPrice:float quantity:float discountPercent:float "
    "taxPercent:float shipmentDate:date"
)
INVOICE = (
    "id:guid number externalDocumentNumber invoiceDate:date postingDate:date dueDate:date "
    f"promisedPayDate:date customerPurchaseOrderReference {_PARTY} currencyId:guid "
    "shortcutDimension1Code shortcutDimension2Code currencyCode orderId:guid orderNumber "
    "paymentTermsId:guid shipmentMethodId:guid salesperson disputeStatusId:guid disputeStatus "
    "pricesIncludeTax:bool remainingAmount:float discountAmount:float "
    "discountAppliedBeforeTax:bool totalAmountExcludingTax:float totalTaxAmount:float "
    "totalAmountIncludingTax:float status lastModifiedDateTime:datetime phoneNumber email"
)
INVOICE_LINE = (
    f"{_LINE_HEAD} quantity:float unitPrice:float {_LINE_AMOUNTS} "
    f"invoiceDiscountAllocation:float {_NET} shipmentDate:date itemVariantId:guid "
    "locationId:guid"
)
CREDIT_MEMO = (
    "id:guid number externalDocumentNumber creditMemoDate:date postingDate:date dueDate:date "
    f"{_NO_SHIP_TO} shortcutDimension1Code shortcutDimension2Code currencyId:guid currencyCode "
    "paymentTermsId:guid shipmentMethodId:guid salesperson pricesIncludeTax:bool "
    "discountAmount:float discountAppliedBeforeTax:bool totalAmountExcludingTax:float "
    "totalTaxAmount:float totalAmountIncludingTax:float status lastModifiedDateTime:datetime "
    "invoiceId:guid invoiceNumber phoneNumber email customerReturnReasonId:guid"
)
CREDIT_MEMO_LINE = (
    f"{_LINE_HEAD} unitPrice:float quantity:float {_LINE_AMOUNTS} "
    f"invoiceDiscountAllocation:float {_NET} shipmentDate:date itemVariantId:guid "
    "locationId:guid"
)
PAYMENT = (
    "id:guid journalId:guid journalDisplayName lineNumber:int customerId:guid customerNumber "
    "postingDate:date documentNumber externalDocumentNumber amount:float appliesToInvoiceId:guid "
    "appliesToInvoiceNumber description comment lastModifiedDateTime:datetime"
)
PAYMENT_JOURNAL = (
    "id:guid code displayName lastModifiedDateTime:datetime balancingAccountId:guid "
    "balancingAccountNumber"
)

LINE_TYPES = ("Comment", "Account", "Item", "Resource", "Value", "Charge", "Fixed Asset")


@dataclass(frozen=True)
class DocumentKind:
    """A header entity set, its lines, and what the pages say about it."""

    header: str
    lines: str
    type_name: str
    """The document's name in messages (``Order``, ``Quote``, ...)."""
    actions: tuple[str, ...]
    editable: tuple[str, ...]
    """Statuses in which the document and its lines may change (not posted)."""
    number: tuple[str, int]
    """Number series (prefix, digits) of the unposted document."""


KINDS: dict[str, DocumentKind] = {
    "salesOrders": DocumentKind(
        "salesOrders",
        "salesOrderLines",
        "Order",
        ("shipAndInvoice",),
        ("Draft", "In Review", "Open"),
        ("S-ORD10", 4),
    ),
    "salesQuotes": DocumentKind(
        "salesQuotes",
        "salesQuoteLines",
        "Quote",
        ("makeInvoice", "makeOrder", "send"),
        ("Draft", "Sent", "Accepted", "Expired "),
        ("S-QUO10", 4),
    ),
    "salesInvoices": DocumentKind(
        "salesInvoices",
        "salesInvoiceLines",
        "Invoice",
        ("cancel", "cancelAndSend", "makeCorrectiveCreditMemo", "post", "postAndSend", "send"),
        ("Draft", "In Review"),
        ("S-INV10", 4),
    ),
    "salesCreditMemos": DocumentKind(
        "salesCreditMemos",
        "salesCreditMemoLines",
        "Credit Memo",
        ("cancel", "cancelAndSend", "post", "postAndSend", "send"),
        ("Draft", "In Review"),
        ("S-CR10", 4),
    ),
    "salesShipments": DocumentKind(
        "salesShipments", "salesShipmentLines", "Shipment", (), (), ("", 0)
    ),
}
LINES: dict[str, DocumentKind] = {k.lines: k for k in KINDS.values()}

ENUMS = {
    "salesOrders": ("Draft", "In Review", "Open"),
    "salesQuotes": ("Draft", "Sent", "Accepted", "Expired "),
    "salesInvoices": (" ", "Draft", "In Review", "Open", "Paid", "Canceled", "Corrective"),
    "salesCreditMemos": ("Draft", "In Review", "Open", "Canceled", "Corrective", "Paid"),
}


def document_specs(spec: SpecBuilder) -> tuple[EntitySpec, ...]:
    """The document entity sets, built with the sandbox's entity builder."""

    def header(name: str, type_name: str, fields: str, **extra: object) -> EntitySpec:
        enums = {"status": ENUMS[name]} if name in ENUMS else {}
        defaults = {"status": ENUMS[name][1 if name == "salesInvoices" else 0]} if enums else {}
        actions = KINDS[name].actions if name in KINDS else ()
        return spec(
            name,
            type_name,
            _fields(fields, _HEADER_RO),
            enums=enums,
            defaults=defaults,
            actions=actions,
            **extra,
        )

    def line(name: str, type_name: str, fields: str, **extra: object) -> EntitySpec:
        return spec(
            name,
            type_name,
            _fields(fields, _LINE_RO),
            enums={"lineType": LINE_TYPES},
            defaults={"lineType": "Item"},
            **extra,
        )

    return (
        header("salesOrders", "salesOrder", ORDER),
        line("salesOrderLines", "salesOrderLine", ORDER_LINE),
        header("salesQuotes", "salesQuote", QUOTE),
        line("salesQuoteLines", "salesQuoteLine", QUOTE_LINE),
        header("salesShipments", "salesShipment", SHIPMENT, read_only=True),
        line("salesShipmentLines", "salesShipmentLine", SHIPMENT_LINE, read_only=True),
        header("salesInvoices", "salesInvoice", INVOICE),
        line("salesInvoiceLines", "salesInvoiceLine", INVOICE_LINE),
        header("salesCreditMemos", "salesCreditMemo", CREDIT_MEMO),
        line("salesCreditMemoLines", "salesCreditMemoLine", CREDIT_MEMO_LINE),
        spec(
            "customerPaymentJournals",
            "customerPaymentJournal",
            _fields(PAYMENT_JOURNAL, "id lastModifiedDateTime"),
        ),
        spec(
            "customerPayments",
            "customerPayment",
            _fields(PAYMENT, "id lastModifiedDateTime journalDisplayName"),
        ),
    )
