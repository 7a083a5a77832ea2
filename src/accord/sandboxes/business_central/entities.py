"""Business Central API v2.0 entity sets served by the sandbox (fields per the v2.0 resource
pages). What v2.0 lacks (salespeople, price lists, ...) is in the custom API group of
:mod:`.custom_api`."""

from __future__ import annotations

from dataclasses import dataclass

from accord.sandboxes.business_central.documents import document_specs
from accord.sandboxes.common.clock import format_ms
from accord.sandboxes.common.store import EntitySpec, Field, FieldType

ZERO_GUID = "00000000-0000-0000-0000-000000000000"
MODIFIED = "lastModifiedDateTime"


@dataclass(frozen=True)
class Lookup:
    """An id/code pair on an entity resolved against another entity set's ``code``."""

    id_field: str
    code_field: str | None
    target: str
    caption: str


def _f(spec: str) -> Field:
    """``name:type:maxlen:ro`` shorthand; defaults are BC's blank values."""
    parts = spec.split(":")
    name = parts[0]
    ftype: FieldType = parts[1] if len(parts) > 1 and parts[1] else "str"  # type: ignore[assignment]
    max_len = int(parts[2]) if len(parts) > 2 and parts[2] else None
    read_only = len(parts) > 3 and parts[3] == "ro"
    default: object = {
        "str": "",
        "guid": ZERO_GUID,
        "int": 0,
        "float": 0.0,
        "bool": False,
        "datetime": "0001-01-01T00:00:00Z",
        "date": "0001-01-01",
    }[ftype]
    if name == "id":
        default = None  # the store assigns a fresh GUID
    return Field(name, ftype, max_len, read_only, default, index=name in _INDEXED)


_INDEXED = ("number", "code", "documentId", "externalDocumentNumber")
"""Columns the store indexes: numbers, a document's lines, an order found by its external
document number (so the sandbox never scans a large table)."""


def _spec(
    name: str, type_name: str, fields: str, *, scoped: bool = True, **extra: object
) -> EntitySpec:
    parsed = [_f(s) for s in fields.split()]
    names = {f.name for f in parsed}
    return EntitySpec(
        name=name,
        key="id",
        fields=tuple(parsed),
        modified=MODIFIED if MODIFIED in names else None,
        scoped=scoped,
        time_format=format_ms,
        type_name=type_name,
        extra=dict(extra),
    )


_ID = "id:guid::ro"
_MOD = f"{MODIFIED}:datetime::ro"
_ADDRESS = "addressLine1::100 addressLine2::50 city::30 state::30 country::10 postalCode::20"

SPECS: tuple[EntitySpec, ...] = (
    _spec(
        "companies",
        "company",
        "id:guid::ro systemVersion:::ro timestamp:int::ro name:::ro displayName::250 "
        "businessProfileId systemCreatedAt:datetime::ro systemCreatedBy:guid::ro "
        "systemModifiedAt:datetime::ro systemModifiedBy:guid::ro",
        scoped=False,
        read_only=True,
    ),
    _spec(
        "currencies",
        "currency",
        f"{_ID} code::10 displayName::30 symbol::10 amountDecimalPlaces::5 "
        f"amountRoundingPrecision:float {_MOD}",
    ),
    _spec(
        "unitsOfMeasure",
        "unitOfMeasure",
        f"{_ID} code::10 displayName::50 internationalStandardCode::10 symbol::10 {_MOD}",
    ),
    _spec(
        "paymentTerms",
        "paymentTerm",
        f"{_ID} code::10 displayName::100 dueDateCalculation::32 discountDateCalculation::32 "
        f"discountPercent:float calculateDiscountOnCreditMemos:bool {_MOD}",
    ),
    _spec("shipmentMethods", "shipmentMethod", f"{_ID} code::10 displayName::100 {_MOD}"),
    _spec("itemCategories", "itemCategory", f"{_ID} code::20 displayName::100 {_MOD}"),
    _spec(
        "customers",
        "customer",
        f"{_ID} number::20 displayName::100 type {_ADDRESS} phoneNumber::30 email::80 "
        "website::80 salespersonCode::20 balanceDue:float::ro creditLimit:float taxLiable:bool "
        "taxAreaId:guid taxAreaDisplayName:::ro taxRegistrationNumber::20 currencyId:guid "
        "currencyCode::10 paymentTermsId:guid shipmentMethodId:guid paymentMethodId:guid blocked "
        f"{_MOD}",
        number=("C", 5, 10),
        enums={"type": ("Company", "Person"), "blocked": (" ", "Ship", "Invoice", "All")},
        defaults={"type": "Company", "blocked": " "},
        lookups=(
            Lookup("currencyId", "currencyCode", "currencies", "Currency"),
            Lookup("paymentTermsId", None, "paymentTerms", "Payment Terms"),
            Lookup("shipmentMethodId", None, "shipmentMethods", "Shipment Method"),
        ),
    ),
    _spec(
        "contacts",
        "contact",
        f"{_ID} number::20 type displayName::100 jobTitle::30 companyNumber::20 "
        f"companyName::100 contactBusinessRelation::30 {_ADDRESS} phoneNumber::30 "
        "mobilePhoneNumber::30 email::80 website::80 searchName:::ro privacyBlocked:bool "
        f"taxRegistrationNumber::20 lastInteractionDate:date::ro {_MOD}",
        number=("CT", 6, 10),
        enums={"type": ("Company", "Person")},
        defaults={"type": "Person"},
    ),
    _spec(
        "items",
        "item",
        f"{_ID} number::20 displayName::100 displayName2::50 type itemCategoryId:guid "
        "itemCategoryCode::20 blocked:bool gtin::14 inventory:float::ro unitPrice:float "
        "priceIncludesTax:bool unitCost:float taxGroupId:guid taxGroupCode::20 "
        "baseUnitOfMeasureId:guid baseUnitOfMeasureCode::10 generalProductPostingGroupId:guid "
        "generalProductPostingGroupCode::20 inventoryPostingGroupId:guid "
        f"inventoryPostingGroupCode::20 {_MOD}",
        number=("I", 5, 10),
        enums={"type": ("Inventory", "Service", "Non-Inventory")},
        defaults={"type": "Inventory"},
        lookups=(
            Lookup(
                "baseUnitOfMeasureId", "baseUnitOfMeasureCode", "unitsOfMeasure", "Unit of Measure"
            ),
            Lookup("itemCategoryId", "itemCategoryCode", "itemCategories", "Item Category"),
        ),
    ),
)

SPECS += document_specs(_spec)  # sales documents: documents.py
BY_NAME: dict[str, EntitySpec] = {s.name: s for s in SPECS}
