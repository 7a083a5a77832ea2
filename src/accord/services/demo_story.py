"""The demo's lead-to-cash story, after the master data: a quote in Sales becomes a BC quote,
is revised (the BC quote rebuilt, its previous version archived), won and made a Sales order
and the BC order; BC releases, ships (in two parts) and invoices it; Accord's status pass
posts each event on the Sales order's timeline and fulfils it; the posted invoice comes to
Sales and is set Paid once a payment is posted in BC.

People act through the sandboxes' APIs (:mod:`accord.services.demo_people`); Accord acts
through its services (:mod:`accord.services.documents`, :mod:`~.document_archives`), as
``accord quotes create-in-erp``, ``accord orders status`` and ``accord invoices sync`` do.
Each step checks what it expected; the first that fails ends the story (the later ones need
it), with the system's or Accord's own message."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from accord.documents.outcomes import DocumentRun, Outcome
from accord.errors import AccordError
from accord.services import document_archives, documents
from accord.services.demo import BC, DV, DemoWorld, coupled
from accord.services.demo_people import BcUser, Row, Salesperson, money, qty

SALES, ACCORD, ERP = "Sales", "Accord", "Business Central"
QUOTE, ORDER, INVOICE = "QUOTE", "SALES ORDER", "SALES INVOICE"
NAME = "DEMO-QUOTE-1"


class StoryError(AccordError):
    """A step did not end as the story needs (what happened instead is in the message)."""


@dataclass
class Step:
    number: int
    system: str
    title: str
    lines: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def say(self, text: str) -> None:
        self.lines.append(text)


@dataclass
class Story:
    steps: list[Step] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    planned: int = 0

    @property
    def ok(self) -> bool:
        return len(self.steps) == self.planned and all(s.ok for s in self.steps)


def one(run: DocumentRun, *expected: str) -> Outcome:
    """The run's one outcome, which must be one of ``expected``."""
    if len(run.outcomes) != 1 or run.outcomes[0].status not in expected:
        found = [(o.identity, o.status, *o.messages) for o in run.outcomes]
        raise StoryError(f"{run.mapping} ({run.kind}): expected {'/'.join(expected)}, got {found}")
    return run.outcomes[0]


def said(step: Step, run: DocumentRun) -> None:
    for o in run.outcomes:
        text = f"{run.mapping}{' status pass' if run.kind == 'status' else ''}: {o.status}"
        step.say(text + "".join(f"; {m}" for m in o.messages))


