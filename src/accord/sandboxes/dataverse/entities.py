"""Dataverse tables served by the sandbox: columns, lookups (read as ``_x_value``, written as
``navprop@odata.bind``), alternate keys and option-set columns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from accord.sandboxes.common.clock import format_s
from accord.sandboxes.common.store import EntitySpec, Field, FieldType
from accord.sandboxes.dataverse.documents import document_specs


@dataclass(frozen=True)
class Nav:
    """A single-valued navigation property that writes one lookup column."""

    name: str
    column: str
    targets: tuple[str, ...]


SYSTEM = ("_createdby_value", "_modifiedby_value", "createdon", "modifiedon")


def _f(spec: str) -> Field:
    """``name:type:maxlen`` shorthand; Dataverse leaves unset columns null."""
    parts = spec.split(":")
    ftype: FieldType = parts[1] if len(parts) > 1 and parts[1] else "str"  # type: ignore[assignment]
    max_len = int(parts[2]) if len(parts) > 2 and parts[2] else None
    name = parts[0]
    read_only = name in SYSTEM or (name.startswith("_") and name.endswith("_value"))
    return Field(name, ftype, max_len, read_only, None, index=name in INDEXED)


INDEXED = {
    "accountnumber",
    "name",
    "isocurrencycode",
    "productnumber",
    "internalemailaddress",
    "applicationid",
    "emailaddress1",
    "_salesorderid_value",  # a document's lines
    "_quoteid_value",
    "_invoiceid_value",
}
_STD = (
    "statecode:int statuscode:int _ownerid_value:guid _createdby_value:guid "
    "_modifiedby_value:guid createdon:datetime modifiedon:datetime"
)
_ADDR = (
    "address1_line1::250 address1_line2::250 address1_city::80 "
    "address1_stateorprovince::50 address1_postalcode::20 address1_country::80"
)


def _spec(
    set_name: str,
    logical: str,
    key: str,
    fields: str,
    *navs: Nav,
    defaults: Mapping[str, object] | None = None,
    options: tuple[str, ...] = (),
) -> EntitySpec:
    parsed = tuple(_f(s) for s in f"{key}:guid {fields}".split())
    return EntitySpec(
        name=set_name,
        key=key,
        fields=parsed,
        modified="modifiedon",
        created="createdon",
        time_format=format_s,
        type_name=logical,
        extra={
            "navs": {n.name: n for n in navs},
            "defaults": dict(defaults or {}),
            "options": options,
        },
    )


_OWNER = Nav("ownerid", "_ownerid_value", ("systemusers",))
_CURRENCY = Nav("transactioncurrencyid", "_transactioncurrencyid_value", ("transactioncurrencies",))
_ACTIVE = {"statecode": 0, "statuscode": 1}
_COMPANY = Nav("bcbi_CompanyId", "_bcbi_companyid_value", ("bcbi_companies",))
"""Microsoft's integration solution stripes rows by Business Central company: a lookup
``bcbi_companyid`` to ``bcbi_company`` (CRMAccount.Table.al field CompanyId)."""
_CO = "_bcbi_companyid_value:guid "

SPECS: tuple[EntitySpec, ...] = (
    _spec(
        "systemusers",
        "systemuser",
        "systemuserid",
        "fullname::200 firstname::64 lastname::64 domainname::1024 "
        "internalemailaddress::100 applicationid:guid isdisabled:bool accessmode:int "
        "islicensed:bool isintegrationuser:bool mobilephone::64 title::128 " + _STD,
        defaults={
            "isdisabled": False,
            "accessmode": 0,
            "islicensed": True,
            "isintegrationuser": False,
            **_ACTIVE,
        },
    ),
    _spec(
        "bcbi_companies",
        "bcbi_company",
        "bcbi_companyid",
        "bcbi_name::100 bcbi_externalid::36 " + _STD,
        _OWNER,
        defaults=_ACTIVE,
    ),
    _spec(
        "transactioncurrencies",
        "transactioncurrency",
        "transactioncurrencyid",
        "isocurrencycode::5 currencyname::100 currencysymbol::10 exchangerate:float "
        "currencyprecision:int " + _STD,
        _OWNER,
        defaults={"currencyprecision": 2, **_ACTIVE},
    ),
    _spec(
        "uomschedules",
        "uomschedule",
        "uomscheduleid",
        "name::200 baseuomname::100 description::2000 " + _STD,
        _OWNER,
        defaults=_ACTIVE,
    ),
    _spec(
        "uoms",
        "uom",
        "uomid",
        "name::100 quantity:float isschedulebaseuom:bool "
        "_uomscheduleid_value:guid _baseuom_value:guid " + _STD,
        Nav("uomscheduleid", "_uomscheduleid_value", ("uomschedules",)),
        Nav("baseuom", "_baseuom_value", ("uoms",)),
        defaults={"quantity": 1.0},
    ),
    _spec(
        "pricelevels",
        "pricelevel",
        "pricelevelid",
        "name::100 description::200 begindate:date enddate:date "
        "_transactioncurrencyid_value:guid " + _CO + _STD,
        _CURRENCY,
        _OWNER,
        _COMPANY,
        defaults=_ACTIVE,
    ),
    _spec(
        "accounts",
        "account",
        "accountid",
        "name::160 accountnumber::20 telephone1::50 emailaddress1::100 websiteurl::200 "
        f"{_ADDR} address1_shippingmethodcode:int address1_freighttermscode:int "
        "paymenttermscode:int customertypecode:int creditlimit:float "
        "description::2000 _transactioncurrencyid_value:guid _primarycontactid_value:guid "
        "_parentaccountid_value:guid " + _CO + _STD,
        _CURRENCY,
        _OWNER,
        _COMPANY,
        Nav("primarycontactid", "_primarycontactid_value", ("contacts",)),
        Nav("parentaccountid", "_parentaccountid_value", ("accounts",)),
        defaults=_ACTIVE,
        options=(
            "paymenttermscode",
            "address1_shippingmethodcode",
            "address1_freighttermscode",
            "customertypecode",
        ),
    ),
    _spec(
        "contacts",
        "contact",
        "contactid",
        "firstname::50 lastname::50 fullname::160 jobtitle::100 emailaddress1::100 "
        f"telephone1::50 mobilephone::50 {_ADDR} _parentcustomerid_value:guid "
        "_transactioncurrencyid_value:guid " + _CO + _STD,
        _CURRENCY,
        _OWNER,
        _COMPANY,
        Nav("parentcustomerid_account", "_parentcustomerid_value", ("accounts",)),
        Nav("parentcustomerid_contact", "_parentcustomerid_value", ("contacts",)),
        defaults=_ACTIVE,
    ),
    _spec(
        "products",
        "product",
        "productid",
        "name::100 productnumber::100 description::2000 price:float standardcost:float "
        "currentcost:float quantitydecimal:int producttypecode:int quantityonhand:float "
        "_defaultuomid_value:guid _defaultuomscheduleid_value:guid _pricelevelid_value:guid "
        "_transactioncurrencyid_value:guid " + _CO + _STD,
        _CURRENCY,
        _OWNER,
        _COMPANY,
        Nav("defaultuomid", "_defaultuomid_value", ("uoms",)),
        Nav("defaultuomscheduleid", "_defaultuomscheduleid_value", ("uomschedules",)),
        Nav("pricelevelid", "_pricelevelid_value", ("pricelevels",)),
        defaults={"quantitydecimal": 2, "producttypecode": 1, **_ACTIVE},
    ),
    _spec(
        "productpricelevels",
        "productpricelevel",
        "productpricelevelid",
        "amount:float pricingmethodcode:int _pricelevelid_value:guid _productid_value:guid "
        "_uomid_value:guid _transactioncurrencyid_value:guid " + _STD,
        Nav("pricelevelid", "_pricelevelid_value", ("pricelevels",)),
        Nav("productid", "_productid_value", ("products",)),
        Nav("uomid", "_uomid_value", ("uoms",)),
        _CURRENCY,
        defaults={"pricingmethodcode": 1},
    ),
)

_PLUGIN_REGISTRATION: tuple[EntitySpec, ...] = (
    # how webhooks are registered: a service endpoint and a step per message and table
    _spec(
        "serviceendpoints",
        "serviceendpoint",
        "serviceendpointid",
        "name::256 url::2000 contract:int authtype:int authvalue::4000 messageformat:int "
        "description::2000 createdon:datetime modifiedon:datetime",
        defaults={"messageformat": 2},
    ),
    _spec("sdkmessages", "sdkmessage", "sdkmessageid", "name::256 modifiedon:datetime"),
    _spec(
        "sdkmessagefilters",
        "sdkmessagefilter",
        "sdkmessagefilterid",
        "primaryobjecttypecode::100 _sdkmessageid_value:guid modifiedon:datetime",
        Nav("sdkmessageid", "_sdkmessageid_value", ("sdkmessages",)),
    ),
    _spec(
        "sdkmessageprocessingsteps",
        "sdkmessageprocessingstep",
        "sdkmessageprocessingstepid",
        "name::256 mode:int stage:int rank:int supporteddeployment:int asyncautodelete:bool "
        "statecode:int _sdkmessageid_value:guid _sdkmessagefilterid_value:guid "
        "_eventhandler_value:guid createdon:datetime modifiedon:datetime",
        Nav("sdkmessageid", "_sdkmessageid_value", ("sdkmessages",)),
        Nav("sdkmessagefilterid", "_sdkmessagefilterid_value", ("sdkmessagefilters",)),
        Nav("eventhandler_serviceendpoint", "_eventhandler_value", ("serviceendpoints",)),
        defaults={"mode": 1, "stage": 40, "rank": 1, "supporteddeployment": 0, "statecode": 0},
    ),
)
SPECS = SPECS + _PLUGIN_REGISTRATION
SPECS += document_specs(_spec, Nav)  # sales documents: documents.py

BY_NAME: dict[str, EntitySpec] = {s.name: s for s in SPECS}
BY_LOGICAL: dict[str, EntitySpec] = {s.type_name: s for s in SPECS}

DEFAULT_ALTERNATE_KEYS: dict[str, list[tuple[str, ...]]] = {
    "accounts": [("accountnumber",)],
    "transactioncurrencies": [("isocurrencycode",)],
    "products": [("productnumber",)],
    "uomschedules": [("name",)],
}


def with_custom_columns(
    specs: tuple[EntitySpec, ...], columns: Mapping[str, list[str]]
) -> tuple[EntitySpec, ...]:
    """``specs`` with the customizer's columns (``name:type:maxlen``) added per entity set."""
    unknown = sorted(set(columns) - {s.name for s in specs})
    if unknown:
        raise ValueError(f"custom columns for unknown entity sets {unknown}")
    out = []
    for spec in specs:
        added = tuple(_f(c) for c in columns.get(spec.name, ()))
        taken = {f.name for f in spec.fields} & {f.name for f in added}
        if taken:
            raise ValueError(f"{spec.name} already has column(s) {sorted(taken)}")
        out.append(replace(spec, fields=spec.fields + added) if added else spec)
    return tuple(out)
