"""Dataverse specifics: request bodies with ``@odata.bind``, the multipart $batch, option sets."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from accord.connectors.base import EntityInfo, Record, Reference, WriteOp
from accord.connectors.dataverse.entities import OptionSet
from accord.connectors.http import HttpClient
from accord.connectors.odata import multipart
from accord.errors import ConfigError

HEADERS = {"OData-MaxVersion": "4.0", "OData-Version": "4.0"}
_ENTITY_ID = re.compile(r"\(([0-9a-fA-F-]{36})\)\s*$")
LANGUAGE = 1033


def default_scope(base_url: str) -> str:
    """``https://org.crm.dynamics.com/api/data/v9.2`` -> ``https://org.crm.dynamics.com/.default``."""
    url = httpx.URL(base_url)
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}/.default"


def id_from_entity_id(header: str | None) -> str | None:
    """The GUID at the end of an ``OData-EntityId`` header."""
    match = _ENTITY_ID.search(header or "")
    return match.group(1).lower() if match else None


def request_body(info: EntityInfo, values: Mapping[str, Any]) -> dict[str, Any]:
    """Engine values -> a Dataverse body: lookups become ``nav@odata.bind`` (None unbinds);
    read-only columns are left out."""
    body: dict[str, Any] = {}
    for name, value in values.items():
        field = info.fields.get(name)
        if "@" in name or (field is not None and field.read_only):
            continue
        if isinstance(value, Reference):
            nav = (field.targets or {}).get(value.entity) if field is not None else None
            if nav is None:
                raise ConfigError(f"{info.name}.{name} cannot point at {value.entity}")
            body[f"{nav}@odata.bind"] = f"/{value.entity}({value.id})"
        elif field is None or field.write_as is None or field.lookup_entity is None:
            body[name] = value
        else:
            bind = f"/{field.lookup_entity}({value})" if value else None
            body[f"{field.write_as}@odata.bind"] = bind
    return body


def part_for(
    info: EntityInfo, base_url: str, index: int, op: WriteOp, representation: bool = True
) -> multipart.PartRequest:
    """The batch part of one write (creates with an id are upserts by primary key)."""
    url = f"{base_url}/{info.name}"
    headers = {"Prefer": "return=representation"} if representation else {}
    content_id = str(index + 1)
    if op.kind == "create":
        body = request_body(info, op.values)
        if op.id:
            return multipart.PartRequest("PATCH", f"{url}({op.id})", headers, body, content_id)
        return multipart.PartRequest("POST", url, headers, body, content_id)
    headers["If-Match"] = op.etag or "*"
    if op.kind == "update":
        return multipart.PartRequest(
            "PATCH", f"{url}({op.id})", headers, request_body(info, op.values), content_id
        )
    return multipart.PartRequest("DELETE", f"{url}({op.id})", headers, None, content_id)


def post_batch(http: HttpClient, parts: Sequence[multipart.PartRequest]) -> httpx.Response:
    """POST one multipart batch that goes on after a failed part."""
    content, content_type = multipart.encode(parts)
    return http.request(
        "POST",
        "$batch",
        content=content,
        idempotent=False,
        headers={"Content-Type": content_type, "Prefer": "odata.continue-on-error"},
    )


# -- option sets --------------------------------------------------------------------------
def option_set_path(option_set: OptionSet) -> tuple[str, dict[str, str]]:
    path = (
        f"EntityDefinitions(LogicalName='{option_set.table}')/Attributes(LogicalName="
        f"'{option_set.attribute}')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
    )
    return path, {"$select": "LogicalName", "$expand": "OptionSet($select=Options)"}


def label_of(label: Any) -> str:
    """The user's label of a ``Label`` complex value."""
    if not isinstance(label, dict):
        return str(label or "")
    user = label.get("UserLocalizedLabel")
    if isinstance(user, dict) and user.get("Label") is not None:
        return str(user["Label"])
    localized = label.get("LocalizedLabels") or []
    return str(localized[0].get("Label", "")) if localized else ""


def option_records(body: Mapping[str, Any]) -> list[Record]:
    options = (body.get("OptionSet") or {}).get("Options") or []
    return [
        Record(id=str(o["Value"]), values={"value": o["Value"], "label": label_of(o.get("Label"))})
        for o in options
    ]


def option_action(option_set: OptionSet, op: WriteOp) -> tuple[str, dict[str, Any]]:
    """The action and body for one write to an option set."""
    body: dict[str, Any] = {
        "EntityLogicalName": option_set.table,
        "AttributeLogicalName": option_set.attribute,
    }
    value = op.id if op.id is not None else op.values.get("value")
    if op.kind == "delete":
        return "DeleteOptionValue", {**body, "Value": int(str(value))}
    label = {"LocalizedLabels": [{"Label": op.values.get("label", ""), "LanguageCode": LANGUAGE}]}
    body["Label"] = label
    if op.kind == "create":
        if value is not None:
            body["Value"] = int(str(value))
        return "InsertOptionValue", body
    return "UpdateOptionValue", {**body, "Value": int(str(value)), "MergeLabels": True}
