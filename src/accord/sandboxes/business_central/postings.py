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

from accord.sandboxes.business_central import ledger
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
        self.post_order(company, kind, order, ship=True, invoice=True)

    def post_order(
        self, company: str, kind: DocumentKind, order: Row, *, ship: bool, invoice: bool
    ) -> tuple[Row | None, Row | None]:
        """Post an order's Qty. to Ship (``ship``) and Qty. to Invoice (``invoice``, at most
        what is shipped and not invoiced): a posted shipment and/or invoice; the order is
        deleted once every line is fully invoiced, as BC does."""
        lines = self.docs.lines(company, kind, order["id"])
        shipping = {
            line["id"]: Decimal(str(line["shipQuantity"])) if ship else Decimal(0) for line in lines
        }
        to_invoice = [
            (
                line,
                max(
                    min(
                        Decimal(str(line["invoiceQuantity"])),
                        self.shipped(line) + shipping[line["id"]] - self.invoiced(line),
                    ),
                    Decimal(0),
                )
                if invoice
                else Decimal(0),
            )
            for line in lines
        ]
        if not any(shipping.values()) and not any(quantity for _, quantity in to_invoice):
            raise dialog("There is nothing to post.")
        shipment = posted = None
        if any(shipping.values()):
            shipment = self.post_shipment(company, order, lines, shipping)
        if any(quantity for _, quantity in to_invoice):
            posted = self.post_order_invoice(company, order, to_invoice)
        invoiced_all = True
        for line, quantity in to_invoice:
            shipped = self.shipped(line) + shipping[line["id"]]
            invoiced = self.invoiced(line) + quantity
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
        return shipment, posted

    def post_shipment(
        self, company: str, order: Row, lines: list[Row], shipping: dict[str, Decimal]
    ) -> Row:
        today = self.store.clock.now().date().isoformat()
        shipment = self.posted_header(
            company, "salesShipments", order, {"orderNumber": order["number"]}
        )
        for line in lines:
            quantity = shipping[line["id"]]
            if line["lineType"] == "Comment" or quantity:
                self.store.insert_raw(
                    "salesShipmentLines",
                    {
                        **self.line_copy(line, "salesShipmentLines"),
                        "documentId": shipment["id"],
                        "documentNo": shipment["number"],
                        "quantity": quantity,
                        "shipmentDate": today,
                    },
                    company,
                )
                ledger.take_from_inventory(self.store, company, line, quantity)
        return shipment

    def post_order_invoice(
        self, company: str, order: Row, to_invoice: list[tuple[Row, Decimal]]
    ) -> Row:
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
        total = posted["totalAmountIncludingTax"]
        posted = (
            self.store.update_raw(
                "salesInvoices", invoice["id"], {"remainingAmount": total}, company
            )
            or posted
        )
        ledger.add_entry(self.store, company, "Invoice", posted, money(total))
        return posted

    @staticmethod
    def shipped(line: Row) -> Decimal:
        return Decimal(str(line["shippedQuantity"]))

    @staticmethod
    def invoiced(line: Row) -> Decimal:
        return Decimal(str(line["invoicedQuantity"]))

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
        posted = self.store.update_raw(kind.header, document["id"], values, company)
        assert posted is not None
        total = money(document["totalAmountIncludingTax"])
        if kind.header == "salesInvoices":
            ledger.add_entry(self.store, company, "Invoice", posted, total)
            return
        entry = ledger.add_entry(self.store, company, "Credit Memo", posted, -total)
        if document["invoiceId"] not in (None, ""):
            self.apply_credit(company, posted, entry)

    def apply_credit(self, company: str, memo: Row, entry: Row) -> None:
        invoice = self.store.get_raw("salesInvoices", memo["invoiceId"], company)
        if invoice is not None:
            total = money(memo["totalAmountIncludingTax"])
            ledger.apply_to_invoice(self.store, company, invoice, total, entry)

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
        memo = (
            self.store.update_raw(
                "salesCreditMemos",
                memo["id"],
                {
                    "number": self.docs.next_number("salesCreditMemos", prefix, width, company),
                    "status": "Corrective",
                },
                company,
            )
            or memo
        )
        total = money(memo["totalAmountIncludingTax"])
        entry = ledger.add_entry(self.store, company, "Credit Memo", memo, -total)
        self.store.update_raw(
            ledger.LEDGER, entry["id"], {"remainingAmount": 0, "open": False}, company
        )
        ledger.close_invoice_entry(self.store, company, invoice)
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
        """Post a customer payment journal: each line becomes a payment ledger entry applied
        to the invoice it names (Paid at zero remaining); the journal lines are removed."""
        posted: list[Row] = []
        with self.store.transaction():
            for payment in self.store.all("customerPayments", company):
                if journal_id and payment["journalId"] != journal_id:
                    continue
                amount = money(payment["amount"])
                entry = ledger.add_entry(
                    self.store,
                    company,
                    "Payment",
                    payment,
                    -amount,
                    description=payment["description"] or "",
                )
                invoice = self.store.get_raw(
                    "salesInvoices", payment["appliesToInvoiceId"] or "", company
                )
                if invoice is not None:
                    ledger.apply_to_invoice(self.store, company, invoice, amount, entry)
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
