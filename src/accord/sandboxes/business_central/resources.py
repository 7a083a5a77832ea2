"""Business Central entity-set handlers: list (filter, select, order, paging), get, create,
update and delete with BC's etag rules, lookups, number series and error codes."""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa

from accord.sandboxes.business_central.entities import ZERO_GUID, Lookup
from accord.sandboxes.business_central.protocol import (
    BcOptions,
    coerce_body,
    entity_json,
    error,
    etag,
    etag_version,
)
from accord.sandboxes.common import odata
from accord.sandboxes.common.http import Req, Resp
from accord.sandboxes.common.odata import ODataError
from accord.sandboxes.common.store import COMPANY, VERSION, EntitySpec, RejectedError, Row, Store


class BcResources:
    """CRUD over the store for one Business Central sandbox."""

    def __init__(self, store: Store, options: BcOptions) -> None:
        self.store = store
        self.options = options
        self._series: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ helpers
    def context(self, req: Req, company: str, spec: EntitySpec, suffix: str = "") -> str:
        """``@odata.context`` URL for an entity set in a company."""
        if not spec.scoped:
            return f"{req.origin}{req.path_root}/$metadata#{spec.name}{suffix}"
        return f"{req.origin}{req.path_root}/$metadata#companies({company})/{spec.name}{suffix}"

    def next_number(self, spec: EntitySpec, company: str) -> str:
        """Next number from the entity's number series (e.g. C00010, C00020, ...)."""
        prefix, width, step = spec.extra["number"]
        with self._lock:
            key = (self.store.storage[spec.name], company)  # a view shares its owner's series
            if key not in self._series:
                t = self.store.table(spec.name)
                stmt = (
                    sa.select(t.c.number)
                    .where(t.c[COMPANY] == company, t.c.number.like(f"{prefix}%"))
                    .order_by(sa.func.length(t.c.number).desc(), t.c.number.desc())
                    .limit(1)
                )
                top = self.store.scalar(stmt)
                digits = str(top)[len(prefix) :] if top else ""
                self._series[key] = int(digits) if digits.isdigit() else 0
            self._series[key] += step
            return f"{prefix}{self._series[key]:0{width}d}"

    def _resolve(self, spec: EntitySpec, values: Row, company: str) -> None:
        """Fill id/code pairs of lookups from each other; 400 when the target is missing."""
        lookups: tuple[Lookup, ...] = spec.extra.get("lookups", ())
        for lk in lookups:
            code = values.get(lk.code_field) if lk.code_field else None
            if lk.id_field in values and values[lk.id_field] != ZERO_GUID:
                target = self.store.get_raw(lk.target, values[lk.id_field], company)
                if target is None:
                    raise ODataError(
                        400,
                        "Application_DialogException",
                        f"The {lk.caption} does not exist. Identification fields and values: "
                        f"Id='{values[lk.id_field]}'",
                    )
                if lk.code_field:
                    values[lk.code_field] = target["code"]
            elif lk.id_field in values:
                if lk.code_field:
                    values[lk.code_field] = ""
            elif lk.code_field and code is not None:
                if code == "":
                    values[lk.id_field] = ZERO_GUID
                    continue
                found = self.store.find_raw(lk.target, {"code": code}, company)
                if not found:
                    raise ODataError(
                        400,
                        "Application_DialogException",
                        f"The field {lk.code_field} of table {spec.type_name} contains a value "
                        f"({code}) that cannot be found in the related table ({lk.caption}).",
                    )
                values[lk.id_field] = found[0]["id"]

    def _check_unique(self, spec: EntitySpec, values: Row, company: str, key: str) -> None:
        for name in ("number", "code"):
            if name in spec.field_map and values.get(name):
                clash = [
                    r
                    for r in self.store.find_raw(spec.name, {name: values[name]}, company)
                    if r["id"] != key
                ]
                if clash:
                    raise ODataError(
                        400,
                        "Internal_EntityWithSameKeyExists",
                        f"The record in table {spec.type_name} already exists. Identification "
                        f"fields and values: {name}='{values[name]}'",
                    )

    def _not_found(self, spec: EntitySpec, key: str) -> Resp:
        return error(
            404, "BadRequest_NotFound", f"The {spec.type_name} with id '{key}' does not exist."
        )

    def _precondition(self, req: Req, row: Row) -> Resp | None:
        tag = req.header("if-match")
        if tag is None:
            return error(
                self.options.missing_if_match_status,
                "BadRequest_InvalidToken",
                "Could not validate the client concurrency token required by the service. "
                "Please provide a valid token in the client request.",
            )
        if tag.strip() == "*":
            return None
        if etag_version(tag) != row[VERSION]:
            return error(
                409, "Request_EntityChanged", "Another user has already changed the record."
            )
        return None

    # ------------------------------------------------------------------ handlers
    def list(self, req: Req, spec: EntitySpec, company: str) -> Resp:
        """GET an entity set with $filter/$select/$orderby/$top/$skip/$count and paging."""
        q, label = req.query, f"Microsoft.NAV.{spec.type_name}"
        select = odata.parse_select(spec, q.get("$select"), label)
        where = (
            [odata.compile_filter(spec, self.store.table(spec.name), q["$filter"], label)]
            if q.get("$filter")
            else []
        )
        order = odata.parse_orderby(spec, q.get("$orderby"), label)
        top = odata.parse_int("$top", q.get("$top"))
        skip = odata.parse_int("$skip", q.get("$skip")) or 0
        if top is not None and self.options.top_limit is not None and top > self.options.top_limit:
            return error(
                413,
                "BadRequest",
                f"The $top value {top} exceeds the maximum page size {self.options.top_limit}.",
            )
        headers: dict[str, str] = {}
        page = self.options.page_size
        prefer = odata.parse_prefer(req.header("prefer"))
        if "odata.maxpagesize" in prefer:
            asked = odata.parse_int("odata.maxpagesize", prefer["odata.maxpagesize"]) or page
            page = min(asked, self.options.max_page_size)
            headers["Preference-Applied"] = f"odata.maxpagesize={page}"
        after = None
        if "$skiptoken" in q:
            state = odata.decode_token(q["$skiptoken"])
            after, top, skip = state.get("k"), state.get("r"), 0
        query = odata.ListQuery(where, order, max(page, 1), top, skip, after, company)
        rows, position = odata.fetch_page(self.store, spec, query)
        suffix = f"({','.join(select)})" if select else ""
        body: dict[str, Any] = {"@odata.context": self.context(req, company, spec, suffix)}
        if q.get("$count", "").lower() == "true":
            body["@odata.count"] = odata.count_rows(self.store, spec, where, company)
        body["value"] = [entity_json(r, spec, select) for r in rows]
        if position is not None:
            state = {"k": position, "r": None if top is None else top - len(rows)}
            base = f"{req.origin}{req.path_root}/{req.path}"
            body["@odata.nextLink"] = odata.next_link(
                base, q, odata.encode_token(state), drop=("$top", "$skip")
            )
        return Resp(200, body, headers)

    def get(self, req: Req, spec: EntitySpec, company: str, key: str) -> Resp:
        """GET one entity."""
        row = self.store.get_raw(spec.name, key, company)
        if row is None:
            return self._not_found(spec, key)
        label = f"Microsoft.NAV.{spec.type_name}"
        select = odata.parse_select(spec, req.query.get("$select"), label)
        body = {
            "@odata.context": self.context(req, company, spec, "/$entity"),
            **entity_json(row, spec, select),
        }
        return Resp(200, body, {"ETag": etag(key, row[VERSION])})

    def create(self, req: Req, spec: EntitySpec, company: str) -> Resp:
        """POST: 201 with the full entity; id and number assigned when absent."""
        if spec.extra.get("read_only") or spec.extra.get("modify_only"):
            return error(
                405,
                "BadRequest_MethodNotAllowed",
                f"'POST' requests for '{spec.name}' are not allowed.",
            )
        values = coerce_body(spec, req.json(), self.options, creating=True)
        for name, value in spec.extra.get("defaults", {}).items():
            values.setdefault(name, value)
        if values.get("id") and self.store.get_raw(
            spec.name, values["id"], None if not spec.scoped else company
        ):
            return error(
                400,
                "Internal_EntityWithSameKeyExists",
                f"The record in table {spec.type_name} already exists. Identification "
                f"fields and values: Id='{values['id']}'",
            )
        if "number" in spec.extra and not values.get("number"):
            values["number"] = self.next_number(spec, company)
        self._resolve(spec, values, company)
        self._check_unique(spec, values, company, values.get("id", ""))
        self.store.check_rejects(spec.name, values)
        row = self.store.insert_raw(spec.name, values, company)
        body = {
            "@odata.context": self.context(req, company, spec, "/$entity"),
            **entity_json(row, spec),
        }
        return Resp(
            201,
            body,
            {
                "ETag": body["@odata.etag"],
                "Location": f"{req.origin}{req.path_root}/companies({company})/"
                f"{spec.name}({row['id']})",
            },
        )

    def _writable_row(
        self, req: Req, spec: EntitySpec, company: str, key: str, verb: str
    ) -> Row | Resp:
        """The row a PATCH or DELETE may change, or the error that refuses it."""
        if spec.extra.get("read_only") or (spec.extra.get("modify_only") and verb == "DELETE"):
            return error(
                405,
                "BadRequest_MethodNotAllowed",
                f"'{verb}' requests for '{spec.name}' are not allowed.",
            )
        row = self.store.get_raw(spec.name, key, company)
        if row is None:
            return self._not_found(spec, key)
        denied = self._precondition(req, row)
        return row if denied is None else denied

    def update(self, req: Req, spec: EntitySpec, company: str, key: str) -> Resp:
        """PATCH: If-Match required (``*`` accepted, stale → 409); 200 with the full entity."""
        row = self._writable_row(req, spec, company, key, "PATCH")
        if isinstance(row, Resp):
            return row
        values = coerce_body(spec, req.json(), self.options, creating=False)
        values.pop("id", None)
        self._resolve(spec, values, company)
        self._check_unique(spec, values, company, key)
        self.store.check_rejects(spec.name, {**row, **values})
        updated = self.store.update_raw(spec.name, key, values, company)
        assert updated is not None
        body = {
            "@odata.context": self.context(req, company, spec, "/$entity"),
            **entity_json(updated, spec),
        }
        return Resp(200, body, {"ETag": body["@odata.etag"]})

    def delete(self, req: Req, spec: EntitySpec, company: str, key: str) -> Resp:
        """DELETE: If-Match required; 204."""
        row = self._writable_row(req, spec, company, key, "DELETE")
        if isinstance(row, Resp):
            return row
        self.store.delete_raw(spec.name, key, company)
        return Resp(204)

    def guarded(self, fn: Any, *args: Any) -> Resp:
        """Run a handler, turning validation and reject-rule errors into BC error responses."""
        try:
            result: Resp = fn(*args)
            return result
        except ODataError as exc:
            return error(exc.status, exc.code, exc.message)
        except RejectedError as exc:
            return error(400, "Application_DialogException", str(exc))
        except ValueError:
            return error(400, "BadRequest", "The request body is not valid JSON.")
