"""Sample sales documents for the Dataverse sandbox: quotes (one active), orders (one
submitted and waiting for the back office, one active), an invoice and a timeline post. Ids
are derived from the account's, so every build has the same documents."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

from accord.sandboxes.common.store import Row
from accord.sandboxes.dataverse.documents import DOCUMENTS

if TYPE_CHECKING:
    from accord.sandboxes.dataverse.document_rules import DvDocuments

SAMPLES = (  # (entity set, label, statecode, statuscode)
    ("quotes", "quote-draft", 0, 1),
    ("quotes", "quote-active", 1, 2),
    ("salesorders", "order-submitted", 1, 3),
    ("salesorders", "order-active", 0, 1),
    ("invoices", "invoice-active", 0, 1),
)


def seed_documents(docs: DvDocuments) -> None:
    """Create the sample documents once (nothing without accounts and products)."""
    store = docs.store
    if store.count("salesorders") or store.count("quotes"):
        return
    accounts, products = store.all("accounts")[:2], store.all("products")[:2]
    users = store.all("systemusers")[:1]
    if not accounts or not products or not users:
        return
    base = uuid.UUID(accounts[0]["accountid"])
    owner = users[0]["systemuserid"]
    stamp = {"_ownerid_value": owner, "_createdby_value": owner, "_modifiedby_value": owner}
    with store.transaction():
        for number, (entity, label, state, status) in enumerate(SAMPLES):
            doc = DOCUMENTS[entity]
            spec = store.specs[entity]
            header: Row = {
                spec.key: str(uuid.uuid5(base, label)),
                "name": f"Sample {label}",
                "_customerid_value": accounts[number % len(accounts)]["accountid"],
                doc.model.number_field: docs.next_number(doc),
                "statecode": state,
                "statuscode": status,
                **stamp,
            }
            store.insert_raw(entity, header)
            detail = store.specs[doc.details]
            for position, product in enumerate(products):
                quantity, price = Decimal(position + 1), Decimal(str(product["price"] or 0))
                base_amount = (quantity * price).quantize(Decimal("0.01"))
                store.insert_raw(
                    doc.details,
                    {
                        detail.key: str(uuid.uuid5(base, f"{label}-{position}")),
                        doc.parent_column: header[spec.key],
                        "_productid_value": product["productid"],
                        "isproductoverridden": False,
                        "quantity": quantity,
                        "priceperunit": price,
                        "baseamount": base_amount,
                        "extendedamount": base_amount,
                        "sequencenumber": position + 1,
                        **stamp,
                    },
                )
            docs.totals(doc, header[spec.key])
        store.insert_raw(
            "posts",
            {
                "postid": str(uuid.uuid5(base, "post-0")),
                "text": "The order status has changed to Released.",
                "_regardingobjectid_value": str(uuid.uuid5(base, "order-submitted")),
                "source": 1,
                "type": 7,
                "_createdby_value": owner,
                "_modifiedby_value": owner,
            },
        )
