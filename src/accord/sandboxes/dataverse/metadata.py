"""Dataverse metadata the integration needs: option sets (read through ``EntityDefinitions``
and extended with the ``InsertOptionValue`` action), entity definitions with alternate keys,
and ``WhoAmI``."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Mapping
from typing import Any

from accord.sandboxes.common.http import Req, Resp
from accord.sandboxes.common.store import EntitySpec
from accord.sandboxes.dataverse.protocol import BAD_SYNTAX, NOT_EXIST, DvOptions, error

DEFAULT_OPTIONS: dict[tuple[str, str], list[tuple[int, str]]] = {
    ("account", "paymenttermscode"): [
        (1, "Net 30"),
        (2, "2% 10, Net 30"),
        (3, "Net 45"),
        (4, "Net 60"),
    ],
    ("account", "address1_shippingmethodcode"): [
        (1, "Airborne"),
        (2, "DHL"),
        (3, "FedEx"),
        (4, "UPS"),
        (5, "Postal Mail"),
        (6, "Full Load"),
        (7, "Will Call"),
    ],
    ("account", "address1_freighttermscode"): [(1, "FOB"), (2, "No Charge")],
    ("account", "customertypecode"): [
        (1, "Competitor"),
        (2, "Consultant"),
        (3, "Customer"),
        (4, "Investor"),
        (5, "Partner"),
        (6, "Influencer"),
        (7, "Press"),
        (8, "Prospect"),
        (9, "Reseller"),
        (10, "Supplier"),
        (11, "Vendor"),
        (12, "Other"),
    ],
}
_ATTR = re.compile(
    r"^EntityDefinitions\(LogicalName='(?P<entity>\w+)'\)"
    r"(?:/(?P<part>Attributes|Keys)(?:\(LogicalName='(?P<attr>\w+)'\))?"
    r"(?:/Microsoft\.Dynamics\.CRM\.(?P<cast>\w+))?)?$"
)
FIRST_CUSTOM_VALUE = 100_000_000


def _mid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, "/".join(parts)))


def _label(text: str) -> dict[str, Any]:
    loc = {
        "Label": text,
        "LanguageCode": 1033,
        "IsManaged": False,
        "MetadataId": _mid("label", text),
        "HasChanged": None,
    }
    return {"LocalizedLabels": [loc], "UserLocalizedLabel": loc}


class Metadata:
    """Option sets and entity definitions of one Dataverse sandbox."""

    def __init__(self, options: DvOptions, specs: Mapping[str, EntitySpec]) -> None:
        self.options = options
        self.by_logical = {s.type_name: s for s in specs.values()}
        self.option_sets = {k: list(v) for k, v in DEFAULT_OPTIONS.items()}
        self._lock = threading.Lock()

    def valid_values(self, logical: str, attribute: str) -> set[int] | None:
        """Allowed values of an option-set column (None if it is not one)."""
        values = self.option_sets.get((logical, attribute))
        return None if values is None else {v for v, _ in values}

    def handle(self, req: Req) -> Resp:
        """GET EntityDefinitions(...)[/Attributes(...)[/cast]] or .../Keys."""
        m = _ATTR.match(req.path)
        if m is None:
            return error(400, BAD_SYNTAX, f"Unsupported metadata request '{req.path}'.")
        spec = self.by_logical.get(m["entity"])
        if spec is None:
            return error(404, NOT_EXIST, f"Could not find an entity with name {m['entity']}.")
        base = f"{req.origin}{req.path_root}"
        if m["part"] is None:
            return Resp(
                200,
                {
                    "@odata.context": f"{base}/$metadata#EntityDefinitions/$entity",
                    "LogicalName": spec.type_name,
                    "EntitySetName": spec.name,
                    "PrimaryIdAttribute": spec.key,
                    "MetadataId": _mid("entity", spec.type_name),
                    "ChangeTrackingEnabled": self.options.change_tracking is None
                    or spec.name in self.options.change_tracking,
                },
            )
        if m["part"] == "Keys":
            keys = self.options.alternate_keys.get(spec.name, [])
            return Resp(
                200,
                {
                    "@odata.context": (
                        f"{base}/$metadata#EntityDefinitions('{spec.type_name}')/Keys"
                    ),
                    "value": [
                        {
                            "LogicalName": "_".join(k),
                            "KeyAttributes": list(k),
                            "EntityKeyIndexStatus": "Active",
                            "MetadataId": _mid("key", spec.name, *k),
                        }
                        for k in keys
                    ],
                },
            )
        attr = m["attr"]
        if attr is None or attr not in spec.field_map:
            return error(404, NOT_EXIST, f"Could not find attribute '{attr}' on {spec.type_name}.")
        values = self.option_sets.get((spec.type_name, attr))
        if m["cast"] == "PicklistAttributeMetadata" and values is None:
            return error(404, NOT_EXIST, f"Attribute '{attr}' is not a picklist attribute.")
        cast = m["cast"] or "AttributeMetadata"
        body: dict[str, Any] = {
            "@odata.context": f"{base}/$metadata#EntityDefinitions('{spec.type_name}')/"
            f"Attributes/Microsoft.Dynamics.CRM.{cast}/$entity",
            "LogicalName": attr,
            "MetadataId": _mid("attr", spec.type_name, attr),
        }
        if values is not None:
            body["OptionSet"] = {
                "MetadataId": _mid("optionset", spec.type_name, attr),
                "Name": f"{spec.type_name}_{attr}",
                "IsGlobal": False,
                "Options": [
                    {
                        "Value": v,
                        "Color": None,
                        "IsManaged": False,
                        "ExternalValue": "",
                        "ParentValues": [],
                        "Label": _label(t),
                        "Description": _label(""),
                    }
                    for v, t in values
                ],
            }
        return Resp(200, body)

    def insert_option_value(self, req: Req) -> Resp:
        """POST InsertOptionValue → ``{"NewOptionValue": n}``."""
        body = req.json() or {}
        found = self._option_request(body)
        if isinstance(found, Resp):
            return found
        key, text = found
        with self._lock:
            values = self.option_sets.get(key)
            if values is None:
                return error(404, NOT_EXIST, f"Option set {key[0]}.{key[1]} does not exist.")
            taken = {v for v, _ in values}
            value = body.get("Value")
            if value is None:
                custom = [v for v in taken if v >= FIRST_CUSTOM_VALUE]
                value = max([FIRST_CUSTOM_VALUE - 1, *custom]) + 1
            elif value in taken:
                return error(
                    400, "0x80047013", f"An option with value {value} already exists in {key[1]}."
                )
            values.append((int(value), str(text)))
        ctx = (
            f"{req.origin}{req.path_root}/$metadata#"
            "Microsoft.Dynamics.CRM.InsertOptionValueResponse"
        )
        return Resp(200, {"@odata.context": ctx, "NewOptionValue": value})

    def update_option_value(self, req: Req) -> Resp:
        """POST UpdateOptionValue: a new label for an existing option (204)."""
        body = req.json() or {}
        found = self._option_request(body)
        if isinstance(found, Resp):
            return found
        key, text = found
        with self._lock:
            values = self.option_sets.get(key)
            if values is None:
                return error(404, NOT_EXIST, f"Option set {key[0]}.{key[1]} does not exist.")
            index = next((i for i, (v, _) in enumerate(values) if v == body.get("Value")), None)
            if index is None:
                return error(
                    404, NOT_EXIST, f"No option with value {body.get('Value')} in {key[1]}."
                )
            values[index] = (values[index][0], str(text))
        return Resp(204, None)

    @staticmethod
    def _option_request(body: dict[str, Any]) -> tuple[tuple[str, str], str] | Resp:
        """(entity, attribute) and the label of an Insert/UpdateOptionValue request."""
        key = (str(body.get("EntityLogicalName", "")), str(body.get("AttributeLogicalName", "")))
        labels = (body.get("Label") or {}).get("LocalizedLabels") or [{}]
        text = labels[0].get("Label")
        if not text:
            return error(400, BAD_SYNTAX, "Label is required.")
        return key, str(text)

    def who_am_i(self, req: Req, user_id: str) -> Resp:
        """GET WhoAmI."""
        base = f"{req.origin}{req.path_root}"
        return Resp(
            200,
            {
                "@odata.context": f"{base}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
                "BusinessUnitId": _mid("bu", self.options.org),
                "UserId": user_id,
                "OrganizationId": _mid("org", self.options.org),
            },
        )
