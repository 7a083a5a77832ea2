"""The custom API group ``accord/integration/v1.0`` as a tenant publishes it with Accord's
Business Central extension (docs/custom-api-group.md): entity sets that API v2.0 lacks, served
at ``/api/accord/integration/v1.0/companies({id})/{entitySet}``.

Each entity set is an AL API page over one base-app table (``ODataKeyFields = SystemId``), so
``id`` is the row's SystemId and ``lastModifiedDateTime`` its SystemModifiedAt, except for the
computed ``currencyRates`` (one row per currency, see :mod:`.exchange`)."""

from __future__ import annotations

from dataclasses import replace

from accord.sandboxes.business_central import custom_documents, entities
from accord.sandboxes.business_central.entities import _f, _spec  # the standard's shorthand
from accord.sandboxes.common.store import EntitySpec

PUBLISHER, GROUP, VERSION = "accord", "integration", "v1.0"
ROUTE = f"{PUBLISHER}/{GROUP}/{VERSION}"
"""The route below ``/api/``."""

CONTACT_FIELDS = (
    "number::20 type displayName::100 jobTitle::30 companyNumber::20 companyName::100 "
    "contactBusinessRelation::30 addressLine1::100 addressLine2::50 city::30 state::30 "
    "country::10 postalCode::20 phoneNumber::30 mobilePhoneNumber::30 email::80 website::80 "
    "privacyBlocked:bool customerNumber::20"
)
_ID = "id:guid::ro"
_MOD = "lastModifiedDateTime:datetime::ro"


def _page_over(standard: str, name: str, type_name: str, added: str) -> EntitySpec:
    """An API page over the same table as the v2.0 entity set ``standard``: its fields (same
    names, types, lookups and number series) plus ``added``; a view of the same rows."""
    base = entities.BY_NAME[standard]
    fields = list(base.fields)
    at = next(i for i, f in enumerate(fields) if f.name == "lastModifiedDateTime")
    fields[at:at] = [_f(spec) for spec in added.split()]
    return replace(base, name=name, type_name=type_name, fields=tuple(fields), view_of=standard)


SPECS: tuple[EntitySpec, ...] = (
    _spec(
        "salespeople",
        "salesperson",
        f"{_ID} code::20 displayName::50 email::80 phoneNumber::30 jobTitle::30 "
        f"commissionPercent:float blocked:bool {_MOD}",
    ),
    _spec(
        "shippingAgents",
        "shippingAgent",
        f"{_ID} code::10 displayName::50 internetAddress::250 accountNo::30 {_MOD}",
    ),
    _spec(
        "priceLists",
        "priceList",
        f"{_ID} code::20 description::250 currencyCode::10 status startingDate:date "
        f"endingDate:date {_MOD}",
        enums={"status": ("Draft", "Active", "Inactive")},
        defaults={"status": "Active"},
    ),
    _spec(
        "priceListLines",
        "priceListLine",
        f"{_ID} priceListCode::20 assetType assetNo::20 unitOfMeasureCode::10 "
        f"minimumQuantity:float unitPrice:float currencyCode::10 "
        f"itemUnitOfMeasureId:guid {_MOD}",  # read-only: the router sets it from item and unit
        defaults={"assetType": "Item"},
    ),
    _spec(
        "unitGroups",
        "unitGroup",
        f"{_ID} code::50:ro sourceType:::ro sourceId:guid::ro sourceNumber::20:ro "
        f"description::100:ro {_MOD}",
        read_only=True,
        enums={"sourceType": ("Item", "Resource")},
    ),
    _spec(
        "itemUnitsOfMeasure",
        "itemUnitOfMeasure",
        f"{_ID} itemNumber::20 unitOfMeasureCode::10 quantityPerUnitOfMeasure:float "
        f"unitGroupCode::50 {_MOD}",  # read-only: the router sets it from the item
    ),
    _spec(
        "currencyExchangeRates",
        "currencyExchangeRate",
        f"{_ID} currencyCode::10 startingDate:date exchangeRateAmount:float "
        f"relationalCurrencyCode::10 relationalExchangeRateAmount:float {_MOD}",
    ),
    # computed: its lastModifiedDateTime is set by the refresh, not stamped by the store
    replace(
        _spec(
            "currencyRates",
            "currencyRate",
            f"{_ID} code::10:ro displayName::30:ro symbol::10:ro exchangeRate:float::ro "
            f"exchangeRateDate:date::ro {_MOD}",
            read_only=True,
        ),
        modified=None,
    ),
    replace(
        _spec(
            # Contact (table 5050) with the customer its company contact is related to
            # through the business relation for customers (Microsoft's
            # FindContactRelatedCustomer): API v2.0 ``contacts`` gives only the company
            # *contact* number (docs/custom-api-group.md)
            "integrationContacts",
            "integrationContact",
            f"{_ID} {CONTACT_FIELDS} {_MOD}",
            number=("CT", 6, 10),
            enums={"type": ("Company", "Person")},
            defaults={"type": "Person"},
        ),
        view_of="contacts",
    ),
    *custom_documents.SPECS,
    # Customer (table 18) with what v2.0 ``customers`` lacks: Shipping Agent Code and
    # Primary Contact No. (Microsoft's CUSTOMER mapping carries both)
    _page_over(
        "customers",
        "integrationCustomers",
        "integrationCustomer",
        "shippingAgentCode::10 primaryContactNumber::20",
    ),
    # Item (table 27) with the Item Unit of Measure of its base unit (Microsoft's
    # ITEM-PRODUCT maps Base Unit of Measure to the product's default unit)
    _page_over("items", "integrationItems", "integrationItem", "baseItemUnitOfMeasureId:guid"),
)
"""The group's entity sets (the store holds them next to the standard ones)."""

BY_NAME: dict[str, EntitySpec] = {s.name: s for s in SPECS}

UNIT_GROUP_PREFIX = {"Item": "ITEM", "Resource": "RESOURCE"}


def unit_group_code(source_type: str, number: str) -> str:
    """``Unit Group.GetCode()``: ``ITEM <No.> UOM GR`` (``RESOURCE …`` for resources)."""
    return f"{UNIT_GROUP_PREFIX[source_type]} {number} UOM GR"
