"""Deterministic Dataverse sample data. About half the accounts carry exactly the name and
account number of a Business Central customer (a few differ only in letter case), so
match-based coupling has something to find; users share emails with BC salespeople."""

from __future__ import annotations

from accord.sandboxes.common.seed import SALESPEOPLE, Gen, customer_party
from accord.sandboxes.common.store import Row, Store

CURRENCIES = (
    ("USD", "US Dollar", "$", 1.0),
    ("EUR", "Euro", "€", 0.92),
    ("GBP", "British Pound", "£", 0.79),
)
UNITS = (("Primary Unit", 1.0), ("PCS", 1.0), ("BOX", 12.0), ("PACK", 6.0))
CUSTOMER_TYPE = 3
"""``account.customertypecode`` Customer (1 Competitor ... 11 Vendor, 12 Other)."""
SALES_INVENTORY, SERVICES = 1, 3
"""``product.producttypecode`` values (2 Miscellaneous Charges, 4 Flat Fees)."""
INACTIVE = {"statecode": 1, "statuscode": 2}


def _excluded_users(gen: Gen) -> list[Row]:
    """Users Microsoft's SALESPEOPLE filter leaves out: disabled, unlicensed, integration."""
    rows = []
    for name, flags in (
        ("Dana Former", {"isdisabled": True}),
        ("Una Licensed", {"islicensed": False}),
        ("Ian Integration", {"isintegrationuser": True}),
    ):
        first, last = name.split(" ")
        email = f"{first.lower()}.{last.lower()}@accord.example.com"
        rows.append(
            {
                "systemuserid": gen.guid(),
                "fullname": name,
                "firstname": first,
                "lastname": last,
                "domainname": email,
                "internalemailaddress": email,
                **flags,
            }
        )
    return rows


def _exclude_some_accounts(rows: list[Row], shared: int, other_company: str) -> None:
    """Among the accounts only in Dataverse, some that Microsoft's CUSTOMER filter leaves out:
    a vendor, a competitor, one without a type, an inactive one and one of another company."""
    spoilers: list[Row] = [
        {"customertypecode": 11},
        {"customertypecode": 1},
        {"customertypecode": None},
        INACTIVE,
        {"_bcbi_companyid_value": other_company},
    ]
    for row, change in zip(rows[shared:], spoilers, strict=False):
        row.update(change)
        row["name"] = f"{row['name']} [excluded]"


def _product_kind(index: int) -> Row:
    """Products Microsoft's ITEM-PRODUCT filter leaves out: services, and inactive ones."""
    if index % 4 == 1:
        return {"producttypecode": SERVICES}
    if index % 4 == 2:
        return {"producttypecode": SALES_INVENTORY, **INACTIVE}
    return {"producttypecode": SALES_INVENTORY}


def seed(
    store: Store, records: int, seed_value: int, app_client_id: str, overlap: float = 0.5
) -> dict[str, str]:
    """Fill the store; returns ids of note (integration user, base currency, ...)."""
    gen = Gen(seed_value, "dataverse")
    users: list[Row] = [
        {
            "systemuserid": gen.guid(),
            "fullname": "# Accord integration",
            "firstname": "#",
            "lastname": "Accord integration",
            "domainname": "accord-integration@accord.example.com",
            "internalemailaddress": "accord-integration@accord.example.com",
            "applicationid": app_client_id,
            "accessmode": 4,
            "islicensed": False,
        }
    ]
    for _, name, email in SALESPEOPLE:
        first, last = name.split(" ", 1)
        users.append(
            {
                "systemuserid": gen.guid(),
                "fullname": name,
                "firstname": first,
                "lastname": last,
                "domainname": email,
                "internalemailaddress": email,
                "title": "Sales Representative",
            }
        )
    users += _excluded_users(gen)
    store.insert_many("systemusers", users)
    me = users[0]["systemuserid"]
    owned = {"_ownerid_value": me, "_createdby_value": me, "_modifiedby_value": me}
    currencies = [
        {
            "transactioncurrencyid": gen.guid(),
            "isocurrencycode": c,
            "currencyname": n,
            "currencysymbol": s,
            "exchangerate": r,
            **owned,
        }
        for c, n, s, r in CURRENCIES
    ]
    store.insert_many("transactioncurrencies", currencies)
    usd = currencies[0]["transactioncurrencyid"]
    schedule = {
        "uomscheduleid": gen.guid(),
        "name": "Default Unit",
        "baseuomname": "Primary Unit",
        **owned,
    }
    store.insert_many("uomschedules", [schedule])
    base_uom = gen.guid()
    uoms = [
        {
            "uomid": base_uom if i == 0 else gen.guid(),
            "name": n,
            "quantity": q,
            "isschedulebaseuom": i == 0,
            "_uomscheduleid_value": schedule["uomscheduleid"],
            "_baseuom_value": base_uom,
            **owned,
        }
        for i, (n, q) in enumerate(UNITS)
    ]
    store.insert_many("uoms", uoms)
    pricelevel = {
        "pricelevelid": gen.guid(),
        "name": "Standard USD",
        "begindate": "2024-01-01",
        "_transactioncurrencyid_value": usd,
        **owned,
    }
    store.insert_many("pricelevels", [pricelevel])
    other_company = {
        "bcbi_companyid": gen.guid(),
        "bcbi_name": "Fabrikam, Inc. (another Business Central company)",
        "bcbi_externalid": gen.guid(),
        **owned,
    }
    store.insert_many("bcbi_companies", [other_company])
    _accounts(store, gen, records, seed_value, overlap, owned, users, other_company)
    _products(store, gen, records, uoms, schedule, pricelevel, usd, owned)
    return {"integration_user": me, "base_currency": usd, "pricelevel": pricelevel["pricelevelid"]}


