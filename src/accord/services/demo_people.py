"""The people of the demo's lead-to-cash story: a salesperson in Dynamics 365 Sales and a
Business Central user, each acting through their system's API (the sandbox's) as their
app's buttons would: the requests ``ReviseQuote``, ``WinQuote``, ``ConvertQuoteToSalesOrder``;
Business Central's bound actions (release, ship, invoice; a payment journal's ``post``).
Nothing here writes Accord's state or a sandbox's store. Money goes as exact decimals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from accord import jsonwire
from accord.errors import AccordError
from accord.sandboxes import SandboxHandle
from accord.testing.sandbox import api_client

Row = dict[str, Any]
GROUP = "/api/accord/integration/v1.0"
"""Business Central's custom API group (docs/custom-api-group.md)."""


def money(value: Any) -> Decimal:
    """An amount or quantity as an exact decimal (a missing one is an error, not 0)."""
    if value is None or isinstance(value, bool | float):
        raise RefusedError(f"expected an exact amount or quantity, got {value!r}")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def qty(value: Any) -> str:
    """A quantity as a person writes it (``1.0`` -> ``1``)."""
    return format(money(value).normalize(), "f")


class RefusedError(AccordError):
    """A system refused what a person asked of it (its own message kept)."""


class Person:
    """One user's session with one system's API."""

    def __init__(self, handle: SandboxHandle) -> None:
        self.handle = handle
        self.http: httpx.Client = api_client(handle)

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, body: Row | None = None, **headers: str) -> Any:
        """One request; its JSON (decimals exact) or None; a refusal raises with its text."""
        content = None if body is None else jsonwire.dumps(body)
        if content is not None:
            headers = {"Content-Type": "application/json", **headers}
        resp = self.http.request(method, path, content=content, headers=headers)
        if resp.status_code >= 400:
            raise RefusedError(f"{method} {path} refused ({resp.status_code}): {resp.text}")
        return jsonwire.loads(resp.content) if resp.content else None

    def rows(self, path: str, where: str | None = None) -> list[Row]:
        query = "" if where is None else ("&" if "?" in path else "?") + f"$filter={where}"
        return list(self.call("GET", path + query)["value"])


class Salesperson(Person):
    """Dynamics 365 Sales (Dataverse Web API)."""

    def make_quote(self, name: str, account: str, lines: list[Row], valid_to: str) -> Row:
        """A Draft quote ``name`` with ``lines`` (product, quantity, price), then activated."""
        quote: Row = self.call(
            "POST",
            "quotes",
            {
                "name": name,
                "customerid_account@odata.bind": f"/accounts({account})",
                "effectiveto": valid_to,
            },
            Prefer="return=representation",
        )
        for number, line in enumerate(lines, start=1):
            self.call(
                "POST",
                "quotedetails",
                {
                    "quoteid@odata.bind": f"/quotes({quote['quoteid']})",
                    "productid@odata.bind": f"/products({line['product']})",
                    "quantity": line["quantity"],
                    "priceperunit": line["price"],
                    "sequencenumber": number,
                },
            )
        self.activate(quote["quoteid"])
        return quote

    def activate(self, quote: str) -> None:
        self.call("PATCH", f"quotes({quote})", {"statecode": 1, "statuscode": 2})

    def quote(self, quote: str) -> Row:
        return dict(self.call("GET", f"quotes({quote})"))

    def quote_lines(self, quote: str) -> list[Row]:
        found = self.rows("quotedetails", f"_quoteid_value eq {quote}")
        return sorted(found, key=lambda r: int(r["sequencenumber"] or 0))

    def revise(self, quote: str) -> Row:
        """ReviseQuote: the quote closes as Revised; its next revision is a Draft copy."""
        return dict(self.call("POST", "ReviseQuote", {"QuoteId": quote}))

    def change_line(self, line: str, values: Row) -> None:
        self.call("PATCH", f"quotedetails({line})", values)

    def win(self, quote: str) -> None:
        close = {"quoteid@odata.bind": f"/quotes({quote})", "subject": "Won"}
        self.call("POST", "WinQuote", {"QuoteClose": close, "Status": 4})

    def order_from(self, quote: str) -> Row:
        """ConvertQuoteToSalesOrder: the Sales order made from the won quote."""
        return dict(self.call("POST", "ConvertQuoteToSalesOrder", {"QuoteId": quote}))

    def submit(self, order: str) -> None:
        self.call("PATCH", f"salesorders({order})", {"statecode": 1})

    def order(self, order: str) -> Row:
        return dict(self.call("GET", f"salesorders({order})"))

    def posts(self, regarding: str) -> list[str]:
        found = self.rows("posts", f"_regardingobjectid_value eq {regarding}")
        return [str(p["text"]) for p in found]  # as Sales lists them

    def invoices(self, number: str) -> list[Row]:
        return self.rows("invoices", f"invoicenumber eq '{number}'")

    def invoice_lines(self, invoice: str) -> list[Row]:
        found = self.rows("invoicedetails", f"_invoiceid_value eq {invoice}")
        return sorted(found, key=lambda r: int(r["sequencenumber"] or 0))


