"""Sample data of the custom API group for every seeded company: shipping agents, a unit group
and item units of measure per item, and exchange rates with several starting dates (one in
the future, one expressed through a relational currency)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from accord.sandboxes.business_central.custom_api import unit_group_code
from accord.sandboxes.business_central.entities import ZERO_GUID
from accord.sandboxes.business_central.group import set_columns
from accord.sandboxes.business_central.seed import CURRENCIES
from accord.sandboxes.common.seed import Gen
from accord.sandboxes.common.store import COMPANY, Row, Store

SHIPPING_AGENTS = (
    ("DHL", "DHL Express", "https://www.dhl.com/en/express/tracking.html?AWB=%1", "DHL-220431"),
    ("FEDEX", "FedEx", "https://www.fedex.com/fedextrack/?trknbr=%1", "FX-88120"),
    ("UPS", "UPS", "https://www.ups.com/track?tracknum=%1", "UPS-4412-77"),
    ("OWN LOG.", "Own Logistics", "", ""),
)
LOCAL_CURRENCY = {"CRONUS USA, Inc.": "USD", "CRONUS Canada, Inc.": "CAD"}
"""General Ledger Setup's LCY Code of each seeded company."""
HISTORY = ((-180, "1.04"), (-60, "0.98"), (-10, "1.00"), (30, "1.03"))
"""(starting date relative to today, factor applied to today's rate): the last is in force
only from 30 days on."""
RELATIONAL = {"DKK": "EUR"}
"""Currencies whose rate is kept against another currency, as Danish setups do."""
BOX_EVERY = 3
"""Every third item also sells by the box of 12."""


def _per_usd() -> dict[str, Decimal]:
    rates = {code: Decimal(str(rate)) for code, _, _, rate in CURRENCIES}
    return {"USD": Decimal(1), **rates}


def _rates(currencies: list[Row], lcy: str, today: date, gen: Gen) -> list[Row]:
    """Exchange-rate rows: 100 units of the currency = RER units of LCY (or of the relational
    currency), several starting dates per currency."""
    per_usd = _per_usd()
    rows: list[Row] = []
    codes = {str(c["code"]) for c in currencies}
    for currency in currencies:
        code = str(currency["code"])
        via = RELATIONAL.get(code, "")
        via = via if via in codes and via != lcy else ""
        base = per_usd[via or lcy]
        for offset, factor in HISTORY:
            units_per_base = per_usd[code] / base * Decimal(factor)
            rows.append(
                {
                    "id": gen.guid(),
                    "currencyCode": code,
                    "startingDate": (today + timedelta(days=offset)).isoformat(),
                    "exchangeRateAmount": "100",
                    "relationalCurrencyCode": via,
                    "relationalExchangeRateAmount": str(
                        (Decimal(100) / units_per_base).quantize(Decimal("0.000001"))
                    ),
                }
            )
    return rows


def _item_units(store: Store, company: str, gen: Gen) -> tuple[list[Row], list[Row]]:
    """(unit groups, item units of measure) for every item of the company."""
    t = store.table("items")
    stmt = sa.select(t.c.id, t.c.number, t.c.displayName, t.c.baseUnitOfMeasureCode).where(
        t.c[COMPANY] == company
    )
    groups: list[Row] = []
    units: list[Row] = []
    for i, item in enumerate(store.rows(stmt)):
        code = unit_group_code("Item", item["number"])
        groups.append(
            {
                "id": gen.guid(),
                "sourceType": "Item",
                "sourceId": item["id"],
                "sourceNumber": item["number"],
                "code": code,
                "description": item["displayName"],
            }
        )
        pairs = [(item["baseUnitOfMeasureCode"], "1")]
        if i % BOX_EVERY == 0 and item["baseUnitOfMeasureCode"] != "BOX":
            pairs.append(("BOX", "12"))
        units += [
            {
                "id": gen.guid(),
                "itemNumber": item["number"],
                "unitOfMeasureCode": unit,
                "quantityPerUnitOfMeasure": quantity,
                "unitGroupCode": code,
            }
            for unit, quantity in pairs
            if unit
        ]
    return groups, units


