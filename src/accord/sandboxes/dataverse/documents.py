"""Dataverse sales documents served by the sandbox: quote, salesorder and invoice with their
detail lines, and post (the timeline), with each table's state model.

A document's state is its own business: it is created in its first state, field changes are
accepted only in its editable state ("Cannot Update a Read-Only Entity"), some transitions
are an Update of ``statecode``/``statuscode`` and others need their request (WinQuote,
CloseQuote, ReviseQuote, FulfillSalesOrder, CancelSalesOrder). Rules:
:mod:`~accord.sandboxes.dataverse.document_rules`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accord.sandboxes.common.store import EntitySpec


@dataclass(frozen=True)
class StateModel:
    """One document table's states: ``statecode -> (statuscodes, default)``, the editable
    state, transitions allowed by Update, and the request each other transition needs."""

    states: dict[int, tuple[tuple[int, ...], int]]
    editable: int
    by_update: frozenset[tuple[int, int]]
    by_request: dict[int, str]
    """Target statecode -> the request that reaches it."""
    number_field: str
    number_prefix: str

    def valid_status(self, state: int, status: int | None) -> int | None:
        """``status`` (or the state's default) when it belongs to ``state``, else None."""
        codes, default = self.states[state]
        if status is None:
            return default
        return status if status in codes else None


QUOTE = StateModel(
    states={0: ((1,), 1), 1: ((2, 3), 2), 2: ((4,), 4), 3: ((5, 6, 7), 5)},
    editable=0,
    by_update=frozenset({(0, 1), (1, 0), (2, 0)}),
    by_request={2: "WinQuote", 3: "CloseQuote"},
    number_field="quotenumber",
    number_prefix="QUO",
)
ORDER = StateModel(
    states={
        0: ((1, 2), 1),
        1: ((3,), 3),
        2: ((4,), 4),
        3: ((100001, 100002), 100001),
        4: ((100003,), 100003),
    },
    editable=0,
    by_update=frozenset({(0, 1), (1, 0), (1, 4), (3, 4)}),
    by_request={2: "CancelSalesOrder", 3: "FulfillSalesOrder"},
    number_field="ordernumber",
    number_prefix="ORD",
)
INVOICE = StateModel(
    states={
        0: ((1, 2, 4, 5, 6), 1),
        1: ((3, 7), 7),
        2: ((100001, 100002), 100001),
        3: ((100003,), 100003),
    },
    editable=0,
    by_update=frozenset({(0, 2), (0, 3), (2, 2)}),
    by_request={},
    number_field="invoicenumber",
    number_prefix="INV",
)


@dataclass(frozen=True)
class Document:
    """A header table, its detail table and the lookup that ties a detail to its header."""

    header: str
    details: str
    parent_column: str
    parent_nav: str
    model: StateModel
    collection: str
    """The header's collection-valued navigation property to its details."""


DOCUMENTS: dict[str, Document] = {
    "quotes": Document(
        "quotes", "quotedetails", "_quoteid_value", "quoteid", QUOTE, "quote_details"
    ),
    "salesorders": Document(
        "salesorders",
        "salesorderdetails",
        "_salesorderid_value",
        "salesorderid",
        ORDER,
        "order_details",
    ),
    "invoices": Document(
        "invoices", "invoicedetails", "_invoiceid_value", "invoiceid", INVOICE, "invoice_details"
    ),
}
DETAILS: dict[str, Document] = {d.details: d for d in DOCUMENTS.values()}

_STD = (
    "statecode:int statuscode:int _ownerid_value:guid _createdby_value:guid "
    "_modifiedby_value:guid createdon:datetime modifiedon:datetime"
)
_HEADER = (
    "name::300 description::2000 _customerid_value:guid _transactioncurrencyid_value:guid "
    "_pricelevelid_value:guid requestdeliveryby:date freightamount:float "
    "discountpercentage:float discountamount:float totallineitemamount:float "
    "totaldiscountamount:float totalamountlessfreight:float totaltax:float totalamount:float "
    "billto_line1::250 billto_city::80 billto_postalcode::20 billto_country::80 "
    "shipto_line1::250 shipto_city::80 shipto_postalcode::20 shipto_country::80"
)
_DETAIL = (
    "_productid_value:guid isproductoverridden:bool productdescription::500 "
    "description::2000 quantity:float priceperunit:float baseamount:float "
    "manualdiscountamount:float tax:float extendedamount:float _uomid_value:guid "
    "sequencenumber:int lineitemnumber:int requestdeliveryby:date "
    "_transactioncurrencyid_value:guid"
)
TOTALS = (
    "totallineitemamount",
    "totaldiscountamount",
    "totalamountlessfreight",
    "totaltax",
    "totalamount",
)
COMPUTED_DETAIL = ("baseamount", "extendedamount")


def document_specs(
    spec: Callable[..., EntitySpec], nav: Callable[..., Any]
) -> tuple[EntitySpec, ...]:
    """The document tables, built with the sandbox's table builder and Nav type."""
    owner = nav("ownerid", "_ownerid_value", ("systemusers",))
    currency = nav(
        "transactioncurrencyid", "_transactioncurrencyid_value", ("transactioncurrencies",)
    )
    customer = (
        nav("customerid_account", "_customerid_value", ("accounts",)),
        nav("customerid_contact", "_customerid_value", ("contacts",)),
    )
    price_level = nav("pricelevelid", "_pricelevelid_value", ("pricelevels",))

    def detail_navs(doc: str, column: str) -> tuple[Any, ...]:
        return (
            nav(doc, column, (f"{doc.removesuffix('id')}s",)),
            nav("productid", "_productid_value", ("products",)),
            nav("uomid", "_uomid_value", ("uoms",)),
            currency,
        )

    active = {"statecode": 0}
    return (
        spec(
            "quotes",
            "quote",
            "quoteid",
            f"quotenumber::100 revisionnumber:int effectivefrom:date effectiveto:date "
            f"closedon:date {_HEADER} {_STD}",
            owner,
            currency,
            *customer,
            price_level,
            defaults={**active, "statuscode": 1, "revisionnumber": 0},
        ),
        spec(
            "quotedetails",
            "quotedetail",
            "quotedetailid",
            f"_quoteid_value:guid {_DETAIL} {_STD}",
            *detail_navs("quoteid", "_quoteid_value"),
            owner,
        ),
        spec(
            "salesorders",
            "salesorder",
            "salesorderid",
            f"ordernumber::100 _quoteid_value:guid lastbackofficesubmit:date datefulfilled:date "
            f"submitdate:date {_HEADER} {_STD}",
            owner,
            currency,
            *customer,
            price_level,
            nav("quoteid", "_quoteid_value", ("quotes",)),
            defaults={**active, "statuscode": 1},
        ),
        spec(
            "salesorderdetails",
            "salesorderdetail",
            "salesorderdetailid",
            f"_salesorderid_value:guid quantityshipped:float quantitycancelled:float {_DETAIL} "
            f"{_STD}",
            *detail_navs("salesorderid", "_salesorderid_value"),
            owner,
        ),
        spec(
            "invoices",
            "invoice",
            "invoiceid",
            f"invoicenumber::100 _salesorderid_value:guid datedelivered:date duedate:date "
            f"{_HEADER} {_STD}",
            owner,
            currency,
            *customer,
            price_level,
            nav("salesorderid", "_salesorderid_value", ("salesorders",)),
            defaults={**active, "statuscode": 1},
        ),
        spec(
            "invoicedetails",
            "invoicedetail",
            "invoicedetailid",
            f"_invoiceid_value:guid {_DETAIL} {_STD}",
            *detail_navs("invoiceid", "_invoiceid_value"),
            owner,
        ),
        spec(
            "posts",
            "post",
            "postid",
            "text::1000 source:int type:int _regardingobjectid_value:guid "
            "_createdby_value:guid createdon:datetime modifiedon:datetime "
            "_modifiedby_value:guid",
            nav("regardingobjectid_salesorder", "_regardingobjectid_value", ("salesorders",)),
            nav("regardingobjectid_account", "_regardingobjectid_value", ("accounts",)),
            nav("regardingobjectid_quote", "_regardingobjectid_value", ("quotes",)),
            nav("regardingobjectid_invoice", "_regardingobjectid_value", ("invoices",)),
            defaults={"source": 1, "type": 7},
        ),
    )
