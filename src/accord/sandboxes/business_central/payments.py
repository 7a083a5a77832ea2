"""Business Central customer payments: journal lines in a customer payment journal.

A company starts with one journal (``GENERAL``). A payment line gets its journal, line number,
customer and applied invoice resolved from ids or numbers, like the page does; posting the
journal is not in API v2.0 (:meth:`~accord.sandboxes.business_central.postings.Postings.
post_payments` plays the user who posts it).
"""

from __future__ import annotations

import uuid

from accord.sandboxes.business_central.document_lines import dialog
from accord.sandboxes.business_central.document_routes import BcDocuments, rows_where
from accord.sandboxes.business_central.entities import ZERO_GUID
from accord.sandboxes.business_central.protocol import coerce_body
from accord.sandboxes.common.http import Req, Resp
from accord.sandboxes.common.store import Row

JOURNAL = "GENERAL"


def seed_journals(docs: BcDocuments) -> None:
    """One default payment journal per company (ids derived from the company's)."""
    store = docs.store
    for company in store.all("companies"):
        if store.find_raw("customerPaymentJournals", {"code": JOURNAL}, company["id"]):
            continue
        store.insert_raw(
            "customerPaymentJournals",
            {
                "id": str(uuid.uuid5(uuid.UUID(company["id"]), "payment-journal")),
                "code": JOURNAL,
                "displayName": "Default Journal",
            },
            company["id"],
        )


def create_payment(docs: BcDocuments, req: Req, company: str) -> Resp:
    """POST customerPayments: resolve journal, customer and invoice; number the line."""
    store = docs.store
    spec = store.specs["customerPayments"]
    values = coerce_body(spec, req.json(), docs.res.options, creating=True)
    journal = _journal(docs, company, values)
    values["journalId"], values["journalDisplayName"] = journal["id"], journal["code"]
    customer = _by_id_or_number(docs, company, "customers", values, "customer", "Customer")
    if customer is not None:
        values["customerId"], values["customerNumber"] = customer["id"], customer["number"]
    invoice = _by_id_or_number(
        docs, company, "salesInvoices", values, "appliesToInvoice", "Sales Invoice Header"
    )
    if invoice is not None:
        if invoice["status"] in ("Draft", "In Review"):
            raise dialog(
                f"Invoice {invoice['number']} is not posted; a payment cannot apply to it."
            )
        values["appliesToInvoiceId"] = invoice["id"]
        values["appliesToInvoiceNumber"] = invoice["number"]
        if customer is None:
            values["customerId"] = invoice["customerId"]
            values["customerNumber"] = invoice["customerNumber"]
    if not values.get("lineNumber"):
        lines = rows_where(store, "customerPayments", "journalId", journal["id"], company, "id")
        values["lineNumber"] = max((int(r["lineNumber"]) for r in lines), default=0) + 10000
    if values.get("postingDate", "0001-01-01") == "0001-01-01":
        values["postingDate"] = store.clock.now().date().isoformat()
    store.check_rejects(spec.name, values)
    row = store.insert_raw("customerPayments", values, company)
    return docs.reply(req, company, spec, row, 201)


def _journal(docs: BcDocuments, company: str, values: Row) -> Row:
    store = docs.store
    jid, code = values.get("journalId"), values.get("journalDisplayName")
    if jid and jid != ZERO_GUID:
        row = store.get_raw("customerPaymentJournals", jid, company)
        if row is None:
            raise dialog(f"The journal with id '{jid}' does not exist.")
        return row
    found = store.find_raw("customerPaymentJournals", {"code": code or JOURNAL}, company)
    if not found:
        raise dialog(f"The journal '{code or JOURNAL}' does not exist.")
    return found[0]


def _by_id_or_number(
    docs: BcDocuments, company: str, entity: str, values: Row, prefix: str, caption: str
) -> Row | None:
    rid, number = values.get(f"{prefix}Id"), values.get(f"{prefix}Number")
    if rid and rid != ZERO_GUID:
        row = docs.store.get_raw(entity, rid, company)
        if row is None:
            raise dialog(
                f"The {caption} does not exist. Identification fields and values: Id='{rid}'"
            )
        return row
    if number:
        found = docs.store.find_raw(entity, {"number": number}, company)
        if not found:
            raise dialog(
                f"The {caption} does not exist. Identification fields and values: No.='{number}'"
            )
        return found[0]
    return None
