"""INTERIM (branch ``template``): custom-API entity sets the bc-sales template needs, served
by the sandbox at the standard company route until the custom API group
(``/api/accord/integration/v1.0``) lands; the lead moves them there when merging.

- ``shippingAgents``, ``unitGroups``, ``itemUnitsOfMeasure``, ``currencyRates``: the field
  lists agreed with the custom API work (docs: the custom API group).
- ``integrationContacts``: a contact with ``customerNumber``, the customer linked to the
  contact's company contact through the business relation for customers (what Microsoft's
  ``CRMSynchHelper.FindContactRelatedCustomer`` resolves); API v2.0 ``contacts`` only gives the
  company *contact* number.
"""

from __future__ import annotations

from accord.sandboxes.common.seed import Gen
from accord.sandboxes.common.store import EntitySpec, Row, Store

CONTACT_FIELDS = (
    "number::20 type displayName::100 jobTitle::30 companyNumber::20 companyName::100 "
    "contactBusinessRelation::30 addressLine1::100 addressLine2::50 city::30 state::30 "
    "country::10 postalCode::20 phoneNumber::30 mobilePhoneNumber::30 email::80 website::80 "
    "privacyBlocked:bool customerNumber::20"
)
SHIPPING_AGENTS = (
    ("DHL", "DHL Express", "https://www.dhl.com", "DHL-4711"),
    ("FEDEX", "FedEx", "https://www.fedex.com", "FX-0815"),
    ("UPS", "UPS", "https://www.ups.com", "UPS-1234"),
    ("OWN LOG.", "Own logistics", "", ""),
)


def specs() -> tuple[EntitySpec, ...]:
    """The interim entity sets (built on the sandbox's BC entity helpers)."""
    from accord.sandboxes.business_central.entities import _ID, _MOD, _spec

    return (
        _spec(
            "shippingAgents",
            "shippingAgent",
            f"{_ID} code::10 displayName::50 internetAddress::250 accountNo::30 {_MOD}",
            extension=True,
        ),
        _spec(
            "unitGroups",
            "unitGroup",
            f"{_ID} code::50 sourceType sourceNumber::20 description::100 {_MOD}",
            extension=True,
            enums={"sourceType": ("Item", "Resource")},
            defaults={"sourceType": "Item"},
        ),
        _spec(
            "itemUnitsOfMeasure",
            "itemUnitOfMeasure",
            f"{_ID} itemNumber::20 unitOfMeasureCode::10 quantityPerUnitOfMeasure:float "
            f"unitGroupCode::50 {_MOD}",
            extension=True,
        ),
        _spec(
            "currencyRates",
            "currencyRate",
            f"{_ID} code::10 displayName::30 symbol::10 exchangeRate:float {_MOD}",
            extension=True,
        ),
        _spec(
            "integrationContacts",
            "integrationContact",
            f"{_ID} {CONTACT_FIELDS} {_MOD}",
            extension=True,
            number=("CT", 6, 10),
            enums={"type": ("Company", "Person")},
            defaults={"type": "Person"},
        ),
    )


def unit_group_code(item_number: str) -> str:
    """Microsoft's name for an item's unit group (``UnitGroup.Table.al`` ``GetCode``)."""
    return f"ITEM {item_number} UOM GR"


def seed(store: Store, company: str, gen: Gen, rates: dict[str, float]) -> None:
    """Fill the interim entity sets of one company from its standard data."""
    store.insert_many(
        "shippingAgents",
        [
            {"id": gen.guid(), "code": c, "displayName": n, "internetAddress": u, "accountNo": a}
            for c, n, u, a in SHIPPING_AGENTS
        ],
        company,
    )
    store.insert_many(
        "currencyRates",
        [
            {
                "id": gen.guid(),
                "code": c["code"],
                "displayName": c["displayName"],
                "symbol": c["symbol"],
                "exchangeRate": rates[c["code"]],
            }
            for c in store.all("currencies", company)
            if c["code"] in rates
        ],
        company,
    )
    groups: list[Row] = []
    units: list[Row] = []
    for i, item in enumerate(store.all("items", company)):
        code = unit_group_code(item["number"])
        groups.append(
            {
                "id": gen.guid(),
                "code": code,
                "sourceType": "Item",
                "sourceNumber": item["number"],
                "description": item["displayName"],
            }
        )
        measures = [(item["baseUnitOfMeasureCode"], 1.0)] + ([("BOX", 12.0)] if i % 2 else [])
        units += [
            {
                "id": gen.guid(),
                "itemNumber": item["number"],
                "unitOfMeasureCode": unit,
                "quantityPerUnitOfMeasure": qty,
                "unitGroupCode": code,
            }
            for unit, qty in measures
            if unit
        ]
    store.insert_many("unitGroups", groups, company)
    store.insert_many("itemUnitsOfMeasure", units, company)
    _contacts(store, company)


def _contacts(store: Store, company: str) -> None:
    """Every contact again, with ``customerNumber``: most company contacts are linked to a
    customer (two in three), their people inherit it; the rest are prospects."""
    customers = store.all("customers", company)
    linked: dict[str, str] = {}
    rows: list[Row] = []
    companies = 0
    wanted = {spec.split(":")[0] for spec in CONTACT_FIELDS.split()} | {"id"}
    for contact in sorted(store.all("contacts", company), key=lambda c: c["number"]):
        fields = {k: v for k, v in contact.items() if k in wanted}
        if contact["type"] == "Company":
            if customers and companies % 3 != 2:
                linked[contact["number"]] = customers[companies % len(customers)]["number"]
            companies += 1
        fields["customerNumber"] = linked.get(contact["companyNumber"] or "", "")
        fields["contactBusinessRelation"] = "Customer" if fields["customerNumber"] else "None"
        rows.append(fields)
    store.insert_many("integrationContacts", rows, company)  # ids as in ``contacts``
