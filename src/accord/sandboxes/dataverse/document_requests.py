"""The Dataverse requests that move a sales document's state where an Update may not:
``WinQuote`` and ``CloseQuote`` (a ``QuoteClose`` activity and a ``Status``), ``ReviseQuote``
(closes the quote as Revised and returns its next revision as a Draft copy with its details),
``ConvertQuoteToSalesOrder`` (wins an Active quote, then returns a new Active order made from
it: name, customer, price list and currency, ``quoteid``, its details), ``FulfillSalesOrder``
and ``CancelSalesOrder`` (an ``OrderClose`` and a ``Status``). The close activities
themselves are not kept by the sandbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accord.sandboxes.common.http import Req, Resp
from accord.sandboxes.common.odata import GUID_RE
from accord.sandboxes.common.store import Row
from accord.sandboxes.dataverse.document_rules import INVALID_STATE, refuse
from accord.sandboxes.dataverse.documents import DOCUMENTS, Document
from accord.sandboxes.dataverse.entities import Nav
from accord.sandboxes.dataverse.protocol import BAD_SYNTAX, entity_json

if TYPE_CHECKING:
    from accord.sandboxes.dataverse.document_rules import DvDocuments

_CLOSE = {
    "WinQuote": ("quotes", "QuoteClose", (1,), 2),
    "CloseQuote": ("quotes", "QuoteClose", (0, 1), 3),
    "FulfillSalesOrder": ("salesorders", "OrderClose", (0, 1), 3),
    "CancelSalesOrder": ("salesorders", "OrderClose", (0, 1), 2),
}
_NOT_COPIED = frozenset(
    {"statecode", "statuscode", "createdon", "modifiedon", "_createdby_value", "_modifiedby_value"}
)


class Requests:
    """State requests of one Dataverse sandbox."""

    names = frozenset({*_CLOSE, "ReviseQuote", "ConvertQuoteToSalesOrder"})

    def __init__(self, documents: DvDocuments) -> None:
        self.docs = documents
        self.store = documents.store

    def run(self, req: Req) -> Resp:
        body = req.json()
        if not isinstance(body, dict):
            raise refuse(BAD_SYNTAX, "The request body must be a JSON object.")
        if req.path == "ReviseQuote":
            return self.revise(req, body)
        if req.path == "ConvertQuoteToSalesOrder":
            return self.convert(req, body)
        entity, activity, allowed, state = _CLOSE[req.path]
        doc = DOCUMENTS[entity]
        header = self.target(doc, activity, body.get(activity))
        if header["statecode"] not in allowed:
            raise refuse(
                INVALID_STATE,
                f"{req.path}: the {self.store.specs[entity].type_name} is in state "
                f"{header['statecode']}; it must be in state {' or '.join(map(str, allowed))}.",
            )
        status = doc.model.valid_status(state, body.get("Status"))
        if status is None or "Status" not in body:
            codes = doc.model.states[state][0]
            raise refuse(
                BAD_SYNTAX,
                f"{req.path} needs 'Status', one of {', '.join(map(str, codes))}.",
            )
        with self.store.transaction():
            key = self.store.specs[entity].key
            self.store.update_raw(entity, header[key], {"statecode": state, "statuscode": status})
        return Resp(204)

    def target(self, doc: Document, activity: str, close: Any) -> Row:
        bind = close.get(f"{doc.parent_nav}@odata.bind") if isinstance(close, dict) else None
        if bind is None:
            raise refuse(
                BAD_SYNTAX,
                f"'{activity}' needs '{doc.parent_nav}@odata.bind' naming the {doc.header[:-1]}.",
            )
        spec = self.store.specs[doc.header]
        key = self.docs.res._bind(spec, Nav(doc.parent_nav, doc.parent_column, (doc.header,)), bind)
        row = self.store.get_raw(doc.header, key or "")
        assert row is not None
        return row

    def revise(self, req: Req, body: Row) -> Resp:
        quote_id = body.get("QuoteId")
        if not isinstance(quote_id, str) or not GUID_RE.match(quote_id):
            raise refuse(BAD_SYNTAX, "ReviseQuote needs 'QuoteId' (a GUID).")
        doc = DOCUMENTS["quotes"]
        old = self.store.get_raw("quotes", quote_id.lower())
        if old is None:
            raise refuse("0x80040217", f"quote With Id = {quote_id} Does Not Exist", 404)
        if old["statecode"] not in (1, 3) or old["statuscode"] == 7:
            raise refuse(
                INVALID_STATE,
                "ReviseQuote: only an Active or Closed quote that is not already revised can be "
                "revised.",
            )
        spec = self.store.specs["quotes"]
        detail = self.store.specs[doc.details]
        with self.store.transaction():
            self.store.update_raw("quotes", old["quoteid"], {"statecode": 3, "statuscode": 7})
            values = {k: v for k, v in old.items() if k in spec.field_map and k not in _NOT_COPIED}
            values.pop("quoteid")
            values |= {
                "statecode": 0,
                "statuscode": 1,
                "revisionnumber": int(old["revisionnumber"] or 0) + 1,
            }
            new = self.store.insert_raw("quotes", values)
            for line in self.docs.details(doc, old["quoteid"]):
                copy = {
                    k: v for k, v in line.items() if k in detail.field_map and k not in _NOT_COPIED
                }
                copy.pop(detail.key)
                copy[doc.parent_column] = new["quoteid"]
                self.store.insert_raw(doc.details, copy)
        payload = {
            "@odata.context": f"{req.origin}{req.path_root}/$metadata#quotes/$entity",
            **entity_json(new, spec),
        }
        return Resp(200, payload)

    def quote(self, name: str, body: Row) -> Row:
        quote_id = body.get("QuoteId")
        if not isinstance(quote_id, str) or not GUID_RE.match(quote_id):
            raise refuse(BAD_SYNTAX, f"{name} needs 'QuoteId' (a GUID).")
        row = self.store.get_raw("quotes", quote_id.lower())
        if row is None:
            raise refuse("0x80040217", f"quote With Id = {quote_id} Does Not Exist", 404)
        return row

    def convert(self, req: Req, body: Row) -> Resp:
        """ConvertQuoteToSalesOrder: an Active quote is closed as Won (``QuoteCloseStatus``,
        default Won) and a Won one stays so; the new order starts Active (New) with the
        quote's name, customer, price list, currency and details."""
        quote = self.quote(req.path, body)
        if quote["statecode"] not in (1, 2):
            raise refuse(
                INVALID_STATE,
                "ConvertQuoteToSalesOrder: the quote must be Active or Won; it is in state "
                f"{quote['statecode']}.",
            )
        order_doc, quote_doc = DOCUMENTS["salesorders"], DOCUMENTS["quotes"]
        spec = self.store.specs["salesorders"]
        detail = self.store.specs[order_doc.details]
        copied = (
            "name",
            "_customerid_value",
            "_pricelevelid_value",
            "_transactioncurrencyid_value",
        )
        with self.store.transaction():
            if quote["statecode"] == 1:
                status = quote_doc.model.valid_status(2, body.get("QuoteCloseStatus"))
                if status is None:
                    raise refuse(BAD_SYNTAX, "QuoteCloseStatus must be a Won status (4).")
                self.store.update_raw("quotes", quote["quoteid"], {"statecode": 2, "statuscode": 4})
            values = {k: quote.get(k) for k in copied if k in spec.field_map}
            values |= {
                "_quoteid_value": quote["quoteid"],
                "statecode": 0,
                "statuscode": 1,
                order_doc.model.number_field: self.docs.next_number(order_doc),
            }
            order = self.store.insert_raw("salesorders", values)
            for line in self.docs.details(quote_doc, quote["quoteid"]):
                copy = {
                    k: v
                    for k, v in line.items()
                    if k in detail.field_map and k not in _NOT_COPIED and k != "_quoteid_value"
                }
                copy[order_doc.parent_column] = order["salesorderid"]
                self.store.insert_raw(order_doc.details, copy)
            self.docs.totals(order_doc, order["salesorderid"])
            order = self.store.get_raw("salesorders", order["salesorderid"]) or order
        payload = {
            "@odata.context": f"{req.origin}{req.path_root}/$metadata#salesorders/$entity",
            **entity_json(order, spec),
        }
        return Resp(200, payload)
