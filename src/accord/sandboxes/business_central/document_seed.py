"""Sample sales documents for the Business Central sandbox's default company, made through
the same rules as API writes: open orders, one shipped and invoiced (a posted shipment and
invoice), a quote, a draft credit memo and a payment journal line. Ids are derived from the
company's, so every build has the same documents."""

from __future__ import annotations

import uuid
from decimal import Decimal

from accord.sandboxes.business_central.document_routes import BcDocuments
from accord.sandboxes.business_central.documents import KINDS

ORDERS = 3


def seed_documents(docs: BcDocuments) -> None:
    """Create the sample documents once (nothing when the company has no items)."""
    store = docs.store
    company = store.default_company
    if company is None or store.count("salesOrders", company) or store.count("salesShipments"):
        return
    base = uuid.UUID(company)
    customers = [c for c in store.all("customers", company) if c["blocked"] == " "][:2]
    items = [i for i in store.all("items", company) if not i["blocked"]][:3]
    if not customers or not items:
        return

    def ident(label: str) -> str:
        return str(uuid.uuid5(base, label))

    def make(entity: str, label: str, number: int) -> dict[str, object]:
        kind = KINDS[entity]
        customer = customers[number % len(customers)]
        with store.transaction():
            header = docs.new_header(
                company,
                kind,
                {
                    "id": ident(label),
                    "customerId": customer["id"],
                    "externalDocumentNumber": f"SEED-{label.upper()}",
                },
            )
            for position, item in enumerate(items[: 2 + number % 2]):
                docs.add_line(
                    company,
                    kind,
                    header,
                    {
                        "id": ident(f"{label}-line-{position}"),
                        "itemId": item["id"],
                        "quantity": Decimal(position + 1),
                    },
                )
            docs.add_line(
                company,
                kind,
                header,
                {"id": ident(f"{label}-note"), "lineType": "Comment", "description": label},
            )
            return docs.totals(company, kind, header["id"])

    orders = [make("salesOrders", f"order-{n}", n) for n in range(ORDERS)]
    make("salesQuotes", "quote-0", 0)
    make("salesCreditMemos", "credit-memo-0", 1)
    with store.transaction():
        docs.postings.ship_and_invoice(company, KINDS["salesOrders"], orders[0])
    invoice = store.find_raw("salesInvoices", {"orderNumber": orders[0]["number"]}, company)[0]
    journal = store.find_raw("customerPaymentJournals", {"code": "GENERAL"}, company)[0]
    store.insert_raw(
        "customerPayments",
        {
            "id": ident("payment-0"),
            "journalId": journal["id"],
            "journalDisplayName": journal["code"],
            "lineNumber": 10000,
            "customerId": invoice["customerId"],
            "customerNumber": invoice["customerNumber"],
            "postingDate": store.clock.now().date().isoformat(),
            "amount": Decimal(str(invoice["remainingAmount"])) / 2,
            "appliesToInvoiceId": invoice["id"],
            "appliesToInvoiceNumber": invoice["number"],
        },
        company,
    )
