"""The custom API group's operations pages and their bound actions
(``POST …/salesOrderOperations({id})/Microsoft.NAV.release``), as the extension's AL pages
call the base app: Release/Reopen Sales Document, Sales-Post with Ship or Invoice, Archive
Management's ``StoreSalesDocument``, and Gen. Jnl.-Post for a customer payment journal.

The pages' rows follow their v2.0 documents (``id`` = the document's id): they are brought up
to date before each request, like the computed pages of :mod:`.availability`."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa

from accord.sandboxes.business_central.availability import keep_rows
from accord.sandboxes.business_central.custom_documents import ARCHIVES, OPERATIONS
from accord.sandboxes.business_central.document_lines import dialog
from accord.sandboxes.business_central.documents import KINDS, DocumentKind
from accord.sandboxes.business_central.protocol import error
from accord.sandboxes.common.http import Resp
from accord.sandboxes.common.odata import GUID_RE, ODataError
from accord.sandboxes.common.store import COMPANY, Row, Store

if TYPE_CHECKING:
    from accord.sandboxes.business_central.document_routes import BcDocuments

_FROM_DOCUMENT = ("number", "externalDocumentNumber", "customerNumber")
_ARCHIVED = (
    "externalDocumentNumber",
    "customerId",
    "customerNumber",
    "customerName",
    "currencyCode",
    "totalAmountExcludingTax",
    "totalAmountIncludingTax",
    "validUntilDate",
)
_ARCHIVED_LINE = (
    "sequence",
    "lineType",
    "lineObjectNumber",
    "description",
    "description2",
    "unitOfMeasureCode",
    "quantity",
    "unitPrice",
    "discountPercent",
    "amountExcludingTax",
    "amountIncludingTax",
    "shippedQuantity",
    "invoicedQuantity",
)


class Operations:
    """Operations pages of one Business Central sandbox (over its v2.0 documents)."""

    def __init__(self, store: Store, documents: BcDocuments) -> None:
        self.store = store
        self.docs = documents

    def seed(self) -> None:
        """One archived version of each company's first quote and order (when it has any
        and nothing is archived yet), so every page has rows from the start."""
        for company in self.store.all("companies"):
            cid = str(company["id"])
            for page in ("salesQuoteOperations", "salesOrderOperations"):
                source = OPERATIONS[page][0]
                documents = self.store.all(source, cid)
                if documents and not self.store.count(ARCHIVES[source][0], cid):
                    self.refresh(cid, page)
                    self.archive(cid, page, documents[0])

    # ------------------------------------------------------------------ rows
    def refresh(self, company: str, page: str, key: str | None = None) -> None:
        """Bring ``page``'s rows (or the row ``key``) up to date with the documents they stand
        for (what only the actions set — status, last numbers, archived version — is kept)."""
        source = OPERATIONS[page][0]
        if key is None:
            documents = self.store.all(source, company)
        else:
            found = self.store.get_raw(source, key, company)
            documents = [found] if found is not None else []
        rows = [{"id": d["id"], **self._values(company, page, d)} for d in documents]
        keep_rows(self.store, page, company, rows, only=key)

    def _values(self, company: str, page: str, document: Row) -> Row:
        if page == "customerPaymentJournalOperations":
            lines = [
                p
                for p in self.store.all("customerPayments", company)
                if p["journalId"] == document["id"]
            ]
            return {
                "code": document["code"],
                "displayName": document["displayName"],
                "lineCount": len(lines),
                "totalAmount": sum((Decimal(str(p["amount"])) for p in lines), Decimal(0)),
            }
        values = {k: document[k] for k in _FROM_DOCUMENT}
        if page == "salesOrderOperations":
            values["completelyShipped"] = bool(document["fullyShipped"])
        return values

    def _set(self, company: str, page: str, key: str, values: Row) -> Row:
        spec = self.store.specs[page]
        stamped = {**values, "lastModifiedDateTime": self.store.now_text(spec)}
        row = self.store.update_raw(page, key, stamped, company)
        assert row is not None
        return row

    # ------------------------------------------------------------------ actions
    def run(self, company: str, page: str, key: str | None, action: str, method: str) -> Resp:
        """``POST {page}({key})/Microsoft.NAV.{action}``: 204, or BC's error."""
        source, actions = OPERATIONS[page]
        if key is None or not GUID_RE.match(key):
            return error(400, "BadRequest", f"A key is needed to call '{action}' on '{page}'.")
        if action not in actions or method != "POST":
            return error(
                400,
                "BadRequest_MethodNotFound",
                f"The action '{action}' is not bound to '{page}' for {method}.",
            )
        key = key.lower()
        document = self.store.get_raw(source, key, company)
        if document is None:
            return error(
                404,
                "Internal_RecordNotFound",
                f"The {self.store.specs[page].type_name} does not exist. Identification fields "
                f"and values: Id='{key}'",
            )
        handlers: dict[str, Callable[[str, str, Row], None]] = {
            "release": self.release,
            "reopen": self.reopen,
            "ship": self.ship,
            "invoice": self.invoice,
            "archive": self.archive,
            "post": self.post_journal,
        }
        try:
            with self.store.transaction():
                handlers[action](company, page, document)
        except ODataError as exc:
            return error(exc.status, exc.code, exc.message)
        return Resp(204)

    def _kind(self, page: str) -> DocumentKind:
        return KINDS[OPERATIONS[page][0]]

    def release(self, company: str, page: str, document: Row) -> None:
        """Release Sales Document: a document without a line with quantity cannot be
        released; releasing a released one does nothing."""
        kind = self._kind(page)
        if not any(line["quantity"] for line in self.docs.lines(company, kind, document["id"])):
            raise dialog(
                f"There is nothing to release for the document of type {kind.type_name} with "
                f"the number {document['number']}."
            )
        self._set(company, page, document["id"], {"status": "Released"})

    def reopen(self, company: str, page: str, document: Row) -> None:
        self._set(company, page, document["id"], {"status": "Open"})

    def ship(self, company: str, page: str, document: Row) -> None:
        self._post(company, page, document, ship=True)

    def invoice(self, company: str, page: str, document: Row) -> None:
        self._post(company, page, document, ship=False)

    def _post(self, company: str, page: str, order: Row, *, ship: bool) -> None:
        """Sales-Post releases the order first, then posts what the lines say to ship (or to
        invoice); the order is gone once fully invoiced."""
        self.release(company, page, order)
        shipment, invoice = self.docs.postings.post_order(
            company, self._kind(page), order, ship=ship, invoice=not ship
        )
        if self.store.get_raw("salesOrders", order["id"], company) is None:
            self.store.delete_raw(page, order["id"], company)
            return
        numbers = {
            "lastShipmentNumber": shipment["number"] if shipment else None,
            "lastInvoiceNumber": invoice["number"] if invoice else None,
        }
        self._set(company, page, order["id"], {k: v for k, v in numbers.items() if v})

    def archive(self, company: str, page: str, document: Row) -> None:
        """Store a new version of the document and its lines in the archive."""
        kind = self._kind(page)
        headers, lines = ARCHIVES[kind.header]
        t = self.store.table(headers)
        top = self.store.scalar(
            sa.select(sa.func.max(t.c.versionNumber)).where(
                t.c[COMPANY] == company, t.c.number == document["number"]
            )
        )
        version = int(top or 0) + 1
        operation = self.store.get_raw(page, document["id"], company)
        spec = self.store.specs[headers]
        values: Row = {k: document[k] for k in _ARCHIVED if k in spec.field_map}
        values |= {
            "documentId": document["id"],
            "number": document["number"],
            "versionNumber": version,
            "documentDate": document.get("orderDate") or document.get("documentDate"),
            "status": operation["status"] if operation else "Open",
            "archivedDateTime": self.store.now_text(spec),
        }
        archived = self.store.insert_raw(headers, values, company)
        line_spec = self.store.specs[lines]
        for line in self.docs.lines(company, kind, document["id"]):
            copy = {k: line[k] for k in _ARCHIVED_LINE if k in line_spec.field_map and k in line}
            copy |= {
                "documentId": archived["id"],
                "documentNumber": document["number"],
                "versionNumber": version,
            }
            self.store.insert_raw(lines, copy, company)
        self._set(company, page, document["id"], {"lastArchivedVersion": version})

    def post_journal(self, company: str, page: str, journal: Row) -> None:
        if not self.docs.postings.post_payments(company, journal["id"]):
            raise dialog("There is nothing to post.")
        self.refresh(company, page, journal["id"])
