"""INTERIM (branch ``template``): descriptors of the custom-API entity sets the bc-sales
template reads (served by the sandbox at the standard route until the custom API group lands;
see :mod:`accord.sandboxes.business_central.interim`)."""

from __future__ import annotations

from accord.connectors.base import EntityInfo, FieldInfo, FieldType

S, D, B, OPT = FieldType.STRING, FieldType.DECIMAL, FieldType.BOOLEAN, FieldType.OPTION


def entities() -> tuple[EntityInfo, ...]:
    """The interim entity descriptors (built with the standard entities' helper)."""
    from accord.connectors.business_central.entities import _ADDRESS, _entity

    return (
        _entity(
            "shippingAgents",
            "code",
            FieldInfo("code", S, max_length=10),
            FieldInfo("displayName", S, max_length=50),
            FieldInfo("internetAddress", S, max_length=250),
            FieldInfo("accountNo", S, max_length=30),
        ),
        _entity(
            "unitGroups",
            "code",
            FieldInfo("code", S, max_length=50),
            FieldInfo("sourceType", OPT),
            FieldInfo("sourceNumber", S, max_length=20),
            FieldInfo("description", S, max_length=100),
        ),
        _entity(
            "itemUnitsOfMeasure",
            None,
            FieldInfo("itemNumber", S, max_length=20),
            FieldInfo("unitOfMeasureCode", S, max_length=10),
            FieldInfo("quantityPerUnitOfMeasure", D),
            FieldInfo("unitGroupCode", S, max_length=50),
        ),
        _entity(
            "currencyRates",
            "code",
            FieldInfo("code", S, max_length=10),
            FieldInfo("displayName", S, max_length=30),
            FieldInfo("symbol", S, max_length=10),
            FieldInfo("exchangeRate", D),
        ),
        _entity(
            "integrationContacts",
            "number",
            FieldInfo("number", S, max_length=20),
            FieldInfo("type", OPT),
            FieldInfo("displayName", S, max_length=100),
            FieldInfo("jobTitle", S, max_length=30),
            FieldInfo("companyNumber", S, max_length=20),
            FieldInfo("companyName", S, max_length=100),
            "contactBusinessRelation",
            *_ADDRESS,
            FieldInfo("mobilePhoneNumber", S, max_length=30),
            FieldInfo("privacyBlocked", B),
            FieldInfo("customerNumber", S, max_length=20),
        ),
    )