def _accounts(
    store: Store,
    gen: Gen,
    records: int,
    seed_value: int,
    overlap: float,
    owned: Row,
    users: list[Row],
    other_company: Row,
) -> None:
    total = records // 4
    shared = int(total * overlap)
    rows: list[Row] = []
    stride = max(1, records // max(shared, 1)) if shared else 1
    for i in range(shared):
        party = customer_party(seed_value, i * stride)  # the BC customer with that index
        name = party["name"]
        if len(rows) % 25 == 3:
            name = name.upper()  # differs from BC only in letter case
        rows.append(_account(gen, name, party["number"], party, owned, users, len(rows)))
    for j in range(total - shared):
        party = customer_party(seed_value + 7, j)
        rows.append(
            _account(gen, f"{party['name']} (CRM)", f"A{j + 1:06d}", party, owned, users, len(rows))
        )
    _exclude_some_accounts(rows, shared, other_company["bcbi_companyid"])
    store.insert_many("accounts", rows)
    contacts = []
    for k in range(records // 8):
        first, last = gen.person()
        parent = rows[k % len(rows)]["accountid"] if rows else None
        contacts.append(
            {
                "contactid": gen.guid(),
                "firstname": first,
                "lastname": last,
                "fullname": f"{first} {last}",
                "jobtitle": "Buyer",
                "emailaddress1": gen.email(f"{first}.{last}", f"crm{k % 97}"),
                "telephone1": gen.phone(),
                # every third contact has no company: the default filter leaves it out
                "_parentcustomerid_value": None if k % 3 == 2 else parent,
                **owned,
                "_ownerid_value": users[1 + k % 5]["systemuserid"],
            }
        )
    store.insert_many("contacts", contacts)


def _account(
    gen: Gen,
    name: str,
    number: str,
    party: dict[str, str],
    owned: Row,
    users: list[Row],
    index: int,
) -> Row:
    return {
        "accountid": gen.guid(),
        "name": name,
        "accountnumber": number,
        "telephone1": party["phone"],
        "emailaddress1": party["email"],
        "websiteurl": party["website"],
        "address1_line1": party["street"],
        "address1_city": party["city"],
        "address1_stateorprovince": party["state"],
        "address1_postalcode": party["postal"],
        "address1_country": party["country"],
        "paymenttermscode": 1 + index % 4,
        "address1_shippingmethodcode": 1 + index % 7,
        "address1_freighttermscode": 1 + index % 2,
        "customertypecode": CUSTOMER_TYPE,
        "creditlimit": float(5000 * (index % 5)),
        **owned,
        "_ownerid_value": users[1 + index % 5]["systemuserid"],
    }


def _products(
    store: Store,
    gen: Gen,
    records: int,
    uoms: list[Row],
    schedule: Row,
    pricelevel: Row,
    usd: str,
    owned: Row,
) -> None:
    if records <= 0:
        return
    products, prices = [], []
    for i in range(min(10, max(3, records // 50))):
        price = gen.money(5, 900)
        product = {
            "productid": gen.guid(),
            "name": f"{gen.item_name()} {i + 1}",
            "productnumber": f"P{(i + 1) * 10:05d}",
            "price": price,
            "standardcost": round(price * 0.6, 2),
            "currentcost": round(price * 0.6, 2),
            "_defaultuomid_value": uoms[1]["uomid"],
            "_defaultuomscheduleid_value": schedule["uomscheduleid"],
            "_pricelevelid_value": pricelevel["pricelevelid"],
            "_transactioncurrencyid_value": usd,
            **owned,
            **_product_kind(i),
        }
        products.append(product)
        prices.append(
            {
                "productpricelevelid": gen.guid(),
                "amount": price,
                "_pricelevelid_value": pricelevel["pricelevelid"],
                "_productid_value": product["productid"],
                "_uomid_value": uoms[1]["uomid"],
                "_transactioncurrencyid_value": usd,
                **owned,
            }
        )
    store.insert_many("products", products)
    store.insert_many("productpricelevels", prices)
