"""Business Central bound actions on sales documents, and payment posting.

``shipAndInvoice`` posts a shipment and an invoice from an order (and deletes the order once
fully invoiced, as BC does); ``makeOrder``/``makeInvoice`` turn a quote into an order or a draft
invoice (the quote is deleted); ``post`` gives a draft invoice or credit memo its posted number
and status (same id); ``cancel`` cancels a posted, unpaid invoice with a corrective credit memo;
``makeCorrectiveCreditMemo`` drafts a credit memo from a posted invoice; ``send`` marks a quote
sent. Every action answers 204, as the pages say. API v2.0 has no action that posts a payment
journal: :meth:`Postings.post_payments` is what a user posting it in BC does (tests, demo).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from accord.sandboxes.business_central.document_lines import dialog, money
from accord.sandboxes.business_central.documents import KINDS, DocumentKind
from accord.sandboxes.business_central.protocol import error
from accord.sandboxes.common.http import Resp
from accord.sandboxes.common.odata import ODataError
from accord.sandboxes.common.store import Row

if TYPE_CHECKING:
    from accord.sandboxes.business_central.document_routes import BcDocuments

POSTED_SERIES = {
    "salesShipments": ("PS-SHPT10", 4),
    "salesInvoices": ("PS-INV10", 4),
    "salesCreditMemos": ("PS-CR10", 4),
}
_LINE_COPY = [
    "sequence",
    "itemId",
    "accountId",
    "lineType",
    "lineObjectNumber",
    "description",
    "description2",
    "unitOfMeasureId",
    "unitOfMeasureCode",
    "unitPrice",
    "discountPercent",
    "taxCode",
    "itemVariantId",
    "locationId",
]


class Postings:
    """The bound actions of one Business Central sandbox."""

    def __init__(self, documents: BcDocuments) -> None:
        self.docs = documents
        self.store = documents.store

    def run(self, action: str, company: str, kind: DocumentKind, header: Row) -> Resp:
        handler = {
            ("salesOrders", "shipAndInvoice"): self.ship_and_invoice,
            ("salesQuotes", "makeOrder"): self.make_order,
            ("salesQuotes", "makeInvoice"): self.make_invoice,
            ("salesQuotes", "send"): self.send_quote,
            ("salesInvoices", "post"): self.post,
            ("salesInvoices", "postAndSend"): self.post,
            ("salesInvoices", "send"): self.send_posted,
            ("salesInvoices", "cancel"): self.cancel_invoice,
            ("salesInvoices", "cancelAndSend"): self.cancel_invoice,
            ("salesInvoices", "makeCorrectiveCreditMemo"): self.corrective_credit_memo,
            ("salesCreditMemos", "post"): self.post,
            ("salesCreditMemos", "postAndSend"): self.post,
            ("salesCreditMemos", "send"): self.send_posted,
            ("salesCreditMemos", "cancel"): self.cancel_credit_memo,
            ("salesCreditMemos", "cancelAndSend"): self.cancel_credit_memo,
        }[(kind.header, action)]
        try:
            with self.store.transaction():
                handler(company, kind, header)
        except ODataError as exc:
            return error(exc.status, exc.code, exc.message)
        return Resp(204)

    # ------------------------------------------------------------------ orders
    def ship_and_invoice(self, company: str, kind: DocumentKind, order: Row) -> None:
        lines = self.docs.lines(company, kind, order["id"])
        real = [line for line in lines if line["lineType"] != "Comment"]
        if not any(line["shipQuantity"] or line["invoiceQuantity"] for line in real):
            raise dialog("There is nothing to post.")
        today = self.store.clock.now().date().isoformat()
        if any(line["shipQuantity"] for line in real):
            shipment = self.posted_header(
                company, "salesShipments", order, {"orderNumber": order["number"]}
            )
            for line in lines:
                if line["lineType"] == "Comment" or line["shipQuantity"]:
                    self.store.insert_raw(
                        "salesShipmentLines",
                        {
                            **self.line_copy(line, "salesShipmentLines"),
                            "documentId": shipment["id"],
                            "documentNo": shipment["number"],
                            "quantity": line["shipQuantity"],
                            "shipmentDate": today,
                        },
                        company,
                    )
        to_invoice = [
            (line, min(Decimal(str(line["invoiceQuantity"])), self.shipped_after(line)))
            for line in lines
        ]
        if any(quantity for _, quantity in to_invoice):
            invoice = self.posted_header(
                company,
                "salesInvoices",
                order,
                {"orderId": order["id"], "orderNumber": order["number"], "status": "Open"},
            )
            invoice_kind = KINDS["salesInvoices"]
            for line, quantity in to_invoice:
                if line["lineType"] == "Comment" or quantity:
                    copy = {**self.line_copy(line, "salesInvoiceLines"), "quantity": quantity}
                    copy["documentId"] = invoice["id"]
                    copy = self.docs.amounts(
                        invoice_kind, invoice, copy, company, taxable=bool(line["taxPercent"])
                    )
                    self.store.insert_raw("salesInvoiceLines", copy, company)
            posted = self.docs.totals(company, invoice_kind, invoice["id"])
            self.store.update_raw(
                "salesInvoices",
                invoice["id"],
                {"remainingAmount": posted["totalAmountIncludingTax"]},
                company,
            )
        invoiced_all = True
        for line, quantity in to_invoice:
            shipped = self.shipped_after(line)
            invoiced = Decimal(str(line["invoicedQuantity"])) + quantity
            ordered = Decimal(str(line["quantity"]))
            invoiced_all = invoiced_all and (line["lineType"] == "Comment" or invoiced >= ordered)
            self.store.update_raw(
                kind.lines,
                line["id"],
                {
                    "shippedQuantity": shipped,
                    "invoicedQuantity": invoiced,
                    "shipQuantity": ordered - shipped,
                    "invoiceQuantity": ordered - invoiced,
                },
                company,
            )
        if invoiced_all:  # BC deletes an order once it is fully shipped and invoiced
            for line in lines:
                self.store.delete_raw(kind.lines, line["id"], company)
            self.store.delete_raw(kind.header, order["id"], company)
        else:
            self.docs.totals(company, kind, order["id"])

    @staticmethod
    def shipped_after(line: Row) -> Decimal:
        return Decimal(str(line["shippedQuantity"])) + Decimal(str(line["shipQuantity"]))

    # ------------------------------------------------------------------ quotes
    def make_order(self, company: str, kind: DocumentKind, quote: Row) -> None:
        self.convert(company, kind, quote, KINDS["salesOrders"])

    def make_invoice(self, company: str, kind: DocumentKind, quote: Row) -> None:
        self.convert(company, kind, quote, KINDS["salesInvoices"])

    def convert(self, company: str, kind: DocumentKind, source: Row, into: DocumentKind) -> Row:
        """A new unposted document from ``source`` and its lines; ``source`` is deleted."""
        lines = self.docs.lines(company, kind, source["id"])
        if not lines:
            raise dialog("There is nothing to convert.")
        target = self.copy_header(company, source, into)
        for line in lines:
            body = {**self.line_copy(line, into.lines), "quantity": line["quantity"]}
            self.docs.add_line(company, into, target, body)
            self.store.delete_raw(kind.lines, line["id"], company)
        self.store.delete_raw(kind.header, source["id"], company)
        return self.docs.totals(company, into, target["id"])

    def send_quote(self, company: str, kind: DocumentKind, quote: Row) -> None:
        self.store.update_raw(
            kind.header,
            quote["id"],
            {"status": "Sent", "sentDate": self.store.now_text(self.store.specs[kind.header])},
            company,
        )

    # ------------------------------------------------------------------ invoices, credit memos
    def post(self, company: str, kind: DocumentKind, document: Row) -> None:
        if document["status"] not in kind.editable:
            raise dialog(f"{kind.type_name} {document['number']} is already posted.")
        lines = self.docs.lines(company, kind, document["id"])
        if not any(line["quantity"] for line in lines):
            raise dialog("There is nothing to post.")
        prefix, width = POSTED_SERIES[kind.header]
        today = self.store.clock.now().date().isoformat()
        values: Row = {
            "number": self.docs.next_number(kind.header, prefix, width, company),
            "status": "Open",
            "postingDate": today,
        }
        if kind.header == "salesInvoices":
            values["remainingAmount"] = document["totalAmountIncludingTax"]
        self.store.update_raw(kind.header, document["id"], values, company)
        if kind.header == "salesCreditMemos" and document["invoiceId"] not in (None, ""):
            self.apply_credit(company, document)

    def apply_credit(self, company: str, memo: Row) -> None:
        invoice = self.store.get_raw("salesInvoices", memo["invoiceId"], company)
        if invoice is None or invoice["status"] != "Open":
            return
        left = money(invoice["remainingAmount"]) - money(memo["totalAmountIncludingTax"])
        self.store.update_raw(
            "salesInvoices",
            invoice["id"],
            {"remainingAmount": max(left, Decimal(0)), "status": "Paid" if left <= 0 else "Open"},
            company,
        )

    def send_posted(self, company: str, kind: DocumentKind, document: Row) -> None:
        if document["status"] in kind.editable:
            raise dialog(f"{kind.type_name} {document['number']} must be posted before sending.")

    def cancel_invoice(self, company: str, kind: DocumentKind, invoice: Row) -> None:
        paid = money(invoice["remainingAmount"]) != money(invoice["totalAmountIncludingTax"])
        if invoice["status"] == "Paid" or (invoice["status"] == "Open" and paid):
            raise dialog(
                f"You cannot cancel the posted sales invoice {invoice['number']} because it is "
                "fully or partially paid."
            )
        if invoice["status"] != "Open":
            raise dialog(f"Only an open posted invoice can be canceled ({invoice['number']}).")
        memo = self.corrective_credit_memo(company, kind, invoice)
        prefix, width = POSTED_SERIES["salesCreditMemos"]
        self.store.update_raw(
            "salesCreditMemos",
            memo["id"],
            {
                "number": self.docs.next_number("salesCreditMemos", prefix, width, company),
                "status": "Corrective",
            },
            company,
        )
        self.store.update_raw(
            "salesInvoices", invoice["id"], {"status": "Canceled", "remainingAmount": 0}, company
        )

    def corrective_credit_memo(self, company: str, kind: DocumentKind, invoice: Row) -> Row:
        if invoice["status"] in kind.editable:
            raise dialog(f"Invoice {invoice['number']} is not posted.")
        memo_kind = KINDS["salesCreditMemos"]
        memo = self.copy_header(
            company,
            invoice,
            memo_kind,
            {"invoiceId": invoice["id"], "invoiceNumber": invoice["number"]},
        )
        for line in self.docs.lines(company, kind, invoice["id"]):
            body = {**self.line_copy(line, memo_kind.lines), "quantity": line["quantity"]}
            self.docs.add_line(company, memo_kind, memo, body)
        return self.docs.totals(company, memo_kind, memo["id"])

    def cancel_credit_memo(self, company: str, kind: DocumentKind, memo: Row) -> None:
        if memo["status"] != "Open":
            raise dialog(f"Only an open posted credit memo can be canceled ({memo['number']}).")
        self.store.update_raw(kind.header, memo["id"], {"status": "Canceled"}, company)

    # ------------------------------------------------------------------ payments
    def post_payments(self, company: str, journal_id: str | None = None) -> list[Row]:
        """Post a customer payment journal as a BC user would: each line's amount reduces
        the invoice it applies to (Paid at zero); the journal lines are removed."""
        posted: list[Row] = []
        with self.store.transaction():
            for payment in self.store.all("customerPayments", company):
                if journal_id and payment["journalId"] != journal_id:
                    continue
                invoice = self.store.get_raw(
                    "salesInvoices", payment["appliesToInvoiceId"] or "", company
                )
                if invoice is not None and invoice["status"] == "Open":
                    left = money(invoice["remainingAmount"]) - money(payment["amount"])
                    self.store.update_raw(
                        "salesInvoices",
                        invoice["id"],
                        {
                            "remainingAmount": max(left, Decimal(0)),
                            "status": "Paid" if left <= 0 else "Open",
                        },
                        company,
                    )
                self.store.delete_raw("customerPayments", payment["id"], company)
                posted.append(payment)
        return posted

    # ------------------------------------------------------------------ copying
    def posted_header(self, company: str, entity: str, source: Row, extra: Row) -> Row:
        prefix, width = POSTED_SERIES[entity]
        spec = self.store.specs[entity]
        today = self.store.clock.now().date().isoformat()
        values = {k: v for k, v in source.items() if k in spec.field_map and k != "id"}
        values |= {
            "number": self.docs.next_number(entity, prefix, width, company),
            "postingDate": today,
            **extra,
        }
        for name in ("invoiceDate", "dueDate"):
            if name in spec.field_map:
                values[name] = today
        return self.store.insert_raw(entity, values, company)

    def copy_header(
        self, company: str, source: Row, into: DocumentKind, extra: Row | None = None
    ) -> Row:
        spec = self.store.specs[into.header]
        skip = {"id", "number", "status", "lastModifiedDateTime", "postingDate", "dueDate"}
        values = {k: v for k, v in source.items() if k in spec.field_map and k not in skip}
        values |= extra or {}
        for name in ("orderDate", "invoiceDate", "creditMemoDate", "documentDate"):
            values.pop(name, None)
        return self.docs.new_header(company, into, values)

    def line_copy(self, line: Row, entity: str) -> Row:
        fields = self.store.specs[entity].field_map
        return {k: line[k] for k in _LINE_COPY if k in fields and k in line}
