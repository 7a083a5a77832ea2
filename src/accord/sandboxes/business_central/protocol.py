"""Business Central wire details: options, error bodies, etags and write-body validation."""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from accord.sandboxes.business_central.webhook_options import WebhookOptions
from accord.sandboxes.common.http import Resp
from accord.sandboxes.common.odata import DATE_RE, EDM, GUID_RE, ODataError
from accord.sandboxes.common.store import VERSION, EntitySpec, Row


@dataclass
class BcOptions:
    """Behaviour switches; the [I] (inferred) facts of the reference are configurable here."""

    tenant: str = "accord-sandbox-tenant"
    environment: str = "production"
    page_size: int = 20000
    max_page_size: int = 20000
    top_limit: int | None = None
    """[I] When set, ``$top`` above it answers 413 (operational limit); None pages instead."""
    missing_if_match_status: int = 400
    """[I] HTTP status for a PATCH/DELETE without If-Match (code BadRequest_InvalidToken)."""
    read_only_policy: str = "ignore"
    """[I] "ignore" drops read-only fields from write bodies, "reject" answers 400."""
    batch_limit: int = 100
    snapshot_failed_status: int = 424
    """[I] Status reported for the other operations of a rolled-back ``Isolation: snapshot``."""
    webhooks: WebhookOptions = field(default_factory=WebhookOptions)
    """Delay, coalescing, retries and lifetime of webhook subscriptions."""
    custom_api: bool = True
    """Accord's extension is installed: the ``accord/integration/v1.0`` API group is served
    (False: its routes answer 404, as on a tenant without the extension)."""


def error(status: int, code: str, message: str) -> Resp:
    """A BC error response ``{"error": {"code", "message ... CorrelationId:  x."}}``."""
    return Resp(status, error_body(code, message))


def error_body(code: str, message: str) -> dict[str, Any]:
    """The BC error body with a fresh correlation id."""
    return {"error": {"code": code, "message": f"{message}  CorrelationId:  {uuid.uuid4()}."}}


def fault_body(status: int, kind: str) -> dict[str, Any]:
    """Error bodies for injected faults and the rate limit."""
    if status == 429:
        return error_body(
            "Application_TooManyRequests",
            "Too many requests reached. Actual (6001). Maximum (6000).",
        )
    codes = {
        500: "Internal_ServerError",
        502: "Internal_BadGateway",
        503: "Internal_ServiceUnavailable",
        504: "Internal_GatewayTimeout",
        408: "Internal_RequestTimeout",
    }
    return error_body(codes.get(status, "Unknown"), f"The service answered {status} ({kind}).")


def etag(key: str, version: int) -> str:
    """Weak etag shaped like BC's: W/"<base64 of '<version>;<hash>1;00;'>"."""
    digest = base64.b64encode(hashlib.sha256(f"{key}:{version}".encode()).digest()).decode()
    raw = f"'{version};{digest}1;00;'".encode()
    return f'W/"{base64.b64encode(raw).decode()}"'


def etag_version(tag: str) -> int | None:
    """The row version inside an etag, or None when it is not one of ours."""
    text = tag.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    try:
        decoded = base64.b64decode(text, validate=True).decode()
        return int(decoded.strip("'").split(";")[0])
    except (ValueError, UnicodeDecodeError):
        return None


def entity_json(row: Row, spec: EntitySpec, names: list[str] | None = None) -> dict[str, Any]:
    """A stored row as BC JSON: ``@odata.etag`` then the (selected) fields."""
    out: dict[str, Any] = {"@odata.etag": etag(row[spec.key], row[VERSION])}
    for name in names or spec.names:
        out[name] = row[name]
    return out


def _bad(message: str) -> ODataError:
    return ODataError(400, "BadRequest", message)


def coerce_body(spec: EntitySpec, body: Any, options: BcOptions, creating: bool) -> Row:
    """Validate a POST/PATCH body against the entity's fields (BC error codes on failure)."""
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object.")
    fields = spec.field_map
    enums: dict[str, tuple[str, ...]] = spec.extra.get("enums", {})
    out: Row = {}
    for name, value in body.items():
        if name.startswith("@"):
            continue
        field = fields.get(name)
        if field is None:
            raise _bad(
                f"The property '{name}' does not exist on type 'Microsoft.NAV.{spec.type_name}'. "
                "Make sure to only use property names that are defined by the type."
            )
        if field.read_only and not (creating and name == spec.key):
            if options.read_only_policy == "reject":
                raise _bad(f"The property '{name}' is read-only and cannot be modified.")
            continue
        out[name] = _coerce(field.type, name, value)
        text = out[name]
        if field.max_length is not None and isinstance(text, str) and len(text) > field.max_length:
            raise ODataError(
                400,
                "Application_StringExceededLength",
                f"The length of the string is {len(text)}, but it must be less than or "
                f"equal to {field.max_length} characters. Value: {text}",
            )
        if name in enums and out[name] not in enums[name]:
            raise _bad(
                f"Cannot convert the literal '{value}' to the expected type "
                f"'Microsoft.NAV.{spec.type_name}{name[0].upper()}{name[1:]}'."
            )
    return out


def _coerce(ftype: str, name: str, value: Any) -> Any:
    ok = True
    if ftype == "str":
        ok = isinstance(value, str)
    elif ftype == "float":
        ok = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
        value = Decimal(str(value)) if ok else value  # exact, as Edm.Decimal is
    elif ftype == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif ftype == "bool":
        ok = isinstance(value, bool)
    elif ftype == "guid":
        ok = isinstance(value, str) and GUID_RE.match(value) is not None
        value = value.lower() if ok else value
    elif ftype == "date":
        ok = isinstance(value, str) and DATE_RE.match(value) is not None
    if not ok:
        raise _bad(
            f"Cannot convert a value of property '{name}' to the expected type '{EDM[ftype]}'."
        )
    return value