class BcUser(Person):
    """Business Central: API v2.0 and the custom API group's bound actions (ADR 0022)."""

    def __init__(self, handle: SandboxHandle) -> None:
        super().__init__(handle)
        self.company = f"companies({handle.company_id})"
        self.group = handle.base_url.replace("/api/v2.0", GROUP) + f"/{self.company}"

    def v2(self, path: str) -> str:
        return f"{self.company}/{path}"

    def quotes(self, external: str) -> list[Row]:
        return self.rows(self.v2("salesQuotes"), f"externalDocumentNumber eq '{external}'")

    def quote_lines(self, quote: str) -> list[Row]:
        found = self.rows(self.v2(f"salesQuotes({quote})/salesQuoteLines"))
        return sorted(found, key=lambda r: int(r["sequence"]))

    def order(self, order: str) -> Row:
        return dict(self.call("GET", self.v2(f"salesOrders({order})")))

    def order_lines(self, order: str) -> list[Row]:
        found = self.rows(self.v2(f"salesOrders({order})/salesOrderLines"))
        return sorted(found, key=lambda r: int(r["sequence"]))

    def to_ship(self, line: str, quantity: Decimal) -> None:
        """Qty. to Ship of an order line (and as much to invoice, BC's default)."""
        values = {"shipQuantity": quantity, "invoiceQuantity": quantity}
        self.call("PATCH", self.v2(f"salesOrderLines({line})"), values, **{"If-Match": "*"})

    def act(self, page: str, key: str, action: str) -> None:
        """A bound action of the custom API group (``release``, ``ship``, ``invoice``...)."""
        self.call("POST", f"{self.group}/{page}({key})/Microsoft.NAV.{action}")

    def operations(self, order: str) -> Row:
        return dict(self.call("GET", f"{self.group}/salesOrderOperations({order})"))

    def shipments(self, order_number: str) -> list[Row]:
        found = self.rows(self.v2("salesShipments"), f"orderNumber eq '{order_number}'")
        return sorted(found, key=lambda r: str(r["number"]))

    def invoices(self, order_number: str) -> list[Row]:
        return self.rows(self.v2("salesInvoices"), f"orderNumber eq '{order_number}'")

    def invoice(self, invoice: str) -> Row:
        return dict(self.call("GET", self.v2(f"salesInvoices({invoice})")))

    def invoice_lines(self, invoice: str) -> list[Row]:
        found = self.rows(self.v2(f"salesInvoices({invoice})/salesInvoiceLines"))
        return sorted(found, key=lambda r: int(r["sequence"]))

    def pay(self, invoice_number: str, amount: Decimal) -> Row:
        """A customer payment applied to the invoice, its journal posted (``post``)."""
        line: Row = self.call(
            "POST",
            self.v2("customerPayments"),
            {"appliesToInvoiceNumber": invoice_number, "amount": amount},
        )
        self.act("customerPaymentJournalOperations", line["journalId"], "post")
        return line
