"""Dataverse wire details: options, error bodies, etags, key segments, body validation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from accord.sandboxes.common.http import Resp
from accord.sandboxes.common.odata import DATE_RE, EDM, GUID_RE, ODataError
from accord.sandboxes.common.store import VERSION, EntitySpec, Row
from accord.sandboxes.dataverse.entities import DEFAULT_ALTERNATE_KEYS

_PAIR = re.compile(r"\s*(\w+)\s*=\s*('(?:[^']|'')*'|[^,]+)\s*(?:,|$)")
NOT_EXIST = "0x80040217"
BAD_SYNTAX = "0x80060888"
DUPLICATE = "0x80040237"
VERSION_MISMATCH = "0x80060882"
VALIDATION = "0x80044331"


@dataclass
class DvOptions:
    """Behaviour switches; the [I] (inferred) facts of the reference are configurable here."""

    org: str = "accord-sandbox"
    tenant: str = "accord-sandbox-tenant"
    page_size: int = 5000
    max_page_size: int = 5000
    count_limit: int = 5000
    batch_limit: int = 1000
    alternate_keys: dict[str, list[tuple[str, ...]]] = field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_ALTERNATE_KEYS.items()}
    )
    """[I] Alternate keys per entity set (accountnumber is not a key out of the box)."""
    change_tracking: set[str] | None = None
    """Entity sets with change tracking enabled (None = all)."""
    missing_bind_status: int = 404
    """[I] Status when an @odata.bind target does not exist."""
    custom_columns: dict[str, list[str]] = field(default_factory=dict)
    """Columns a customizer added, per entity set, as ``name:type:maxlen`` (type one of
    str, int, float (Edm.Decimal), bool, date, datetime, guid), e.g.
    ``{"accounts": ["cr3f2_loyaltytier::100"]}``; served and described like standard ones."""

    @property
    def resource(self) -> str:
        """The environment URL used as token audience."""
        return f"https://{self.org}.crm.dynamics.com"


def error(status: int, code: str, message: str) -> Resp:
    """A Dataverse error response."""
    return Resp(status, {"error": {"code": code, "message": message}})


def fault_body(status: int, kind: str) -> dict[str, Any]:
    """Error bodies for injected faults and the service-protection limit."""
    if status == 429:
        return {
            "error": {
                "code": "0x80072322",
                "message": "Number of requests exceeded the "
                "limit of 6000 over time window of 300 seconds.",
            }
        }
    return {"error": {"code": "0x80040216", "message": f"An unexpected error occurred ({kind})."}}


def etag(version: int) -> str:
    """Dataverse etag: the row version number."""
    return f'W/"{version}"'


def etag_version(tag: str) -> int | None:
    """The version inside ``W/"123"``, or None."""
    text = tag.strip().removeprefix("W/").strip('"')
    return int(text) if text.isdigit() else None


def entity_json(row: Row, spec: EntitySpec, names: list[str] | None = None) -> dict[str, Any]:
    """A stored row as Dataverse JSON; the primary key is always present."""
    out: dict[str, Any] = {"@odata.etag": etag(row[VERSION])}
    if names is None:
        for name in spec.names:
            out[name] = row[name]
        return out
    for name in names:
        out[name] = row[name]
    out[spec.key] = row[spec.key]
    return out


def parse_key(spec: EntitySpec, text: str, options: DvOptions) -> dict[str, Any]:
    """A key segment: ``<guid>`` or ``col='v'[,col2=2]`` (must be a defined alternate key)."""
    if GUID_RE.match(text):
        return {spec.key: text.lower()}
    pairs: dict[str, Any] = {}
    pos = 0
    while pos < len(text):
        m = _PAIR.match(text, pos)
        if m is None or m.end() == pos:
            raise ODataError(400, BAD_SYNTAX, f"Bad Request - Error in query syntax: ({text}).")
        raw = m.group(2).strip()
        if raw.startswith("'"):
            pairs[m.group(1)] = raw[1:-1].replace("''", "'")
        else:
            pairs[m.group(1)] = int(raw) if raw.lstrip("-").isdigit() else raw
        pos = m.end()
    if spec.key in pairs and len(pairs) == 1:
        return {spec.key: str(pairs[spec.key]).lower()}
    defined = options.alternate_keys.get(spec.name, [])
    if tuple(sorted(pairs)) not in {tuple(sorted(k)) for k in defined}:
        raise ODataError(
            400,
            BAD_SYNTAX,
            f"The key attribute(s) '{','.join(pairs)}' do not form an alternate key defined for "
            f"the entity '{spec.type_name}'.",
        )
    return pairs


def coerce(spec: EntitySpec, name: str, value: Any) -> Any:
    """Check one column value's type and length (Dataverse error codes on failure)."""
    f = spec.field_map[name]
    if value is None:
        return None
    ok = True
    if f.type == "str":
        ok = isinstance(value, str)
    elif f.type == "float":
        ok = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
        value = Decimal(str(value)) if ok else value  # exact, as Edm.Decimal is
    elif f.type == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif f.type == "bool":
        ok = isinstance(value, bool)
    elif f.type == "guid":
        ok = isinstance(value, str) and GUID_RE.match(value) is not None
        value = value.lower() if ok else value
    elif f.type == "date":
        ok = isinstance(value, str) and DATE_RE.match(value[:10]) is not None
        value = value[:10] if ok else value
    if not ok:
        raise ODataError(
            400,
            BAD_SYNTAX,
            f"Cannot convert the literal '{value}' to the expected "
            f"type '{EDM[f.type]}' of property '{name}'.",
        )
    if f.max_length is not None and isinstance(value, str) and len(value) > f.max_length:
        raise ODataError(
            400,
            VALIDATION,
            f"A validation error occurred. The length of the '{name}' attribute of the "
            f"'{spec.type_name}' entity exceeded the maximum allowed length of "
            f"'{f.max_length}'.",
        )
    return value
