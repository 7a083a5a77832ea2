"""Dataverse (Dynamics 365 Sales) tables as data, with the lookups' navigation properties.

Lookups are exposed under their read names (``_transactioncurrencyid_value``) as
``FieldType.LOOKUP``; :data:`LOOKUPS` says how each is written
(``<navprop>@odata.bind: "/<entityset>(<guid>)"``).
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.connectors.base import ChangeTracking, EntityInfo, FieldInfo, FieldType
from accord.connectors.dataverse.documents import TABLES, TARGETS

S, D, B, G, T, OPT, INT, DT = (
    FieldType.STRING,
    FieldType.DECIMAL,
    FieldType.BOOLEAN,
    FieldType.GUID,
    FieldType.DATETIME,
    FieldType.OPTION,
    FieldType.INTEGER,
    FieldType.DATE,
)
MAX_PAGE_SIZE = 5000
MAX_BATCH_SIZE = 1000
MODIFIED = "modifiedon"


@dataclass(frozen=True)
class Lookup:
    """How a lookup column is written: ``nav@odata.bind: "/<target>(<guid>)"``."""

    nav: str
    target: str


@dataclass(frozen=True)
class OptionSet:
    """An option-set pseudo-entity (``account.paymenttermscode``): rows are the options."""

    table: str
    attribute: str


COMPANY_LOOKUP = "_bcbi_companyid_value"
"""The company a row belongs to, in Microsoft's integration solution (``bcbi_companyid``,
a lookup to ``bcbi_company``; CRMAccount.Table.al field CompanyId)."""
_COMPANY = {COMPANY_LOOKUP: Lookup("bcbi_CompanyId", "bcbi_companies")}

LOOKUPS: dict[str, dict[str, Lookup]] = {
    "uoms": {
        "_uomscheduleid_value": Lookup("uomscheduleid", "uomschedules"),
        "_baseuom_value": Lookup("baseuom", "uoms"),
    },
    "accounts": {
        "_transactioncurrencyid_value": Lookup("transactioncurrencyid", "transactioncurrencies"),
        "_primarycontactid_value": Lookup("primarycontactid", "contacts"),
        "_parentaccountid_value": Lookup("parentaccountid", "accounts"),
        "_ownerid_value": Lookup("ownerid", "systemusers"),
        **_COMPANY,
    },
    "contacts": {
        "_parentcustomerid_value": Lookup("parentcustomerid_account", "accounts"),
        "_transactioncurrencyid_value": Lookup("transactioncurrencyid", "transactioncurrencies"),
        "_ownerid_value": Lookup("ownerid", "systemusers"),
        **_COMPANY,
    },
    "products": {
        "_defaultuomid_value": Lookup("defaultuomid", "uoms"),
        "_defaultuomscheduleid_value": Lookup("defaultuomscheduleid", "uomschedules"),
        "_pricelevelid_value": Lookup("pricelevelid", "pricelevels"),
        "_transactioncurrencyid_value": Lookup("transactioncurrencyid", "transactioncurrencies"),
        **_COMPANY,
    },
    "pricelevels": {
        "_transactioncurrencyid_value": Lookup("transactioncurrencyid", "transactioncurrencies"),
        **_COMPANY,
    },
    "productpricelevels": {
        "_pricelevelid_value": Lookup("pricelevelid", "pricelevels"),
        "_productid_value": Lookup("productid", "products"),
        "_uomid_value": Lookup("uomid", "uoms"),
        "_transactioncurrencyid_value": Lookup("transactioncurrencyid", "transactioncurrencies"),
    },
}
"""Entity set -> lookup read name -> how to write it."""

OPTION_SETS: dict[str, OptionSet] = {
    "account.paymenttermscode": OptionSet("account", "paymenttermscode"),
    "account.address1_shippingmethodcode": OptionSet("account", "address1_shippingmethodcode"),
    "account.address1_freighttermscode": OptionSet("account", "address1_freighttermscode"),
}

_ADDRESS = tuple(
    FieldInfo(f"address1_{n}", S, max_length=m)
    for n, m in (
        ("line1", 250),
        ("line2", 250),
        ("city", 80),
        ("stateorprovince", 50),
        ("country", 80),
        ("postalcode", 20),
    )
)


def _entity(
    name: str,
    key: str,
    natural_key: str | None,
    *fields: FieldInfo | str,
    tracking: ChangeTracking = ChangeTracking.DELTA,
) -> EntityInfo:
    lookups = LOOKUPS.get(name, {})
    infos = [FieldInfo(key, G, read_only=True)]
    infos += [f if isinstance(f, FieldInfo) else FieldInfo(f) for f in fields]
    infos += [
        FieldInfo(
            n,
            FieldType.LOOKUP,
            lookup_entity=lk.target,
            write_as=lk.nav,
            targets=TARGETS.get(name, {}).get(n),
        )
        for n, lk in lookups.items()
    ]
    infos.append(FieldInfo(MODIFIED, T, read_only=True))
    return EntityInfo(
        name=name,
        key=key,
        fields={f.name: f for f in infos},
        modified_field=MODIFIED,
        change_tracking=tracking,
        client_ids=True,
        natural_key=natural_key,
        max_page_size=MAX_PAGE_SIZE,
        max_batch_size=MAX_BATCH_SIZE,
    )


def _option_set(name: str) -> EntityInfo:
    return EntityInfo(
        name=name,
        key="value",
        fields={"value": FieldInfo("value", INT), "label": FieldInfo("label", S)},
        modified_field=None,
        change_tracking=ChangeTracking.SNAPSHOT,
        client_ids=False,
        natural_key="label",
        max_page_size=MAX_PAGE_SIZE,
        max_batch_size=1,
    )


_STATE = (FieldInfo("statecode", OPT), FieldInfo("statuscode", OPT))

ENTITIES: dict[str, EntityInfo] = {
    e.name: e
    for e in (
        _entity(
            "transactioncurrencies",
            "transactioncurrencyid",
            "isocurrencycode",
            FieldInfo("isocurrencycode", S, max_length=5),
            "currencyname",
            "currencysymbol",
            FieldInfo("exchangerate", D),
            FieldInfo("currencyprecision", INT),
            *_STATE,
        ),
        _entity(
            "uomschedules",
            "uomscheduleid",
            "name",
            FieldInfo("name", S, max_length=200),
            "baseuomname",
            "description",
            *_STATE,
        ),
        _entity(
            "uoms",
            "uomid",
            "name",
            FieldInfo("name", S, max_length=100),
            FieldInfo("quantity", D),
            FieldInfo("isschedulebaseuom", B),
        ),
        _entity(
            "systemusers",
            "systemuserid",
            "internalemailaddress",
            "fullname",
            "firstname",
            "lastname",
            "domainname",
            "internalemailaddress",
            FieldInfo("applicationid", G),
            FieldInfo("isdisabled", B),
            FieldInfo("accessmode", OPT),
            FieldInfo("islicensed", B),
            FieldInfo("isintegrationuser", B),
            "mobilephone",
            "title",
            *_STATE,
        ),
        _entity(
            "bcbi_companies",
            "bcbi_companyid",
            "bcbi_externalid",
            FieldInfo("bcbi_name", S, max_length=100),
            FieldInfo("bcbi_externalid", S, max_length=36),
            *_STATE,
        ),
        _entity(
            "accounts",
            "accountid",
            "accountnumber",
            FieldInfo("name", S, max_length=160),
            FieldInfo("accountnumber", S, max_length=20),
            "telephone1",
            "emailaddress1",
            "websiteurl",
            *_ADDRESS,
            FieldInfo("creditlimit", D),
            FieldInfo("paymenttermscode", OPT),
            FieldInfo("address1_shippingmethodcode", OPT),
            FieldInfo("address1_freighttermscode", OPT),
            FieldInfo("customertypecode", OPT),
            "description",
            *_STATE,
        ),
        _entity(
            "contacts",
            "contactid",
            "emailaddress1",
            "firstname",
            "lastname",
            FieldInfo("fullname", S, read_only=True),
            "emailaddress1",
            "telephone1",
            "mobilephone",
            "jobtitle",
            *_ADDRESS,
            *_STATE,
        ),
        _entity(
            "products",
            "productid",
            "productnumber",
            FieldInfo("name", S, max_length=100),
            FieldInfo("productnumber", S, max_length=100),
            "description",
            FieldInfo("price", D),
            FieldInfo("standardcost", D),
            FieldInfo("currentcost", D),
            FieldInfo("quantitydecimal", INT),
            FieldInfo("producttypecode", OPT),
            FieldInfo("quantityonhand", D),
            *_STATE,
        ),
        _entity(
            "pricelevels",
            "pricelevelid",
            "name",
            FieldInfo("name", S, max_length=100),
            "description",
            FieldInfo("begindate", DT),
            FieldInfo("enddate", DT),
            *_STATE,
        ),
        _entity(
            "productpricelevels",
            "productpricelevelid",
            None,
            FieldInfo("amount", D),
            FieldInfo("pricingmethodcode", OPT),
        ),
        _option_set("account.paymenttermscode"),
        _option_set("account.address1_shippingmethodcode"),
        _option_set("account.address1_freighttermscode"),
    )
}
"""Entity name -> description."""
for _table in TABLES:  # sales documents: documents.py
    LOOKUPS[_table.name] = {c: Lookup(nav, target) for c, (nav, target) in _table.lookups.items()}
    ENTITIES[_table.name] = _entity(_table.name, _table.key, _table.natural_key, *_table.fields)

READ_ONLY: dict[str, frozenset[str]] = {
    e.name: frozenset(n for n, f in e.fields.items() if f.read_only) for e in ENTITIES.values()
}
