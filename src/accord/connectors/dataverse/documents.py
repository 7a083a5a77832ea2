"""Dataverse sales documents as data: quote, salesorder, invoice, their detail lines, post.

A document's ``statecode`` moves by Update only where the service allows it; the other moves
are requests (:data:`STATE_REQUESTS`). Amounts the service computes are read-only here.
:mod:`accord.connectors.dataverse.entities` builds the descriptors from these tables.
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.connectors.base import FieldInfo, FieldType

S, D, B, INT, DT, OPT = (
    FieldType.STRING,
    FieldType.DECIMAL,
    FieldType.BOOLEAN,
    FieldType.INTEGER,
    FieldType.DATE,
    FieldType.OPTION,
)


@dataclass(frozen=True)
class Table:
    """One document table: its key, natural key, plain columns and lookups (read name ->
    (navigation property, target entity set))."""

    name: str
    key: str
    natural_key: str | None
    fields: tuple[FieldInfo, ...]
    lookups: dict[str, tuple[str, str]]


_STATE = (FieldInfo("statecode", OPT), FieldInfo("statuscode", OPT))
_TOTALS = tuple(
    FieldInfo(n, D, read_only=True)
    for n in (
        "totallineitemamount",
        "totaldiscountamount",
        "totalamountlessfreight",
        "totaltax",
        "totalamount",
    )
)
_HEADER = (
    FieldInfo("name", S, max_length=300),
    FieldInfo("description", S, max_length=2000),
    FieldInfo("requestdeliveryby", DT),
    FieldInfo("freightamount", D),
    FieldInfo("discountpercentage", D),
    FieldInfo("discountamount", D),
    *_TOTALS,
    *(
        FieldInfo(f"{side}_{part}", S, max_length=length)
        for side in ("billto", "shipto")
        for part, length in (("line1", 250), ("city", 80), ("postalcode", 20), ("country", 80))
    ),
    *_STATE,
)
_HEADER_LOOKUPS = {
    "_customerid_value": ("customerid_account", "accounts"),
    "_transactioncurrencyid_value": ("transactioncurrencyid", "transactioncurrencies"),
    "_pricelevelid_value": ("pricelevelid", "pricelevels"),
    "_ownerid_value": ("ownerid", "systemusers"),
}
_DETAIL = (
    FieldInfo("isproductoverridden", B),
    FieldInfo("productdescription", S, max_length=500),
    FieldInfo("description", S, max_length=2000),
    FieldInfo("quantity", D),
    FieldInfo("priceperunit", D),
    FieldInfo("baseamount", D, read_only=True),
    FieldInfo("manualdiscountamount", D),
    FieldInfo("tax", D),
    FieldInfo("extendedamount", D, read_only=True),
    FieldInfo("sequencenumber", INT),
    FieldInfo("lineitemnumber", INT),
    FieldInfo("requestdeliveryby", DT),
    *_STATE,
)


def _detail_lookups(parent: str, entity: str) -> dict[str, tuple[str, str]]:
    return {
        f"_{parent}_value": (parent, entity),
        "_productid_value": ("productid", "products"),
        "_uomid_value": ("uomid", "uoms"),
        "_transactioncurrencyid_value": ("transactioncurrencyid", "transactioncurrencies"),
        "_ownerid_value": ("ownerid", "systemusers"),
    }


TABLES: tuple[Table, ...] = (
    Table(
        "quotes",
        "quoteid",
        "quotenumber",
        (
            FieldInfo("quotenumber", S, max_length=100),
            FieldInfo("revisionnumber", INT),
            FieldInfo("effectivefrom", DT),
            FieldInfo("effectiveto", DT),
            FieldInfo("closedon", DT),
            *_HEADER,
        ),
        _HEADER_LOOKUPS,
    ),
    Table("quotedetails", "quotedetailid", None, _DETAIL, _detail_lookups("quoteid", "quotes")),
    Table(
        "salesorders",
        "salesorderid",
        "ordernumber",
        (
            FieldInfo("ordernumber", S, max_length=100),
            FieldInfo("lastbackofficesubmit", DT),
            FieldInfo("datefulfilled", DT),
            FieldInfo("submitdate", DT),
            *_HEADER,
        ),
        {**_HEADER_LOOKUPS, "_quoteid_value": ("quoteid", "quotes")},
    ),
    Table(
        "salesorderdetails",
        "salesorderdetailid",
        None,
        (FieldInfo("quantityshipped", D), FieldInfo("quantitycancelled", D), *_DETAIL),
        _detail_lookups("salesorderid", "salesorders"),
    ),
    Table(
        "invoices",
        "invoiceid",
        "invoicenumber",
        (
            FieldInfo("invoicenumber", S, max_length=100),
            FieldInfo("datedelivered", DT),
            FieldInfo("duedate", DT),
            *_HEADER,
        ),
        {**_HEADER_LOOKUPS, "_salesorderid_value": ("salesorderid", "salesorders")},
    ),
    Table(
        "invoicedetails", "invoicedetailid", None, _DETAIL, _detail_lookups("invoiceid", "invoices")
    ),
    Table(
        "posts",
        "postid",
        None,
        (FieldInfo("text", S, max_length=1000), FieldInfo("source", OPT), FieldInfo("type", OPT)),
        {"_regardingobjectid_value": ("regardingobjectid_salesorder", "salesorders")},
    ),
)

TARGETS: dict[str, dict[str, dict[str, str]]] = {
    "posts": {
        "_regardingobjectid_value": {
            "salesorders": "regardingobjectid_salesorder",
            "accounts": "regardingobjectid_account",
            "quotes": "regardingobjectid_quote",
            "invoices": "regardingobjectid_invoice",
        }
    }
}
"""Entity set -> polymorphic lookup -> the entity sets it may point at and the navigation
property a write binds for each (a post regards an order, an account, a quote or an invoice)."""

STATE_REQUESTS: dict[str, dict[int, str]] = {
    "quotes": {2: "WinQuote", 3: "CloseQuote"},
    "salesorders": {2: "CancelSalesOrder", 3: "FulfillSalesOrder"},
}
"""Entity set -> target statecode -> the request that reaches it (not an Update)."""
CLOSE_ACTIVITIES: dict[str, tuple[str, str]] = {
    "quotes": ("QuoteClose", "quoteid"),
    "salesorders": ("OrderClose", "salesorderid"),
}
"""Entity set -> (the close activity its state requests take, the activity's lookup to it)."""


def state_request(
    entity: str, record_id: str, values: dict[str, object]
) -> tuple[str, dict[str, object]] | None:
    """The request (name, body) an update setting ``values`` takes when its ``statecode``
    is reached only by a request (an order set Fulfilled: ``FulfillSalesOrder``)."""
    state = values.get("statecode")
    request = STATE_REQUESTS.get(entity, {}).get(state) if isinstance(state, int) else None
    if request is None:
        return None
    activity, nav = CLOSE_ACTIVITIES[entity]
    body: dict[str, object] = {activity: {f"{nav}@odata.bind": f"/{entity}({record_id})"}}
    body["Status"] = values.get("statuscode", -1)
    return request, body
