"""Accord's custom API group for Business Central (docs/custom-api-group.md).

API v2.0 has no salespeople, price lists, shipping agents, unit groups or exchange rates. A
tenant publishes them by installing Accord's extension, whose AL API pages (publisher
``accord``, group ``integration``, version ``v1.0``) serve them at
``…/api/accord/integration/v1.0/companies({id})/{entitySet}`` with the same OData behaviour,
authentication and companies as v2.0. Entities here carry ``api_group`` so the connector
builds their URLs from the connection's v2.0 base URL.
"""

from __future__ import annotations

from accord.connectors.base import EntityInfo, FieldInfo, FieldType
from accord.connectors.business_central.custom_documents import API_GROUP, DOCUMENT_PAGES
from accord.connectors.business_central.entities import _ADDRESS, _entity
from accord.connectors.business_central.entities import ENTITIES as STANDARD
from accord.errors import ConfigError

STANDARD_API = "v2.0"

S, D, B, DT, OPT = (
    FieldType.STRING,
    FieldType.DECIMAL,
    FieldType.BOOLEAN,
    FieldType.DATE,
    FieldType.OPTION,
)


def _s(name: str, length: int, *, read_only: bool = False) -> FieldInfo:
    return FieldInfo(name, S, read_only=read_only, max_length=length)


def _group(name: str, natural_key: str | None, *fields: FieldInfo) -> EntityInfo:
    return _entity(name, natural_key, *fields, api_group=API_GROUP)


def _page_over(standard: str, name: str, *added: FieldInfo) -> EntityInfo:
    """A group page over the table of a v2.0 entity set: its fields plus ``added``."""
    base = STANDARD[standard]
    fields = [f for n, f in base.fields.items() if n not in ("id", base.modified_field)]
    return _group(name, base.natural_key, *fields, *added)


GROUP_ENTITIES: dict[str, EntityInfo] = {
    e.name: e
    for e in (
        _group(
            "salespeople",
            "code",
            _s("code", 20),
            _s("displayName", 50),
            _s("email", 80),
            _s("phoneNumber", 30),
            _s("jobTitle", 30),
            FieldInfo("commissionPercent", D),
            FieldInfo("blocked", B),
        ),
        _group(
            "shippingAgents",
            "code",
            _s("code", 10),
            _s("displayName", 50),
            _s("internetAddress", 250),
            _s("accountNo", 30),
        ),
        _group(
            "priceLists",
            "code",
            _s("code", 20),
            _s("description", 250),
            _s("currencyCode", 10),
            FieldInfo("status", OPT),
            FieldInfo("startingDate", DT),
            FieldInfo("endingDate", DT),
        ),
        _group(
            "priceListLines",
            None,
            _s("priceListCode", 20),
            FieldInfo("assetType", OPT),
            _s("assetNo", 20),
            _s("unitOfMeasureCode", 10),
            FieldInfo("minimumQuantity", D),
            FieldInfo("unitPrice", D),
            _s("currencyCode", 10),
            FieldInfo(
                "itemUnitOfMeasureId",
                FieldType.LOOKUP,
                read_only=True,
                lookup_entity="itemUnitsOfMeasure",
            ),
        ),
        _group(
            "unitGroups",
            "code",
            _s("code", 50, read_only=True),
            FieldInfo("sourceType", OPT, read_only=True),
            FieldInfo("sourceId", FieldType.LOOKUP, read_only=True, lookup_entity="items"),
            _s("sourceNumber", 20, read_only=True),
            _s("description", 100, read_only=True),
        ),
        _group(
            "itemUnitsOfMeasure",
            None,
            _s("itemNumber", 20),
            _s("unitOfMeasureCode", 10),
            FieldInfo("quantityPerUnitOfMeasure", D),
            _s("unitGroupCode", 50, read_only=True),
        ),
        _group(
            "currencyExchangeRates",
            None,
            _s("currencyCode", 10),
            FieldInfo("startingDate", DT),
            FieldInfo("exchangeRateAmount", D),
            _s("relationalCurrencyCode", 10),
            FieldInfo("relationalExchangeRateAmount", D),
        ),
        _group(
            "currencyRates",
            "code",
            _s("code", 10, read_only=True),
            _s("displayName", 30, read_only=True),
            _s("symbol", 10, read_only=True),
            FieldInfo("exchangeRate", D, read_only=True),
            FieldInfo("exchangeRateDate", DT, read_only=True),
        ),
        _group(
            "integrationContacts",
            "number",
            _s("number", 20),
            FieldInfo("type", OPT),
            _s("displayName", 100),
            _s("jobTitle", 30),
            _s("companyNumber", 20),
            _s("companyName", 100),
            _s("contactBusinessRelation", 30),
            *_ADDRESS,
            _s("mobilePhoneNumber", 30),
            FieldInfo("privacyBlocked", B),
            _s("customerNumber", 20),
        ),
        _page_over(
            "customers",
            "integrationCustomers",
            _s("shippingAgentCode", 10),
            _s("primaryContactNumber", 20),
        ),
        _page_over(
            "items",
            "integrationItems",
            FieldInfo(
                "baseItemUnitOfMeasureId", FieldType.LOOKUP, lookup_entity="itemUnitsOfMeasure"
            ),
        ),
    )
}
GROUP_ENTITIES.update(DOCUMENT_PAGES)  # order operations, archives, availability, ledger
"""The group's entity sets."""

ENTITIES: dict[str, EntityInfo] = {**STANDARD, **GROUP_ENTITIES}
"""Every entity the Business Central connector reaches (standard and group)."""

READ_ONLY: dict[str, frozenset[str]] = {
    e.name: frozenset(n for n, f in e.fields.items() if f.read_only) for e in ENTITIES.values()
}
"""Entity set name -> fields never sent on writes."""


def api_root(base_url: str, group: str | None) -> str:
    """The root URL of ``group``'s API beside the v2.0 ``base_url`` (same host, tenant,
    environment): ``…/api/v2.0`` → ``…/api/<publisher>/<group>/<version>``."""
    url = base_url.rstrip("/")
    if group is None:
        return url
    cut = url.rfind("/api/")
    if cut < 0:
        raise ConfigError(
            f"cannot place API group {group!r}: base URL {base_url!r} has no '/api/' segment "
            f"(expected …/api/{STANDARD_API})"
        )
    return f"{url[:cut]}/api/{group}"