class LeadToCash:
    """The story's steps over a :class:`DemoWorld` whose master data is synchronized."""

    def __init__(self, world: DemoWorld) -> None:
        self.world, self.hub = world, world.hub
        self.story = Story()
        self.facts: dict[str, Any] = self.story.facts
        self.quote: dict[str, Any] = self.facts.setdefault("quote", {"name": NAME})
        self.order: dict[str, Any] = self.facts.setdefault("order", {})
        self.invoice: dict[str, Any] = self.facts.setdefault("invoice", {})
        self.sales = Salesperson(world.sandboxes[DV])
        self.bc = BcUser(world.sandboxes[BC])

    def plan(self) -> list[tuple[str, str, Callable[[Step], None]]]:
        return [
            (SALES, "A quote for a coupled account, with products", self.make_quote),
            (ACCORD, "quotes create-in-erp: the BC quote", self.take_quote),
            (SALES, "A new revision: quantity and price changed", self.revise),
            (ACCORD, "The BC quote rebuilt, its previous version archived", self.rebuild),
            (SALES, "The quote won; the Sales order made from it", self.win),
            (SALES, "The Sales order submitted", self.submit),
            (ACCORD, "The won quote made the BC order (makeOrder)", self.make_order),
            (ACCORD, "Order intake: the BC order is already there", self.intake),
            (ERP, "The order released, Qty. to Ship set", self.release),
            (ACCORD, "Status pass: the release on the Sales order", self.status_pass),
            (ERP, "A first shipment (part of the order)", self.ship),
            (ACCORD, "Status pass: the shipment on the Sales order", self.status_pass),
            (ERP, "The rest shipped", self.ship),
            (ACCORD, "Status pass: the second shipment on the Sales order", self.status_pass),
            (ERP, "The invoice posted", self.post_invoice),
            (ACCORD, "Status pass: the Sales order fulfilled and invoiced", self.finish_order),
            (ACCORD, "invoices sync: the posted invoice in Sales", self.take_invoice),
            (ERP, "A customer payment posted", self.pay),
            (ACCORD, "invoices sync: the Sales invoice paid", self.paid),
        ]

    def run(self, on_step: Callable[[Step], None] = lambda step: None) -> Story:
        """Each step in turn, told to ``on_step`` as it ends; stops at the first failure."""
        plan = self.plan()
        self.story.planned = len(plan)
        try:
            for number, (system, title, act) in enumerate(plan, start=1):
                step = Step(number, system, title)
                try:
                    act(step)
                except (AccordError, httpx.HTTPError) as exc:
                    step.error = str(exc)
                self.story.steps.append(step)
                on_step(step)
                if not step.ok:
                    break
        finally:
            self.sales.close()
            self.bc.close()
        return self.story

    # ------------------------------------------------------------------ the quote
    def make_quote(self, step: Step) -> None:
        taken = {ids[1] for ids in self.world.watch.values()}
        accounts = [a for _, a, _ in coupled(self.hub, "CUSTOMER", 20) if a not in taken]
        products = coupled(self.hub, "ITEM-PRODUCT", 2)
        if not accounts or len(products) < 2:
            raise StoryError("the story needs a coupled account and two coupled products")
        account = self.sales.call("GET", f"accounts({accounts[0]})")
        lines = [
            {"product": products[0][1], "quantity": Decimal(2), "price": Decimal("25.00")},
            {"product": products[1][1], "quantity": Decimal(1), "price": Decimal("40.00")},
        ]
        made = self.sales.make_quote(NAME, accounts[0], lines, "2027-01-31")
        self.quote.update(account=account["name"], sales_revisions=[made["quoteid"]])
        number = f" ({account['accountnumber']})" if account.get("accountnumber") else ""
        step.say(f"Quote {NAME} for account {account['name']}{number}, Active")
        self.quote_lines(step, made["quoteid"])

    def quote_lines(self, step: Step, quote: str) -> None:
        for line in self.sales.quote_lines(quote):
            product = self.sales.call("GET", f"products({line['_productid_value']})")
            step.say(
                f"  {qty(line['quantity'])} x {product['name']} at {money(line['priceperunit'])}"
            )
        total = self.sales.quote(quote).get("totalamount")
        if total is not None:
            step.say(f"  total {money(total)}")

    def take_quote(self, step: Step) -> None:
        run = documents.run(self.hub, QUOTE, [NAME])
        said(step, run)
        one(run, "created")
        [made] = self.bc.quotes(NAME)
        self.quote.update(bc_quote_id=made["id"], bc_quote_number=made["number"])
        step.say(
            f"BC quote {made['number']} (External Document No. {NAME}), valid until "
            f"{made['validUntilDate']}, total {money(made['totalAmountIncludingTax'])}"
        )
        self.bc_quote_lines(step, made["id"])

    def bc_quote_lines(self, step: Step, quote: str) -> None:
        for line in self.bc.quote_lines(quote):
            step.say(
                f"  {qty(line['quantity'])} x {line['lineObjectNumber']} "
                f"{line['description']} at {money(line['unitPrice'])}"
            )

    def revise(self, step: Step) -> None:
        [first] = self.quote["sales_revisions"]
        new = self.sales.revise(first)
        self.quote["sales_revisions"].append(new["quoteid"])
        one_line, two_line = self.sales.quote_lines(new["quoteid"])
        self.sales.change_line(one_line["quotedetailid"], {"quantity": Decimal(3)})
        self.sales.change_line(two_line["quotedetailid"], {"priceperunit": Decimal("37.50")})
        self.sales.activate(new["quoteid"])
        step.say(f"ReviseQuote: revision {new['revisionnumber']} (revision 0 closed as Revised)")
        step.say("Line 1: quantity 2 -> 3; line 2: price 40.00 -> 37.50; activated")
        self.quote_lines(step, new["quoteid"])

    def rebuild(self, step: Step) -> None:
        run = documents.run(self.hub, QUOTE, [NAME])
        said(step, run)
        done = one(run, "created")
        if done.target_id != self.quote["bc_quote_id"]:
            raise StoryError(f"the revision went to {done.target_id}, not the BC quote it had")
        archived = document_archives.archived_versions(self.hub, QUOTE, NAME)
        versions = [v.get("versionNumber") for v in archived.versions]
        self.quote.update(archived_versions=len(versions), archive_version_numbers=versions)
        step.say(
            f"BC quote {self.quote['bc_quote_number']} rebuilt in place; archived versions "
            f"(quotes history): {versions}"
        )
        self.bc_quote_lines(step, self.quote["bc_quote_id"])

    # ------------------------------------------------------------------ the order
    def win(self, step: Step) -> None:
        quote = self.quote["sales_revisions"][-1]
        self.sales.win(quote)
        order = self.sales.order_from(quote)
        self.order.update(sales_order_id=order["salesorderid"], name=order["name"])
        self.order["sales_order_number"] = order.get("ordernumber")
        step.say(f"WinQuote: quote {NAME} Won")
        step.say(
            f"ConvertQuoteToSalesOrder: Sales order {order.get('ordernumber')} "
            f"({order['name']}), total {money(order.get('totalamount'))}"
        )

    def make_order(self, step: Step) -> None:
        run = documents.run(self.hub, QUOTE, [NAME])
        said(step, run)
        done = one(run, "converted")
        order = self.bc.order(str(done.target_id))
        [coupling] = documents.history(self.hub, ORDER, self.order["sales_order_id"])
        self.order.update(
            bc_order_id=order["id"],
            bc_order_number=order["number"],
            coupled_bc_order_id=coupling.records.get("erp"),
        )
        gone = self.quote["bc_quote_number"]
        step.say(f"makeOrder: BC order {order['number']}; BC quote {gone} gone")
        step.say(
            f"SALES ORDER couples Sales order {self.order['sales_order_number']} to BC order "
            f"{order['number']} ({coupling.state})"
        )

    def submit(self, step: Step) -> None:
        self.sales.submit(self.order["sales_order_id"])
        step.say(f"Sales order {self.order['sales_order_number']} Submitted")

    def intake(self, step: Step) -> None:
        run = documents.run(self.hub, ORDER, [self.order["name"]])
        said(step, run)
        one(run, "already")
        orders = self.bc.rows(
            self.bc.v2("salesOrders"), f"externalDocumentNumber eq '{self.order['name']}'"
        )
        marked = self.sales.order(self.order["sales_order_id"]).get("lastbackofficesubmit")
        step.say(f"BC orders for {self.order['name']}: {[o['number'] for o in orders]}")
        step.say(f"Sales order marked as taken (Last Submitted to Back Office {marked})")
        if len(orders) != 1:
            raise StoryError(f"{len(orders)} BC orders for {self.order['name']}, not 1")

    # ------------------------------------------------------------------ in Business Central
    def release(self, step: Step) -> None:
        self.bc.act("salesOrderOperations", self.order["bc_order_id"], "release")
        status = self.bc.operations(self.order["bc_order_id"])["status"]
        step.say(f"salesOrderOperations/release: order {self.order['bc_order_number']} {status}")
        lines = self.bc.order_lines(self.order["bc_order_id"])
        for n, line in enumerate(lines):  # BC allows Qty. to Ship on a released order
            quantity = money(line["quantity"])
            part = (quantity // 2 or quantity) if n == 0 else Decimal(0)
            self.bc.to_ship(line["id"], part)
            step.say(f"Line {line['sequence']}: Qty. to Ship {qty(part)} of {qty(quantity)}")

    def ship(self, step: Step) -> None:
        self.bc.act("salesOrderOperations", self.order["bc_order_id"], "ship")
        shipments = self.bc.shipments(self.order["bc_order_number"])
        self.order["shipments"] = [s["number"] for s in shipments]
        step.say(f"salesOrderOperations/ship: posted shipment {shipments[-1]['number']}")
        for line in self.bc.order_lines(self.order["bc_order_id"]):
            step.say(
                f"  line {line['sequence']}: shipped {qty(line['shippedQuantity'])} "
                f"of {qty(line['quantity'])}"
            )

    def post_invoice(self, step: Step) -> None:
        self.bc.act("salesOrderOperations", self.order["bc_order_id"], "invoice")
        [posted] = self.bc.invoices(self.order["bc_order_number"])
        self.invoice.update(
            number=posted["number"],
            bc_invoice_id=posted["id"],
            bc_total=money(posted["totalAmountIncludingTax"]),
            bc_tax=money(posted["totalTaxAmount"]),
        )
        step.say(
            f"salesOrderOperations/invoice: posted invoice {posted['number']}, total "
            f"{self.invoice['bc_total']} (tax {self.invoice['bc_tax']}), status {posted['status']}"
        )
        step.say(f"Order {self.order['bc_order_number']} fully invoiced: BC deleted it")

    def status_pass(self, step: Step) -> None:
        run = documents.status(self.hub, ORDER, [self.order["name"]])
        said(step, run)
        one(run, "updated", "finished")
        self.timeline(step)

    def timeline(self, step: Step) -> None:
        posts = self.sales.posts(self.order["sales_order_id"])
        [history] = documents.history(self.hub, ORDER, self.order["sales_order_id"])
        events = Counter(
            e.name.removeprefix("posted:") for e in history.events if e.name.startswith("posted:")
        )
        new = [p for p in posts if p not in self.order.get("posts", [])]
        self.order.update(posts=posts, timeline=dict(events))
        for text in new:
            step.say(f"Posted on the Sales order's timeline: {text}")
        step.say(f"Timeline of Sales order {self.order['sales_order_number']}: {len(posts)} posts")

    def finish_order(self, step: Step) -> None:
        self.status_pass(step)
        again = documents.status(self.hub, ORDER, [self.order["name"]])
        step.say(f"Asked again: {[o.status for o in again.outcomes] or 'no longer followed'}")
        order = self.sales.order(self.order["sales_order_id"])
        state = {"statecode": order["statecode"], "statuscode": order["statuscode"]}
        self.order["sales_state"] = state
        step.say(
            f"Sales order: state {state['statecode']}, status {state['statuscode']} "
            f"(4/100003: Invoiced), fulfilled on {str(order.get('datefulfilled'))[:10]}"
        )
        if (state["statecode"], state["statuscode"]) != (4, 100003):
            raise StoryError(f"the Sales order is {state}, not Invoiced")

    # ------------------------------------------------------------------ the invoice
    def take_invoice(self, step: Step) -> None:
        runs = documents.run_and_follow(self.hub, INVOICE, [self.invoice["number"]])
        for run in runs:
            said(step, run)
        done = one(runs[0], "created")
        sales = self.sales.call("GET", f"invoices({done.target_id})")
        lines = self.sales.invoice_lines(str(done.target_id))
        self.invoice.update(
            sales_invoice_id=sales["invoiceid"],
            sales_order_id=sales.get("_salesorderid_value"),
            lines=len(lines),
            sales_total=money(sales["totalamount"]),
            sales_tax=money(sales["totaltax"]),
        )
        self.sales_invoice(step, sales)
        for line in lines:
            step.say(
                f"  {qty(line['quantity'])} x {line.get('productdescription') or '-'} at "
                f"{money(line['priceperunit'])}, tax {money(line['tax'])}"
            )
        if self.invoice["sales_total"] != self.invoice["bc_total"]:
            raise StoryError(
                f"Sales invoice total {self.invoice['sales_total']} differs from BC's "
                f"{self.invoice['bc_total']}"
            )

    def sales_invoice(self, step: Step, sales: Row) -> None:
        self.invoice["sales_state"] = {
            "statecode": sales["statecode"],
            "statuscode": sales["statuscode"],
        }
        self.invoice["paid"] = sales["statecode"] == 2
        tied = sales.get("_salesorderid_value") == self.order.get("sales_order_id")
        step.say(
            f"Sales invoice {sales['invoicenumber']}: total {money(sales['totalamount'])} "
            f"(tax {money(sales['totaltax'])}), state {sales['statecode']}, status "
            f"{sales['statuscode']}{', tied to the Sales order' if tied else ''}"
        )

    def pay(self, step: Step) -> None:
        before = self.bc.invoice(self.invoice["bc_invoice_id"])
        amount = money(before["remainingAmount"])
        line = self.bc.pay(self.invoice["number"], amount)
        after = self.bc.invoice(self.invoice["bc_invoice_id"])
        self.invoice.update(
            paid_amount=amount,
            bc_status=after["status"],
            bc_remaining=money(after["remainingAmount"]),
        )
        step.say(
            f"customerPayments: {amount} applied to invoice {self.invoice['number']} "
            f"(journal {line.get('journalDisplayName')}); journal posted"
        )
        step.say(f"BC invoice {after['status']}, remaining {self.invoice['bc_remaining']}")

    def paid(self, step: Step) -> None:
        runs = documents.run_and_follow(self.hub, INVOICE, [self.invoice["number"]])
        for run in runs:
            said(step, run)
        if len(runs) != 2:
            raise StoryError("the invoice's status pass did not run")
        one(runs[1], "updated")
        sales = self.sales.call("GET", f"invoices({self.invoice['sales_invoice_id']})")
        self.sales_invoice(step, sales)
        if not self.invoice["paid"]:
            raise StoryError(f"the Sales invoice is {self.invoice['sales_state']}, not Paid")