def seed_company(store: Store, company: Row, gen: Gen) -> None:
    """Fill the group's tables of one company."""
    key, lcy = str(company["id"]), LOCAL_CURRENCY.get(str(company["name"]), "USD")
    store.insert_many(
        "shippingAgents",
        [
            {"id": gen.guid(), "code": c, "displayName": n, "internetAddress": url, "accountNo": a}
            for c, n, url, a in SHIPPING_AGENTS
        ],
        key,
    )
    currencies = store.all("currencies", key)
    if lcy != "USD" and not any(c["code"] == "USD" for c in currencies):
        usd = {"id": gen.guid(), "code": "USD", "displayName": "US Dollar", "symbol": "$"}
        store.insert_many(
            "currencies",
            [{**usd, "amountDecimalPlaces": "2:2", "amountRoundingPrecision": "0.01"}],
            key,
        )
        currencies = store.all("currencies", key)
    today = store.clock.now().date()
    store.insert_many("currencyExchangeRates", _rates(currencies, lcy, today, gen), key)
    groups, units = _item_units(store, key, gen)
    store.insert_many("unitGroups", groups, key)
    store.insert_many("itemUnitsOfMeasure", units, key)
    _related_customers(store, key)
    _unit_references(store, key)


def _related_customers(store: Store, company: str) -> None:
    """The customer's business relation of the contacts (``customerNumber``): most company
    contacts are related to a customer (two in three), their people inherit it; the rest are
    prospects. Also each customer's primary contact: the first person of its company."""
    customers = store.all("customers", company)
    linked: dict[str, str] = {}
    contacts: dict[str, Row] = {}
    primary: dict[str, str] = {}
    companies = 0
    for contact in sorted(store.all("contacts", company), key=lambda c: c["number"]):
        if contact["type"] == "Company":
            if customers and companies % 3 != 2:
                linked[contact["number"]] = customers[companies % len(customers)]["number"]
            companies += 1
        customer = linked.get(contact["companyNumber"] or "", "")
        relation = "Customer" if customer else "None"
        contacts[contact["id"]] = {"customerNumber": customer, "contactBusinessRelation": relation}
        if customer and contact["type"] == "Person":
            primary.setdefault(customer, contact["number"])
    set_columns(store, "contacts", contacts)
    agents = [code for code, *_ in SHIPPING_AGENTS]
    set_columns(
        store,
        "customers",
        {
            c["id"]: {
                # every fourth customer has no shipping agent
                "shippingAgentCode": agents[i % len(agents)] if i % 4 != 3 else "",
                "primaryContactNumber": primary.get(c["number"], ""),
            }
            for i, c in enumerate(customers)
        },
    )


def _unit_references(store: Store, company: str) -> None:
    """The Item Unit of Measure rows items (base unit) and price-list lines point at."""
    units = {
        (u["itemNumber"], u["unitOfMeasureCode"]): u["id"]
        for u in store.all("itemUnitsOfMeasure", company)
    }
    items = store.all("items", company)
    set_columns(
        store,
        "items",
        {
            i["id"]: {
                "baseItemUnitOfMeasureId": units.get(
                    (i["number"], i["baseUnitOfMeasureCode"]), ZERO_GUID
                )
            }
            for i in items
        },
    )
    base = {i["number"]: i["baseUnitOfMeasureCode"] for i in items}
    set_columns(
        store,
        "priceListLines",
        {
            line["id"]: {
                "itemUnitOfMeasureId": units.get(
                    (
                        line["assetNo"],
                        line["unitOfMeasureCode"] or base.get(line["assetNo"], ""),
                    ),
                    ZERO_GUID,
                )
            }
            for line in store.all("priceListLines", company)
        },
    )


def create_indexes(store: Store) -> None:
    """Look-up indexes the group's validation and item triggers use."""
    with store.transaction():
        for entity, column in (
            ("unitGroups", "sourceId"),
            ("itemUnitsOfMeasure", "itemNumber"),
            ("currencyExchangeRates", "currencyCode"),
        ):
            t = store.table(entity)
            sa.Index(f"ix_{entity}_{column}_lookup", t.c[COMPANY], t.c[column]).create(
                store.conn, checkfirst=True
            )


def seed(store: Store, companies: list[Row], seed_value: int) -> None:
    """Seed the group's tables of every company."""
    for index, company in enumerate(companies):
        seed_company(store, company, Gen(seed_value + index, "custom-api"))
    create_indexes(store)
