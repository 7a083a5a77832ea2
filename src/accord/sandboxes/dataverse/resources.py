"""Dataverse table handlers: create, retrieve, upsert/update (PATCH), delete, with
``@odata.bind`` lookups, alternate keys, option-set validation and conditional headers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from accord.sandboxes.common.http import Req, Resp
from accord.sandboxes.common.odata import ODataError, parse_prefer, parse_select
from accord.sandboxes.common.store import VERSION, EntitySpec, RejectedError, Row, Store
from accord.sandboxes.dataverse.entities import Nav
from accord.sandboxes.dataverse.metadata import Metadata
from accord.sandboxes.dataverse.protocol import (
    BAD_SYNTAX,
    DUPLICATE,
    NOT_EXIST,
    VALIDATION,
    VERSION_MISMATCH,
    DvOptions,
    coerce,
    entity_json,
    error,
    etag,
    etag_version,
    parse_key,
)

_IGNORED = {"createdon", "modifiedon", "_createdby_value", "_modifiedby_value"}


class DvResources:
    """CRUD and upsert over the store for one Dataverse sandbox."""

    def __init__(self, store: Store, options: DvOptions, metadata: Metadata) -> None:
        self.store = store
        self.options = options
        self.metadata = metadata
        self.fallback_user = ""
        self._users: dict[str, str] = {}

    # ------------------------------------------------------------------ helpers
    def user_for(self, client_id: str | None) -> str:
        """systemuserid of the application user behind a client id."""
        if not client_id:
            return self.fallback_user
        if client_id not in self._users:
            rows = self.store.find_raw("systemusers", {"applicationid": client_id})
            self._users[client_id] = rows[0]["systemuserid"] if rows else self.fallback_user
        return self._users[client_id]

    def entity_url(self, req: Req, spec: EntitySpec, key: str) -> str:
        """``{api}/{set}({guid})`` as sent in OData-EntityId."""
        return f"{req.origin}{req.path_root}/{spec.name}({key})"

    def find(self, spec: EntitySpec, key: dict[str, Any]) -> Row | None:
        """Row by primary key or alternate key."""
        if list(key) == [spec.key]:
            return self.store.get_raw(spec.name, key[spec.key])
        rows = self.store.find_raw(spec.name, key)
        return rows[0] if rows else None

    @staticmethod
    def missing(spec: EntitySpec, key: dict[str, Any]) -> Resp:
        """404 as Dataverse words it."""
        shown = next(iter(key.values())) if len(key) == 1 else key
        return error(404, NOT_EXIST, f"{spec.type_name} With Id = {shown} Does Not Exist")

    def _bind(self, spec: EntitySpec, nav: Nav, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or "(" not in value:
            raise ODataError(400, BAD_SYNTAX, f"Invalid @odata.bind value for '{nav.name}'.")
        path = urlsplit(value).path if value.startswith("http") else value
        target_name, _, rest = path.rstrip(")").rpartition("/")[2].partition("(")
        target = self.store.specs.get(target_name)
        if target is None or target_name not in nav.targets:
            raise ODataError(
                400,
                BAD_SYNTAX,
                f"The entity set '{target_name}' is not valid for the navigation property "
                f"'{nav.name}' of '{spec.type_name}'.",
            )
        row = self.find(target, parse_key(target, rest, self.options))
        if row is None:
            raise ODataError(
                self.options.missing_bind_status,
                NOT_EXIST,
                f"{target.type_name} With Id = {rest} Does Not Exist",
            )
        return str(row[target.key])

    def values(self, req: Req, spec: EntitySpec, body: Any, creating: bool) -> Row:
        """Validate a write body into column values (binds resolved, system columns set)."""
        if not isinstance(body, dict):
            raise ODataError(400, BAD_SYNTAX, "The request body must be a JSON object.")
        navs: dict[str, Nav] = spec.extra["navs"]
        fields = spec.field_map
        options: tuple[str, ...] = spec.extra["options"]
        out: Row = {}
        for name, value in body.items():
            if name.endswith("@odata.bind"):
                nav_name = name[: -len("@odata.bind")]
                nav = navs.get(nav_name)
                if nav is None:
                    raise ODataError(
                        400,
                        BAD_SYNTAX,
                        f"An undeclared property '{nav_name}' which only has property "
                        "annotations in the payload but no property value was found in the "
                        "payload. In OData, only declared navigation properties and declared "
                        "named streams can be represented as properties without values.",
                    )
                out[nav.column] = self._bind(spec, nav, value)
                continue
            if "@" in name:
                continue
            if name not in fields:
                raise ODataError(
                    400,
                    BAD_SYNTAX,
                    f"The property '{name}' does not exist on type "
                    f"'Microsoft.Dynamics.CRM.{spec.type_name}'. Make sure to only use property "
                    "names that are defined by the type.",
                )
            if name in _IGNORED:
                continue
            if name.startswith("_") and name.endswith("_value"):
                raise ODataError(
                    400,
                    BAD_SYNTAX,
                    f"Invalid property '{name}' was found in entity "
                    f"'Microsoft.Dynamics.CRM.{spec.type_name}'. Write lookups with "
                    "'<navigation property>@odata.bind'.",
                )
            out[name] = coerce(spec, name, value)
            if name in options and out[name] is not None:
                allowed = self.metadata.valid_values(spec.type_name, name) or set()
                if out[name] not in allowed:
                    raise ODataError(
                        400,
                        VALIDATION,
                        f"A validation error occurred. The value {out[name]} of '{name}' on "
                        f"record of type '{spec.type_name}' is outside the valid range. "
                        f"Accepted Values: {','.join(str(v) for v in sorted(allowed))}",
                    )
        user = self.user_for(req.client_id)
        out["_modifiedby_value"] = user
        if creating:
            out["_createdby_value"] = user
            if "_ownerid_value" in fields and not out.get("_ownerid_value"):
                out["_ownerid_value"] = user
            for name, default in spec.extra["defaults"].items():
                out.setdefault(name, default)
        return out

    def _finish(self, spec: EntitySpec, values: Row, current: Row | None) -> None:
        """Computed columns, alternate-key uniqueness and reject rules."""
        merged = {**(current or {}), **values}
        if spec.name == "contacts" and ({"firstname", "lastname"} & values.keys()):
            values["fullname"] = " ".join(
                p for p in (merged.get("firstname"), merged.get("lastname")) if p
            )
        for key in self.options.alternate_keys.get(spec.name, []):
            if not (set(key) & values.keys()) or any(merged.get(c) is None for c in key):
                continue
            clash = [
                r
                for r in self.store.find_raw(spec.name, {c: merged[c] for c in key})
                if current is None or r[spec.key] != current[spec.key]
            ]
            if clash:
                raise ODataError(
                    412,
                    "0x80060892",
                    f"A record that has the attribute values {', '.join(key)} already exists. "
                    "The entity key requires that this set of attributes contains unique values.",
                )
        self.store.check_rejects(spec.name, merged)

    def _written(self, req: Req, spec: EntitySpec, row: Row, status: int, created: bool) -> Resp:
        url = self.entity_url(req, spec, row[spec.key])
        headers = {"OData-EntityId": url, "OData-Version": "4.0", "ETag": etag(row[VERSION])}
        if (
            "return" in parse_prefer(req.header("prefer"))
            and parse_prefer(req.header("prefer"))["return"] == "representation"
        ):
            select = parse_select(spec, req.query.get("$select"), spec.type_name)
            suffix = f"({','.join(select)})" if select else ""
            body = {
                "@odata.context": f"{req.origin}{req.path_root}/$metadata#{spec.name}"
                f"{suffix}/$entity",
                **entity_json(row, spec, select),
            }
            headers["Preference-Applied"] = "return=representation"
            return Resp(201 if created else 200, body, headers)
        if created:
            headers["Location"] = url
        return Resp(status, None, headers)

    # ------------------------------------------------------------------ handlers
    def get(self, req: Req, spec: EntitySpec, key: dict[str, Any]) -> Resp:
        """GET one row; If-None-Match with the current etag → 304."""
        row = self.find(spec, key)
        if row is None:
            return self.missing(spec, key)
        tag = req.header("if-none-match")
        if tag and etag_version(tag) == row[VERSION]:
            return Resp(304, None, {"ETag": etag(row[VERSION])})
        select = parse_select(spec, req.query.get("$select"), spec.type_name)
        suffix = f"({','.join(select)})" if select else ""
        body = {
            "@odata.context": f"{req.origin}{req.path_root}/$metadata#{spec.name}{suffix}/$entity",
            **entity_json(row, spec, select),
        }
        return Resp(200, body, {"ETag": etag(row[VERSION])})

    def create(self, req: Req, spec: EntitySpec) -> Resp:
        """POST: 204 + OData-EntityId (201 + body with return=representation)."""
        values = self.values(req, spec, req.json(), creating=True)
        key = values.get(spec.key)
        if key and self.store.get_raw(spec.name, key) is not None:
            return error(412, DUPLICATE, "A record with matching key values already exists.")
        self._finish(spec, values, None)
        row = self.store.insert_raw(spec.name, values)
        return self._written(req, spec, row, 204, created=True)

    def upsert(self, req: Req, spec: EntitySpec, key: dict[str, Any]) -> Resp:
        """PATCH: upsert without If-Match; ``If-Match: *`` update-only; ``If-None-Match: *``
        create-only; stale etag → 412."""
        body = req.json()
        if_match = req.header("if-match")
        if_none = req.header("if-none-match")
        current = self.find(spec, key)
        if current is None:
            if if_match:
                return self.missing(spec, key)
            values = self.values(req, spec, body, creating=True)
            for col, val in key.items():
                values.setdefault(col, val)
            self._finish(spec, values, None)
            row = self.store.insert_raw(spec.name, values)
            return self._written(req, spec, row, 204, created=True)
        if if_none and if_none.strip() == "*":
            return error(412, DUPLICATE, "A record with matching key values already exists.")
        if if_match and if_match.strip() != "*" and etag_version(if_match) != current[VERSION]:
            return error(
                412,
                VERSION_MISMATCH,
                "The version of the existing record doesn't "
                "match the RowVersion property provided.",
            )
        values = self.values(req, spec, body, creating=False)
        for col in key:
            values.pop(col, None)
        values.pop(spec.key, None)
        self._finish(spec, values, current)
        updated = self.store.update_raw(spec.name, current[spec.key], values)
        assert updated is not None
        return self._written(req, spec, updated, 204, created=False)

    def delete(self, req: Req, spec: EntitySpec, key: dict[str, Any]) -> Resp:
        """DELETE: 204, 404 when absent, 412 on a stale If-Match."""
        current = self.find(spec, key)
        if current is None:
            return self.missing(spec, key)
        if_match = req.header("if-match")
        if if_match and if_match.strip() != "*" and etag_version(if_match) != current[VERSION]:
            return error(
                412,
                VERSION_MISMATCH,
                "The version of the existing record doesn't "
                "match the RowVersion property provided.",
            )
        self.store.delete_raw(spec.name, current[spec.key])
        return Resp(204)

    @staticmethod
    def guarded(fn: Any, *args: Any) -> Resp:
        """Run a handler; validation and reject-rule errors become Dataverse error bodies."""
        try:
            result: Resp = fn(*args)
            return result
        except ODataError as exc:
            return error(exc.status, exc.code, exc.message)
        except RejectedError as exc:
            return error(400, "0x80040265", str(exc))
        except ValueError:
            return error(400, BAD_SYNTAX, "The request body is not valid JSON.")
