"""Business Central sales documents: the rules the generic entity handlers do not know.

A header is created with its customer's data (deep insert of its lines in the same request,
all or nothing), a line belongs to an unposted document and updates its totals, lines are
listed per document, posted documents are read-only, and ``Microsoft.NAV.<action>`` runs a
bound action (:mod:`~accord.sandboxes.business_central.postings`).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import sqlalchemy as sa

from accord.sandboxes.business_central.document_lines import LineRules, dialog
from accord.sandboxes.business_central.documents import KINDS, LINES, DocumentKind
from accord.sandboxes.business_central.entities import ZERO_GUID
from accord.sandboxes.business_central.protocol import coerce_body, entity_json, error
from accord.sandboxes.business_central.resources import BcResources
from accord.sandboxes.common.http import Req, Resp
from accord.sandboxes.common.odata import GUID_RE, ODataError
from accord.sandboxes.common.store import COMPANY, EntitySpec, Row, Store

_NAV = re.compile(r"^(?P<name>[A-Za-z]+)(?:\((?P<key>[^)]*)\))?$")
_PARTY_FROM_CUSTOMER = {
    "customerNumber": "number",
    "customerName": "displayName",
    "billToCustomerNumber": "number",
    "billToName": "displayName",
    "phoneNumber": "phoneNumber",
    "email": "email",
    "currencyId": "currencyId",
    "currencyCode": "currencyCode",
    "paymentTermsId": "paymentTermsId",
    "shipmentMethodId": "shipmentMethodId",
    "salesperson": "salespersonCode",
}
_ADDRESS = {
    "AddressLine1": "addressLine1",
    "AddressLine2": "addressLine2",
    "City": "city",
    "Country": "country",
    "State": "state",
    "PostCode": "postalCode",
}
DATE_FIELDS = ("orderDate", "documentDate", "invoiceDate", "creditMemoDate", "postingDate")


_EDITABLE_WHEN_RELEASED = frozenset({"shipQuantity", "invoiceQuantity"})
"""Line fields BC validates without Status = Open (Qty. to Ship, Qty. to Invoice)."""


class BcDocuments(LineRules):
    """Document rules for one Business Central sandbox."""

    def __init__(self, store: Store, resources: BcResources) -> None:
        self.store = store
        self.res = resources
        self._series: dict[tuple[str, str, str], int] = {}
        from accord.sandboxes.business_central.postings import Postings

        self.postings = Postings(self)
        from accord.sandboxes.business_central.document_seed import seed_documents
        from accord.sandboxes.business_central.payments import seed_journals

        seed_journals(self)
        seed_documents(self)

    # ------------------------------------------------------------------ routing
    def route(
        self, req: Req, company: str, spec: EntitySpec, key: str | None, rest: str | None
    ) -> Resp | None:
        """Handle a document request, or None to leave it to the generic handlers."""
        kind = KINDS.get(spec.name)
        if kind is not None and key is not None and GUID_RE.match(key) and rest:
            return self.res.guarded(self.nested, req, company, kind, key.lower(), rest)
        expand = kind is not None and req.method == "GET" and req.query.get("$expand")
        if kind is not None and expand and (key is None or GUID_RE.match(key)):
            return self.res.guarded(self.expanded, req, company, kind, key)
        if kind is not None and not spec.extra.get("read_only"):
            if key is None and req.method == "POST":
                return self.res.guarded(self.create_header, req, company, kind)
            if key is not None and req.method in ("PATCH", "DELETE") and GUID_RE.match(key):
                return self.res.guarded(self.change_header, req, company, kind, key.lower())
        if spec.name == "customerPayments" and key is None and req.method == "POST":
            from accord.sandboxes.business_central.payments import create_payment

            return self.res.guarded(create_payment, self, req, company)
        lines_of = LINES.get(spec.name)
        if lines_of is not None:
            if key is None and req.method == "GET" and not _names_document(req):
                return error(
                    400,
                    "BadRequest",
                    "You must specify an Id or a Document Id to get the lines.",
                )
            if key is None and req.method == "GET":
                return self.res.guarded(self.res.list, in_line_order(req), spec, company)
            if not spec.extra.get("read_only") and req.method in ("POST", "PATCH", "DELETE"):
                target = key.lower() if key and GUID_RE.match(key) else None
                return self.res.guarded(self.line_request, req, company, lines_of, target, None)
        return None

    def nested(self, req: Req, company: str, kind: DocumentKind, key: str, rest: str) -> Resp:
        header = self.store.get_raw(kind.header, key, company)
        if header is None:
            return self.res._not_found(self.store.specs[kind.header], key)
        if rest.startswith("Microsoft.NAV."):
            action = rest.removeprefix("Microsoft.NAV.")
            if action not in kind.actions or req.method != "POST":
                return error(
                    400,
                    "BadRequest_MethodNotFound",
                    f"The action '{action}' is not bound to '{kind.header}' for {req.method}.",
                )
            return self.postings.run(action, company, kind, header)
        nav = _NAV.match(rest)
        if nav is None or nav["name"] != kind.lines:
            return error(
                404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{rest}'."
            )
        line_key = nav["key"].lower() if nav["key"] else None
        lines = self.store.specs[kind.lines]
        if req.method == "GET":
            if line_key is not None:
                row = self.store.get_raw(kind.lines, line_key, company)
                if row is None or row["documentId"] != key:
                    return self.res._not_found(lines, line_key)
                return self.res.get(req, lines, company, line_key)
            text = req.query.get("$filter")
            clause = f"documentId eq {key}"
            if not text or clause not in text:
                text = f"({text}) and {clause}" if text else clause
            query = {**req.query, "$filter": text}
            return self.res.list(
                in_line_order(dataclasses.replace(req, query=query)), lines, company
            )
        return self.line_request(req, company, kind, line_key, key)

    def expanded(self, req: Req, company: str, kind: DocumentKind, key: str | None) -> Resp:
        """A header list or header with its lines inline (``$expand=<lines>``)."""
        wanted = req.query["$expand"]
        spec = self.store.specs[kind.header]
        if wanted != kind.lines:
            raise ODataError(
                400,
                "BadRequest",
                f"Could not find a property named '{wanted}' on type "
                f"'Microsoft.NAV.{spec.type_name}'.",
            )
        query = {k: v for k, v in req.query.items() if k != "$expand"}
        selected = [n.strip() for n in query.get("$select", "").split(",") if n.strip()]
        hide_id = bool(selected) and "id" not in selected
        if hide_id:
            query["$select"] = ",".join([*selected, "id"])
        plain = dataclasses.replace(req, query=query)
        resp = (
            self.res.get(plain, spec, company, key.lower())
            if key
            else self.res.list(plain, spec, company)
        )
        body = resp.body
        if resp.status != 200 or not isinstance(body, dict):
            return resp
        lines = self.store.specs[kind.lines]
        for row in body.get("value", [body]):
            found = self.lines(company, kind, row.pop("id") if hide_id else row["id"])
            row[kind.lines] = [entity_json(line, lines) for line in found]
        if "@odata.nextLink" in body:
            body["@odata.nextLink"] += f"&$expand={wanted}"
        return resp

    # ------------------------------------------------------------------ headers
    def create_header(self, req: Req, company: str, kind: DocumentKind) -> Resp:
        spec = self.store.specs[kind.header]
        body = req.json()
        lines = body.pop(kind.lines, None) if isinstance(body, dict) else None
        if lines is not None and not isinstance(lines, list):
            raise ODataError(400, "BadRequest", f"'{kind.lines}' must be a list of lines.")
        wanted = req.query.get("$expand")
        if wanted and wanted != kind.lines:
            raise ODataError(
                400,
                "BadRequest",
                f"Could not find a property named '{wanted}' on type "
                f"'Microsoft.NAV.{spec.type_name}'.",
            )
        values = coerce_body(spec, body, self.res.options, creating=True)
        with self.store.transaction():  # a deep insert: all its lines or no document
            header = self.new_header(company, kind, values)
            made = []
            for number, line in enumerate(lines or []):
                if not isinstance(line, dict):
                    raise ODataError(400, "BadRequest", f"Line {number + 1} is not an object.")
                made.append(self.add_line(company, kind, header, line))
            header = self.totals(company, kind, header["id"])  # once, for all the lines
        resp = self.reply(req, company, spec, header, 201)
        if wanted:  # the lines made, in their order, as a GET with $expand shows them
            rows = sorted(made, key=lambda row: row["sequence"])
            lines_spec = self.store.specs[kind.lines]
            resp.body[kind.lines] = [entity_json(row, lines_spec) for row in rows]
        return resp

    def new_header(self, company: str, kind: DocumentKind, values: Row) -> Row:
        """Insert an unposted document for its customer (numbered, dated today)."""
        spec = self.store.specs[kind.header]
        customer = self.customer(company, kind, values)
        for field, source in _PARTY_FROM_CUSTOMER.items():
            if field in spec.field_map and not values.get(field):
                values[field] = customer[source]
        values["customerId"] = values["billToCustomerId"] = customer["id"]
        for side in ("sellTo", "billTo", "shipTo"):
            for suffix, source in _ADDRESS.items():
                name = f"{side}{suffix}"
                if name in spec.field_map and not values.get(name):
                    values[name] = customer[source]
        today = self.store.clock.now().date().isoformat()
        for name in (*DATE_FIELDS, "dueDate"):
            if name in spec.field_map and values.get(name, "0001-01-01") == "0001-01-01":
                values[name] = today
        if not values.get("number"):
            values["number"] = self.next_number(kind.header, *kind.number, company)
        self.res._check_unique(spec, values, company, "")
        self.store.check_rejects(spec.name, values)
        return self.store.insert_raw(kind.header, values, company)

    def customer(self, company: str, kind: DocumentKind, values: Row) -> Row:
        cid, number = values.get("customerId"), values.get("customerNumber")
        row: Row | None = None
        if cid and cid != ZERO_GUID:
            row = self.store.get_raw("customers", cid, company)
            if row is None:
                raise dialog(
                    f"The Customer does not exist. Identification fields and values: Id='{cid}'"
                )
        elif number:
            found = self.store.find_raw("customers", {"number": number}, company)
            if not found:
                raise dialog(
                    f"The Customer does not exist. Identification fields and values: No.='{number}'"
                )
            row = found[0]
        if row is None:
            raise dialog(
                f"Sell-to Customer No. must have a value in Sales Header: Document Type="
                f"{kind.type_name}. It cannot be zero or empty."
            )
        if row["blocked"] == "All":
            raise dialog(
                f"You cannot create this type of document when Customer {row['number']} is "
                "blocked with type All"
            )
        return row

    def change_header(self, req: Req, company: str, kind: DocumentKind, key: str) -> Resp:
        spec = self.store.specs[kind.header]
        row = self.store.get_raw(kind.header, key, company)
        if row is None:
            return self.res._not_found(spec, key)
        denied = self.res._precondition(req, row)
        if denied is not None:
            return denied
        self.editable(kind, row)
        if req.method == "DELETE":
            with self.store.transaction():
                for line in self.lines(company, kind, key):
                    self.store.delete_raw(kind.lines, line["id"], company)
                self.store.delete_raw(kind.header, key, company)
            return Resp(204)
        values = coerce_body(spec, req.json(), self.res.options, creating=False)
        values.pop("id", None)
        if {"customerId", "customerNumber"} & values.keys():
            customer = self.customer(company, kind, values)
            values |= {"customerId": customer["id"], "customerNumber": customer["number"]}
            values["customerName"] = customer["displayName"]
        self.res._check_unique(spec, values, company, key)
        self.store.check_rejects(spec.name, {**row, **values})
        with self.store.transaction():
            self.store.update_raw(kind.header, key, values, company)
            updated = self.totals(company, kind, key)
        return self.reply(req, company, spec, updated, 200)

    # ------------------------------------------------------------------ lines
    def line_request(
        self, req: Req, company: str, kind: DocumentKind, key: str | None, document: str | None
    ) -> Resp:
        spec = self.store.specs[kind.lines]
        if req.method == "POST" and key is None:
            body = req.json()
            if not isinstance(body, dict):
                raise ODataError(400, "BadRequest", "The request body must be a JSON object.")
            if document:
                body = {**body, "documentId": document}
            header = self.header_of(company, kind, body.get("documentId"))
            with self.store.transaction():
                added = self.add_line(company, kind, header, body)
                self.totals(company, kind, header["id"])
            return self.reply(req, company, spec, added, 201)
        if key is None or req.method not in ("PATCH", "DELETE"):
            return error(405, "BadRequest_MethodNotAllowed", f"'{req.method}' is not allowed here.")
        row = self.store.get_raw(kind.lines, key, company)
        if row is None or (document and row["documentId"] != document):
            return self.res._not_found(spec, key)
        denied = self.res._precondition(req, row)
        if denied is not None:
            return denied
        patch = None if req.method == "DELETE" else req.json()
        # BC lets Qty. to Ship / Qty. to Invoice change on a released order (no TestStatusOpen)
        released_ok = isinstance(patch, dict) and set(patch) <= _EDITABLE_WHEN_RELEASED
        header = self.header_of(company, kind, row["documentId"], released_ok=released_ok)
        with self.store.transaction():
            if req.method == "DELETE":
                self.check_removable(kind, header, row)
                self.store.delete_raw(kind.lines, key, company)
                self.totals(company, kind, header["id"])
                return Resp(204)
            values = coerce_body(spec, patch, self.res.options, creating=False)
            for fixed in ("id", "documentId"):
                values.pop(fixed, None)
            merged = self.line_values(company, kind, header, {**row, **values}, values)
            updated = self.store.update_raw(kind.lines, key, merged, company)
            assert updated is not None
            self.totals(company, kind, header["id"])
        return self.reply(req, company, spec, updated, 200)

    def header_of(
        self, company: str, kind: DocumentKind, document: Any, *, released_ok: bool = False
    ) -> Row:
        header = (
            self.store.get_raw(kind.header, str(document).lower(), company)
            if isinstance(document, str) and GUID_RE.match(document)
            else None
        )
        if header is None:
            raise dialog(
                f"The {kind.type_name} does not exist. Identification fields and values: "
                f"Id='{document or ''}'"
            )
        self.editable(kind, header, released_ok=released_ok)
        return header

    def lines(self, company: str, kind: DocumentKind, document: str) -> list[Row]:
        return rows_where(self.store, kind.lines, "documentId", document, company, "sequence")

    def reply(self, req: Req, company: str, spec: EntitySpec, row: Row, status: int) -> Resp:
        body = {
            "@odata.context": self.res.context(req, company, spec, "/$entity"),
            **entity_json(row, spec),
        }
        headers = {"ETag": body["@odata.etag"]}
        if status == 201:
            headers["Location"] = (
                f"{req.origin}{req.path_root}/companies({company})/{spec.name}({row['id']})"
            )
        return Resp(status, body, headers)


def rows_where(
    store: Store, entity: str, column: str, value: Any, company: str, order: str
) -> list[Row]:
    """Every row of ``entity`` in ``company`` whose ``column`` is ``value``, in ``order``."""
    t = store.table(entity)
    stmt = sa.select(t).where(t.c[column] == value, t.c[COMPANY] == company)
    return store.rows(stmt.order_by(t.c[order]))


def in_line_order(req: Req) -> Req:
    """Lines come in their document's order (BC's key) unless asked otherwise."""
    if req.query.get("$orderby"):
        return req
    return dataclasses.replace(req, query={**req.query, "$orderby": "sequence"})


def _names_document(req: Req) -> bool:
    text = req.query.get("$filter") or ""
    return bool(re.search(r"\b(documentId|id)\s+eq\s", text))
