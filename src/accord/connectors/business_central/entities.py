"""Business Central API v2.0 entities as data (fields from the v2.0 resource pages).

What v2.0 lacks (salespeople, price lists, shipping agents, ...) lives in Accord's custom API
group: :mod:`accord.connectors.business_central.custom_api`.
"""

from __future__ import annotations

from accord.connectors.base import ChangeTracking, EntityInfo, FieldInfo, FieldType
from accord.connectors.business_central.documents import DOCUMENT_ENTITIES

S, D, B, G, T, OPT, DT = (
    FieldType.STRING,
    FieldType.DECIMAL,
    FieldType.BOOLEAN,
    FieldType.GUID,
    FieldType.DATETIME,
    FieldType.OPTION,
    FieldType.DATE,
)
MAX_PAGE_SIZE = 20_000
MAX_BATCH_SIZE = 100
MODIFIED = "lastModifiedDateTime"


def _lookup(name: str, entity: str) -> FieldInfo:
    return FieldInfo(name, FieldType.LOOKUP, lookup_entity=entity)


def _entity(
    name: str, natural_key: str | None, *fields: FieldInfo | str, api_group: str | None = None
) -> EntityInfo:
    infos = [FieldInfo("id", G, read_only=True)]
    infos += [f if isinstance(f, FieldInfo) else FieldInfo(f) for f in fields]
    infos.append(FieldInfo(MODIFIED, T, read_only=True))
    return EntityInfo(
        name=name,
        key="id",
        fields={f.name: f for f in infos},
        modified_field=MODIFIED,
        change_tracking=ChangeTracking.MODIFIED_SINCE,
        client_ids=False,
        natural_key=natural_key,
        max_page_size=MAX_PAGE_SIZE,
        max_batch_size=MAX_BATCH_SIZE,
        api_group=api_group,
    )


_CODE = FieldInfo("code", S, max_length=10)
_NAME = FieldInfo("displayName", S, max_length=100)
_ADDRESS = (
    FieldInfo("addressLine1", S, max_length=100),
    FieldInfo("addressLine2", S, max_length=50),
    FieldInfo("city", S, max_length=30),
    FieldInfo("state", S, max_length=30),
    FieldInfo("country", S, max_length=10),
    FieldInfo("postalCode", S, max_length=20),
    FieldInfo("phoneNumber", S, max_length=30),
    FieldInfo("email", S, max_length=80),
    FieldInfo("website", S, max_length=80),
)

ENTITIES: dict[str, EntityInfo] = {
    e.name: e
    for e in (
        _entity(
            "currencies",
            "code",
            _CODE,
            _NAME,
            "symbol",
            "amountDecimalPlaces",
            FieldInfo("amountRoundingPrecision", D),
        ),
        _entity("unitsOfMeasure", "code", _CODE, _NAME, "internationalStandardCode", "symbol"),
        _entity(
            "paymentTerms",
            "code",
            _CODE,
            _NAME,
            "dueDateCalculation",
            "discountDateCalculation",
            FieldInfo("discountPercent", D),
            FieldInfo("calculateDiscountOnCreditMemos", B),
        ),
        _entity("shipmentMethods", "code", _CODE, _NAME),
        _entity(
            "customers",
            "number",
            FieldInfo("number", S, max_length=20),
            _NAME,
            FieldInfo("type", OPT),
            *_ADDRESS,
            FieldInfo("salespersonCode", S, max_length=20),
            FieldInfo("balanceDue", D, read_only=True),
            FieldInfo("creditLimit", D),
            FieldInfo("taxLiable", B),
            FieldInfo("taxAreaId", G),
            FieldInfo("taxAreaDisplayName", read_only=True),
            "taxRegistrationNumber",
            _lookup("currencyId", "currencies"),
            FieldInfo("currencyCode", S, max_length=10),
            _lookup("paymentTermsId", "paymentTerms"),
            _lookup("shipmentMethodId", "shipmentMethods"),
            FieldInfo("paymentMethodId", G),
            FieldInfo("blocked", OPT),
        ),
        _entity(
            "contacts",
            "number",
            FieldInfo("number", S, max_length=20),
            FieldInfo("type", OPT),
            _NAME,
            FieldInfo("jobTitle", S, max_length=30),
            FieldInfo("companyNumber", S, max_length=20),
            "companyName",
            "contactBusinessRelation",
            *_ADDRESS,
            FieldInfo("mobilePhoneNumber", S, max_length=30),
            FieldInfo("searchName", read_only=True),
            FieldInfo("privacyBlocked", B),
            "taxRegistrationNumber",
            FieldInfo("lastInteractionDate", DT, read_only=True),
        ),
        _entity(
            "items",
            "number",
            FieldInfo("number", S, max_length=20),
            _NAME,
            FieldInfo("displayName2", S, max_length=50),
            FieldInfo("type", OPT),
            FieldInfo("itemCategoryId", G),
            "itemCategoryCode",
            FieldInfo("blocked", B),
            "gtin",
            FieldInfo("inventory", D, read_only=True),
            FieldInfo("unitPrice", D),
            FieldInfo("priceIncludesTax", B),
            FieldInfo("unitCost", D),
            FieldInfo("taxGroupId", G),
            "taxGroupCode",
            _lookup("baseUnitOfMeasureId", "unitsOfMeasure"),
            FieldInfo("baseUnitOfMeasureCode", S, max_length=10),
            FieldInfo("generalProductPostingGroupId", G),
            "generalProductPostingGroupCode",
            FieldInfo("inventoryPostingGroupId", G),
            "inventoryPostingGroupCode",
        ),
    )
}
"""Entity set name -> description."""
ENTITIES.update(DOCUMENT_ENTITIES)  # sales documents: documents.py


READ_ONLY: dict[str, frozenset[str]] = {
    e.name: frozenset(n for n, f in e.fields.items() if f.read_only) for e in ENTITIES.values()
}
"""Entity set name -> fields never sent on writes."""

NULL_GUID = "00000000-0000-0000-0000-000000000000"


def bc_values(info: EntityInfo, values: dict[str, object]) -> dict[str, object]:
    """Business Central has no null text or GUID: blank text is ``""``, no reference the
    all-zero GUID. A null sent for either is refused ("Cannot convert a value…")."""
    out = dict(values)
    for name, value in values.items():
        if value is not None:
            continue
        field = info.fields.get(name)
        if field is None:
            continue
        if field.type in (FieldType.GUID, FieldType.LOOKUP):
            out[name] = NULL_GUID
        elif field.type in (FieldType.STRING, FieldType.OPTION):
            out[name] = ""
    return out
