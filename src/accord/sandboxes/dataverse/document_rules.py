"""Dataverse sales document rules: states, read-only documents, detail amounts and totals,
and the requests that move a document's state (WinQuote, CloseQuote, ReviseQuote,
FulfillSalesOrder, CancelSalesOrder). Posts are created and deleted, never updated.

[I] marks inferences: the error codes of state and read-only refusals are not published.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from accord import jsonwire
from accord.sandboxes.common.http import Req, Resp
from accord.sandboxes.common.odata import ODataError
from accord.sandboxes.common.store import EntitySpec, Row, Store
from accord.sandboxes.dataverse.documents import (
    DETAILS,
    DOCUMENTS,
    TOTALS,
    Document,
)
from accord.sandboxes.dataverse.protocol import BAD_SYNTAX, parse_key
from accord.sandboxes.dataverse.resources import DvResources

READ_ONLY = "0x80043b00"  # [I]
INVALID_STATE = "0x80040203"  # [I]
NOT_SUPPORTED = "0x80040800"  # [I]
CENT = Decimal("0.01")
_SEG = re.compile(r"^(?P<name>[A-Za-z]+)(?:\((?P<key>.*)\))?$")
STATE_FIELDS = frozenset({"statecode", "statuscode"})
_STATE_NAMES = {
    "quotes": {0: "Draft", 1: "Active", 2: "Won", 3: "Closed"},
    "salesorders": {0: "Active", 1: "Submitted", 2: "Canceled", 3: "Fulfilled", 4: "Invoiced"},
    "invoices": {0: "Active", 1: "Closed", 2: "Paid", 3: "Canceled"},
}


def money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def refuse(code: str, message: str, status: int = 400) -> ODataError:
    return ODataError(status, code, message)


class DvDocuments:
    """Document rules for one Dataverse sandbox (a hook before the generic handlers)."""

    def __init__(self, store: Store, resources: DvResources) -> None:
        self.store = store
        self.res = resources
        from accord.sandboxes.dataverse.document_requests import Requests

        self.requests = Requests(self)
        from accord.sandboxes.dataverse.document_seed import seed_documents

        seed_documents(self)

    def route(self, req: Req) -> Resp | None:
        """Handle a document request, or None to leave it to the generic handlers."""
        if req.method == "POST" and req.path in self.requests.names:
            return self.res.guarded(self.requests.run, req)
        seg = _SEG.match(req.path)
        if seg is None:
            return None
        name = seg["name"]
        if name not in DOCUMENTS and name not in DETAILS and name != "posts":
            return None
        spec = self.store.specs[name]
        if req.method == "GET" and name in DOCUMENTS and req.query.get("$expand"):
            from accord.sandboxes.dataverse.document_deep import read_expanded

            return self.res.guarded(read_expanded, self, req, spec, DOCUMENTS[name], seg["key"])
        if req.method not in ("POST", "PATCH", "DELETE") or (req.method == "POST") == bool(
            seg["key"]
        ):
            return None
        return self.res.guarded(self.write, req, spec, seg["key"])

    def write(self, req: Req, spec: EntitySpec, key_text: str | None) -> Resp:
        current = None
        if key_text is not None:
            key = parse_key(spec, key_text, self.res.options)
            current = self.res.find(spec, key)
        if spec.name == "posts":
            if req.method == "PATCH" and current is not None:
                raise refuse(
                    NOT_SUPPORTED, "The 'Update' method does not support entities of type 'post'."
                )
            return self.generic(req, spec, key_text)
        body = req.json() if req.method != "DELETE" else {}
        if not isinstance(body, dict):
            raise refuse(BAD_SYNTAX, "The request body must be a JSON object.")
        if spec.name in DOCUMENTS:
            return self.write_header(req, spec, DOCUMENTS[spec.name], current, body, key_text)
        return self.write_detail(req, spec, DETAILS[spec.name], current, body, key_text)

    # ------------------------------------------------------------------ headers
    def write_header(
        self,
        req: Req,
        spec: EntitySpec,
        doc: Document,
        current: Row | None,
        body: Row,
        key_text: str | None,
    ) -> Resp:
        model = doc.model
        if current is None and req.method != "DELETE":
            state = body.get("statecode", 0)
            if state != 0 or body.get("statuscode") not in (None, *model.states[0][0]):
                raise refuse(
                    INVALID_STATE,
                    f"A {spec.type_name} is created in state "
                    f"{_STATE_NAMES[doc.header][0]}; change its state afterwards.",
                )
            body = {
                **body,
                "statecode": 0,
                "statuscode": model.valid_status(0, body.get("statuscode")),
            }
            if not body.get(model.number_field):
                body[model.number_field] = self.next_number(doc)
            if doc.collection in body and key_text is None:
                from accord.sandboxes.dataverse.document_deep import create_deep

                details = body.pop(doc.collection)
                return create_deep(self, req, spec, doc, body, details)
            return self.generic(dataclasses.replace(req, body=jsonwire.dumps(body)), spec, key_text)
        if current is None:
            return self.generic(req, spec, key_text)
        if req.method == "DELETE":
            with self.store.transaction():
                for line in self.details(doc, current[spec.key]):
                    self.store.delete_raw(doc.details, line[self.store.specs[doc.details].key])
                return self.generic(req, spec, key_text)
        changes = [k for k in body if k not in STATE_FIELDS and not k.startswith("@")]
        state = current["statecode"]
        if changes and state != model.editable:
            raise refuse(READ_ONLY, "Cannot Update a Read-Only Entity")
        if "statecode" in body or "statuscode" in body:
            body = self.transition(spec, doc, current, body)
        with self.store.transaction():
            resp = self.generic(dataclasses.replace(req, body=jsonwire.dumps(body)), spec, key_text)
            self.totals(doc, current[spec.key])
        return resp

    def transition(self, spec: EntitySpec, doc: Document, current: Row, body: Row) -> Row:
        model = doc.model
        state = int(body.get("statecode", current["statecode"]) or 0)
        names = _STATE_NAMES[doc.header]
        if state not in model.states:
            raise refuse(INVALID_STATE, f"{state} is not a valid state code on {spec.type_name}.")
        old = int(current["statecode"])
        if state != old and (old, state) not in model.by_update:
            request = model.by_request.get(state)
            hint = (
                f"use the {request} request instead"
                if request
                else f"a {names[old]} {spec.type_name} cannot become {names[state]}"
            )
            raise refuse(
                INVALID_STATE,
                f"This message can not be used to set the state of {spec.type_name} to "
                f"{names[state]}; {hint}.",
            )
        changed_status = body.get("statuscode", current["statuscode"]) != current["statuscode"]
        if state == old and (old, state) not in model.by_update and changed_status:
            raise refuse(
                INVALID_STATE, f"The status of a {names[old]} {spec.type_name} cannot change."
            )
        status = model.valid_status(state, body.get("statuscode"))
        if status is None:
            raise refuse(
                INVALID_STATE,
                f"{body.get('statuscode')} is not a valid status code for state code "
                f"{spec.type_name}State.{names[state]} on {spec.type_name}.",
            )
        return {**body, "statecode": state, "statuscode": status}

    def next_number(self, doc: Document) -> str:
        count = self.store.count(doc.header) + 1001
        return f"{doc.model.number_prefix}-{count:05d}-{self.store.next_version():04X}"

    # ------------------------------------------------------------------ details
    def write_detail(
        self,
        req: Req,
        spec: EntitySpec,
        doc: Document,
        current: Row | None,
        body: Row,
        key_text: str | None,
    ) -> Resp:
        parent = current[doc.parent_column] if current else self.parent_of(spec, doc, body)
        header = self.store.get_raw(doc.header, parent or "")
        if header is None or parent is None:
            raise refuse(
                "0x80040217",
                f"A {spec.type_name} needs its {doc.parent_nav.removesuffix('id')}: write "
                f"{doc.parent_nav}@odata.bind.",
            )
        parent_id = str(parent)
        if header["statecode"] != doc.model.editable:
            raise refuse(READ_ONLY, "Cannot Update a Read-Only Entity")
        if req.method == "DELETE":
            with self.store.transaction():
                resp = self.generic(req, spec, key_text)
                self.totals(doc, parent_id)
            return resp
        merged = {**(current or {}), **body}
        overridden = bool(merged.get("isproductoverridden"))
        has_product = bool(
            body.get("productid@odata.bind") or (current or {}).get("_productid_value")
        )
        if overridden and not merged.get("productdescription"):
            raise refuse("0x80044331", "A write-in product needs a productdescription.")
        if not overridden and not has_product:
            raise refuse(
                "0x80044331",
                "A line needs a product (productid@odata.bind) unless isproductoverridden is true.",
            )
        base = money(
            Decimal(str(merged.get("quantity") or 0))
            * Decimal(str(merged.get("priceperunit") or 0))
        )
        extended = base - money(merged.get("manualdiscountamount")) + money(merged.get("tax"))
        body = {**body, "baseamount": base, "extendedamount": extended}
        if current is None and not body.get("sequencenumber"):
            body["sequencenumber"] = len(self.details(doc, parent_id)) + 1
        with self.store.transaction():
            resp = self.generic(dataclasses.replace(req, body=jsonwire.dumps(body)), spec, key_text)
            self.totals(doc, parent_id)
        return resp

    def parent_of(self, spec: EntitySpec, doc: Document, body: Row) -> str | None:
        bind = body.get(f"{doc.parent_nav}@odata.bind")
        if bind is None:
            return None
        nav = spec.extra["navs"][doc.parent_nav]
        return self.res._bind(spec, nav, bind)

    def details(self, doc: Document, header_id: str) -> list[Row]:
        import sqlalchemy as sa

        t = self.store.table(doc.details)
        return self.store.rows(sa.select(t).where(t.c[doc.parent_column] == header_id))

    def totals(self, doc: Document, header_id: str) -> None:
        """Recompute a header's amounts from its details (Dataverse's price calculation)."""
        header = self.store.get_raw(doc.header, header_id)
        if header is None:
            return
        lines = self.details(doc, header_id)
        items = sum(
            (money(d["baseamount"]) - money(d["manualdiscountamount"]) for d in lines), Decimal(0)
        )
        tax = sum((money(d["tax"]) for d in lines), Decimal(0))
        percent = Decimal(str(header["discountpercentage"] or 0))
        discount = money(items * percent / 100) + money(header["discountamount"])
        less_freight = items - discount
        values = dict(
            zip(
                TOTALS,
                (
                    items,
                    discount,
                    less_freight,
                    tax,
                    less_freight + money(header["freightamount"]) + tax,
                ),
                strict=True,
            )
        )
        if any(header.get(k) is None or money(header[k]) != v for k, v in values.items()):
            self.store.update_raw(doc.header, header_id, values)

    def generic(self, req: Req, spec: EntitySpec, key_text: str | None) -> Resp:
        res = self.res
        if key_text is None:
            return res.create(req, spec)
        key = parse_key(spec, key_text, res.options)
        if req.method == "DELETE":
            return res.delete(req, spec, key)
        return res.upsert(req, spec, key)
