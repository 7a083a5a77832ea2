"""Deterministic Business Central sample data: two companies, setup tables, customers,
contacts, items and price lists (only the default company gets ``records`` customers)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from accord.sandboxes.business_central.entities import ZERO_GUID
from accord.sandboxes.common.seed import SALESPEOPLE, Gen, customer_party
from accord.sandboxes.common.store import Row, Store

COMPANIES = ("CRONUS USA, Inc.", "CRONUS Canada, Inc.")
CURRENCIES = (
    ("EUR", "Euro", "€", 0.92),
    ("GBP", "British Pound", "£", 0.79),
    ("CAD", "Canadian Dollar", "$", 1.36),
    ("DKK", "Danish Krone", "kr", 6.87),
    ("JPY", "Japanese Yen", "¥", 151.2),
    ("MXN", "Mexican Peso", "$", 17.1),
)
UNITS = (
    ("PCS", "Piece", "EA"),
    ("BOX", "Box", "BX"),
    ("KG", "Kilogram", "KGM"),
    ("HOUR", "Hour", "HUR"),
    ("DAY", "Day", "DAY"),
    ("PACK", "Pack", "PK"),
    ("SET", "Set", "SET"),
    ("L", "Liter", "LTR"),
)
PAYMENT_TERMS = (
    ("14 DAYS", "Net 14 days", "14D", "", 0.0),
    ("1M(8D)", "1 Month/2% 8 days", "1M", "8D", 2.0),
    ("CM", "Current Month", "CM", "", 0.0),
    ("COD", "Cash on delivery", "0D", "", 0.0),
    ("30 DAYS", "Net 30 days", "30D", "", 0.0),
)
SHIPMENT_METHODS = (
    ("CFR", "Cost and Freight"),
    ("CIF", "Cost Insurance and Freight"),
    ("DDP", "Delivered Duty Paid"),
    ("EXW", "Ex Warehouse"),
    ("FOB", "Free on Board"),
)
CATEGORIES = (
    ("FURNITURE", "Office Furniture"),
    ("ELECTRONICS", "Electronics"),
    ("OUTDOOR", "Outdoor"),
    ("MISC", "Miscellaneous"),
)


def _setup(store: Store, gen: Gen, company: str) -> dict[str, list[Row]]:
    """Insert setup tables; returns their rows (with ids) by entity."""
    made: dict[str, list[Row]] = {}
    data: dict[str, list[Row]] = {
        "currencies": [
            {
                "id": gen.guid(),
                "code": c,
                "displayName": n,
                "symbol": s,
                "amountDecimalPlaces": "0" if c == "JPY" else "2:2",
                "amountRoundingPrecision": 1.0 if c == "JPY" else 0.01,
            }
            for c, n, s, _ in CURRENCIES
        ],
        "unitsOfMeasure": [
            {
                "id": gen.guid(),
                "code": c,
                "displayName": n,
                "internationalStandardCode": iso,
                "symbol": "",
            }
            for c, n, iso in UNITS
        ],
        "paymentTerms": [
            {
                "id": gen.guid(),
                "code": c,
                "displayName": n,
                "dueDateCalculation": due,
                "discountDateCalculation": disc,
                "discountPercent": pct,
                "calculateDiscountOnCreditMemos": False,
            }
            for c, n, due, disc, pct in PAYMENT_TERMS
        ],
        "shipmentMethods": [
            {"id": gen.guid(), "code": c, "displayName": n} for c, n in SHIPMENT_METHODS
        ],
        "itemCategories": [{"id": gen.guid(), "code": c, "displayName": n} for c, n in CATEGORIES],
        "salespeople": [
            {
                "id": gen.guid(),
                "code": c,
                "displayName": n,
                "email": e,
                "phoneNumber": gen.phone(),
                "commissionPercent": 5.0,
                "jobTitle": "Account Manager",
                "blocked": False,
            }
            for c, n, e in SALESPEOPLE
        ],
    }
    for entity, rows in data.items():
        store.insert_many(entity, rows, company)
        made[entity] = rows
    return made


SEED_CHUNK = 50_000
"""Rows generated and inserted at a time: a million customers never sit in one list."""


def _insert_chunks(store: Store, entity: str, rows: Iterable[Row], company: str) -> None:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= SEED_CHUNK:
            store.insert_many(entity, chunk, company)
            chunk = []
    store.insert_many(entity, chunk, company)


def _customers(gen: Gen, setup: dict[str, list[Row]], count: int) -> Iterator[Row]:
    """Customers whose number/name/contact details come from ``customer_party`` (generated
    lazily; the random draws happen in the same order as a list would make them)."""
    currencies = setup["currencies"][:3]
    terms, methods = setup["paymentTerms"], setup["shipmentMethods"]
    codes = [c for c, _, _ in SALESPEOPLE]
    for i in range(count):
        p = customer_party(gen.seed, i)
        cur = currencies[i % len(currencies)] if gen.chance(0.15) else None
        yield (
            {
                "id": gen.guid(),
                "number": p["number"],
                "displayName": p["name"],
                "type": "Company",
                "addressLine1": p["street"],
                "addressLine2": "",
                "city": p["city"],
                "state": p["state"],
                "country": p["country"],
                "postalCode": p["postal"],
                "phoneNumber": p["phone"],
                "email": p["email"],
                "website": p["website"],
                "salespersonCode": codes[i % len(codes)] if i % 5 else "",
                "balanceDue": 0.0,
                "creditLimit": float(gen.rnd.choice((0, 5000, 10000, 25000))),
                "taxLiable": gen.chance(0.7),
                "taxAreaId": ZERO_GUID,
                "taxAreaDisplayName": "",
                "taxRegistrationNumber": "",
                "currencyId": cur["id"] if cur else ZERO_GUID,
                "currencyCode": cur["code"] if cur else "",
                "paymentTermsId": terms[i % len(terms)]["id"],
                "shipmentMethodId": methods[i % len(methods)]["id"],
                "paymentMethodId": ZERO_GUID,
                # some blocked customers: Microsoft's CUSTOMER filter leaves them out
                "blocked": "All" if i % 97 == 96 else ("Invoice" if i % 10 == 7 else " "),
            }
        )


def _contacts(gen: Gen, count: int) -> Iterator[Row]:
    company: Row | None = None
    for i in range(count):
        number = f"CT{(i + 1) * 10:06d}"
        street, city, state, country, postal = gen.address()
        base = {
            "id": gen.guid(),
            "number": number,
            "addressLine1": street,
            "city": city,
            "state": state,
            "country": country,
            "postalCode": postal,
            "phoneNumber": gen.phone(),
            "privacyBlocked": False,
        }
        if company is None or i % 5 == 0:
            name = gen.company(i + 500_000)
            company = {
                **base,
                "type": "Company",
                "displayName": name,
                "companyNumber": number,
                "companyName": name,
                "searchName": name.upper(),
                "email": gen.email("contact", name.replace(" ", "")),
            }
            yield company
            continue
        first, last = gen.person()
        name = f"{first} {last}"
        alone = i % 7 == 6  # a person without a company: the CONTACT filter leaves it out
        yield (
            {
                **base,
                "type": "Person",
                "displayName": name,
                "jobTitle": "Purchaser",
                "companyNumber": "" if alone else company["number"],
                "companyName": "" if alone else company["displayName"],
                "searchName": name.upper(),
                "email": gen.email(f"{first}.{last}", company["displayName"].replace(" ", "")),
                "mobilePhoneNumber": gen.phone(),
            }
        )


def _items(gen: Gen, setup: dict[str, list[Row]], count: int) -> list[Row]:
    units, cats = setup["unitsOfMeasure"], setup["itemCategories"]
    rows = []
    for i in range(count):
        unit, cat = units[i % 3], cats[i % len(cats)]
        price = gen.money(5, 900)
        rows.append(
            {
                "id": gen.guid(),
                "number": f"I{(i + 1) * 10:05d}",
                "displayName": f"{gen.item_name()} {i + 1}",
                "type": "Inventory" if i % 6 else "Service",
                "itemCategoryId": cat["id"],
                "itemCategoryCode": cat["code"],
                "blocked": i % 7 == 3,  # Microsoft's ITEM-PRODUCT filter leaves these out
                "gtin": gen.gtin(),
                "inventory": float(gen.rnd.randint(0, 500)),
                "unitPrice": price,
                "unitCost": round(price * 0.6, 2),
                "priceIncludesTax": False,
                "baseUnitOfMeasureId": unit["id"],
                "baseUnitOfMeasureCode": unit["code"],
            }
        )
    return rows


def seed_company(store: Store, gen: Gen, company: str, customers: int) -> None:
    """Fill one company; ``customers`` sets the size of every volume table."""
    setup = _setup(store, gen, company)
    _insert_chunks(store, "customers", _customers(gen, setup, customers), company)
    _insert_chunks(store, "contacts", _contacts(gen, customers // 2), company)
    items = _items(gen, setup, max(10, customers // 5) if customers else 0)
    store.insert_many("items", items, company)
    if not items:
        return
    lists = [
        {
            "id": gen.guid(),
            "code": "S00001",
            "description": "Standard sales prices (USD)",
            "currencyCode": "",
            "status": "Active",
        },
        {
            "id": gen.guid(),
            "code": "S00002",
            "description": "Euro sales prices",
            "currencyCode": "EUR",
            "status": "Active",
        },
    ]
    store.insert_many("priceLists", lists, company)
    lines = [
        {
            "id": gen.guid(),
            "priceListCode": pl["code"],
            "assetType": "Item",
            "assetNo": item["number"],
            "unitOfMeasureCode": item["baseUnitOfMeasureCode"],
            "minimumQuantity": 0.0,
            "currencyCode": pl["currencyCode"],
            "unitPrice": round(item["unitPrice"] * (0.92 if pl["currencyCode"] else 1), 2),
        }
        for pl in lists
        for item in [i for i in items if not i["blocked"]][:20]
    ]
    store.insert_many("priceListLines", lines, company)


def seed(store: Store, records: int, seed_value: int) -> list[Row]:
    """Seed both companies; returns the company rows (default company first)."""
    gen = Gen(seed_value, "customers")
    ids = Gen(seed_value, "companies")
    companies: list[Row] = [
        {
            "id": ids.guid(),
            "name": n,
            "displayName": n,
            "systemVersion": "24.0.16410.0",
            "timestamp": 0,
            "businessProfileId": "",
            "systemCreatedAt": "",
            "systemModifiedAt": "",
        }
        for n in COMPANIES
    ]
    stamp = store.now_text(store.specs["companies"])
    for c in companies:
        c["systemCreatedAt"] = c["systemModifiedAt"] = stamp
    store.insert_many("companies", companies)
    store.default_company = companies[0]["id"]
    seed_company(store, gen, companies[0]["id"], records)
    seed_company(store, Gen(seed_value + 1, "second-company"), companies[1]["id"], min(records, 3))
    return companies
