"""End to end: the bc-sales template over the sandboxes as Microsoft's defaults run it:
filtered-out records on both sides stay where they are, directions hold, currencies carry
Business Central's rates, units travel as unit groups, contacts keep their company, and two
Business Central companies share one Dataverse organization."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from accord.config.settings import Settings
from accord.services import operations, setup, status
from accord.services.hub import Hub
from accord.testing.sandbox import settings_from_sandbox
from tests.worlds import FAST_RETRY, World, WorldFactory


def by(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {r[key]: r for r in rows}


def company_row(world: World, company_id: str) -> str:
    rows = [r for r in world.dv.store.all("bcbi_companies") if r["bcbi_externalid"] == company_id]
    assert len(rows) == 1, rows
    return str(rows[0]["bcbi_companyid"])


def test_filtered_out_records_stay_on_their_side(make_world: WorldFactory) -> None:
    world = make_world(records=30, template="bc-sales")
    bc, dv = world.bc.store, world.dv.store
    excluded_accounts = [a for a in dv.all("accounts") if "[excluded]" in a["name"]]
    blocked = [c for c in bc.all("customers") if c["blocked"] != " "]
    lone_people = [c for c in bc.all("integrationContacts") if not c["customerNumber"]]
    orphans = [c for c in dv.all("contacts") if c["_parentcustomerid_value"] is None]
    blocked_items = [i for i in bc.all("items") if i["blocked"]]
    other_products = [p for p in dv.all("products") if p["producttypecode"] != 1 or p["statecode"]]
    other_users = [u for u in dv.all("systemusers") if u["isdisabled"] or u["isintegrationuser"]]
    for found in (
        excluded_accounts,
        blocked,
        lone_people,
        orphans,
        blocked_items,
        other_products,
        other_users,
    ):
        assert found  # the seeds hold records each default filter must leave out

    runs = operations.sync_full(world.hub, create_new=True)
    assert all(r.status == "success" for r in runs), [(r.mapping, r.message) for r in runs]

    customer_erp = {a for a, _ in world.coupled_pairs("CUSTOMER")}
    customer_crm = {b for _, b in world.coupled_pairs("CUSTOMER")}
    assert not {c["id"] for c in blocked} & customer_erp
    assert not {a["accountid"] for a in excluded_accounts} & customer_crm
    names = {c["displayName"] for c in bc.all("customers")}
    assert not {a["name"] for a in excluded_accounts} & names
    numbers = {a["accountnumber"] for a in dv.all("accounts")}
    assert not {c["number"] for c in blocked} & numbers
    dv_emails = {c["emailaddress1"] for c in dv.all("contacts")}
    assert not {c["email"] for c in lone_people} & dv_emails
    bc_emails = {c["email"] for c in bc.all("integrationContacts")}
    assert not {c["emailaddress1"] for c in orphans} & bc_emails
    assert not {i["number"] for i in blocked_items} & {
        p["productnumber"] for p in dv.all("products")
    }
    assert not {p["name"] for p in other_products} & {i["displayName"] for i in bc.all("items")}
    people = {s["email"] for s in bc.all("salespeople")}
    assert not {u["internalemailaddress"] for u in other_users} & people


def test_what_the_sync_creates_and_the_directions_it_keeps(make_world: WorldFactory) -> None:
    world = make_world(records=30, template="bc-sales")
    bc, dv = world.bc.store, world.dv.store
    seeded_items = {i["number"] for i in bc.all("items")}
    operations.sync_full(world.hub, create_new=True)
    this = company_row(world, world.bc.company_id)

    # accounts created from customers: of type customer, in this company
    seeded = {a["accountid"] for a in dv.all("accounts") if a["_bcbi_companyid_value"] is None}
    news = [dv.get("accounts", b) for _, b in world.coupled_pairs("CUSTOMER") if b not in seeded]
    assert news and all(a["customertypecode"] == 3 for a in news)
    assert all(a["_bcbi_companyid_value"] == this for a in news)

    # currencies at Business Central's rates, not 1.0
    rates = by(bc.all("currencyRates"), "code")
    currencies = by(dv.all("transactioncurrencies"), "isocurrencycode")
    assert Decimal(str(currencies["DKK"]["exchangerate"])) == Decimal(
        str(rates["DKK"]["exchangeRate"])
    )
    assert Decimal(str(currencies["JPY"]["exchangerate"])) == Decimal(
        str(rates["JPY"]["exchangeRate"])
    )
    assert Decimal(str(currencies["JPY"]["exchangerate"])) != 1

    # units as unit groups: a schedule per item, its units inside, the product pointing at it
    schedules = by(dv.all("uomschedules"), "name")
    # an item seeded before the sync: one the sync itself created from a Sales product gets
    # its unit group in BC after UNIT GROUP ran, so that group crosses on the next pass
    item = next(
        i
        for i in sorted(bc.all("items"), key=lambda i: i["number"])
        if not i["blocked"] and i["number"] in seeded_items
    )
    group = schedules[f"ITEM {item['number']} UOM GR"]
    inside = [u for u in dv.all("uoms") if u["_uomscheduleid_value"] == group["uomscheduleid"]]
    assert item["baseUnitOfMeasureCode"] in {u["name"] for u in inside}
    product = by(dv.all("products"), "productnumber")[item["number"]]
    assert product["_defaultuomscheduleid_value"] == group["uomscheduleid"]

    # a contact keeps its company: the account coupled to the contact's customer
    accounts_of = {bc.get("customers", a)["number"]: b for a, b in world.coupled_pairs("CUSTOMER")}
    checked = 0
    for erp_id, crm_id in world.coupled_pairs("CONTACT"):
        person = bc.get("integrationContacts", erp_id)
        contact = dv.get("contacts", crm_id)
        if person["customerNumber"] in accounts_of:
            assert contact["_parentcustomerid_value"] == accounts_of[person["customerNumber"]]
            checked += 1
    assert checked > 0

    # directions: Sales may change freight terms and the name; number, credit limit and the
    # item's price belong to Business Central
    operations.sync_incremental(world.hub)
    customer_id, account_id = sorted(
        (a, b) for a, b in world.coupled_pairs("CUSTOMER") if bc.get("customers", a)["number"]
    )[0]
    before = bc.get("customers", customer_id)
    methods = dict(world.coupled_pairs("SHIPMENT METHOD"))  # shipment method id -> option
    other_method = next(m for m in methods if m != before["shipmentMethodId"])
    dv.update(
        "accounts",
        account_id,
        {
            "address1_freighttermscode": int(str(methods[other_method])),
            "creditlimit": 123456.0,
            "accountnumber": "CHANGED-IN-CRM",
            "name": "Renamed in Sales",
        },
    )
    price_item = next(a for a, _ in world.coupled_pairs("ITEM-PRODUCT"))
    product_id = dict(world.coupled_pairs("ITEM-PRODUCT"))[price_item]
    item_before = bc.get("items", price_item)
    dv.update("products", product_id, {"price": 99999.0})
    operations.sync_incremental(world.hub)
    after = bc.get("customers", customer_id)
    assert after["shipmentMethodId"] == other_method
    assert after["displayName"] == "Renamed in Sales"
    assert after["creditLimit"] == before["creditLimit"]
    assert after["number"] == before["number"]
    assert bc.get("items", price_item)["unitPrice"] == item_before["unitPrice"]


def test_a_match_outside_the_filter_is_held_not_coupled(make_world: WorldFactory) -> None:
    world = make_world(records=30, template="bc-sales")
    bc, dv = world.bc.store, world.dv.store
    blocked = next(c for c in bc.all("customers") if c["blocked"] != " ")
    dv.insert("accounts", {"name": blocked["displayName"], "customertypecode": 3})
    operations.sync_full(world.hub, create_new=True)
    assert blocked["id"] not in {a for a, _ in world.coupled_pairs("CUSTOMER")}
    same_name = [c for c in bc.all("customers") if c["displayName"] == blocked["displayName"]]
    assert same_name == [bc.get("customers", blocked["id"])]  # no duplicate created
    messages = [e.message for e in status.recent_errors(world.hub, mapping="CUSTOMER")]
    assert any(
        f"matches integrationCustomers {blocked['id']}" in m and "filter" in m for m in messages
    )


def test_two_companies_share_one_organization(make_world: WorldFactory, tmp_path: Path) -> None:
    world = make_world(records=30, template="bc-sales")
    bc, dv = world.bc.store, world.dv.store
    operations.sync_full(world.hub, create_new=True)
    first = company_row(world, world.bc.company_id)
    mine = {a["accountid"] for a in dv.all("accounts") if a["_bcbi_companyid_value"] == first}
    assert mine
    other = next(c for c in bc.all("companies") if c["id"] != world.bc.company_id)
    own = bc.insert("customers", {"displayName": "Only In Canada Ltd."}, other["id"])

    second = second_company(world, tmp_path)
    try:
        operations.sync_full(second, create_new=True)
        row = company_row(world, other["id"])
        assert row != first
        theirs = {b for _, b in coupled(second, "CUSTOMER")}
        # the first company's accounts are never the second's: not coupled, not changed
        assert theirs and not theirs & mine
        assert all(dv.get("accounts", a)["_bcbi_companyid_value"] == first for a in mine)
        # what the second company creates carries its own company row
        account = next(
            a
            for a in dv.all("accounts")
            if a["accountnumber"] == own["number"] and a["name"] == "Only In Canada Ltd."
        )
        assert account["_bcbi_companyid_value"] == row
        # colliding numbers (both companies count C00010, I00010, ...) are held, not doubled
        numbers = [a["accountnumber"] for a in dv.all("accounts") if a["accountnumber"]]
        assert len(numbers) == len(set(numbers))
        products = [p["productnumber"] for p in dv.all("products")]
        assert len(products) == len(set(products))
        held = [e.message for e in status.recent_errors(second, mapping="ITEM-PRODUCT")]
        assert held and all("table filter leaves out" in m for m in held)
    finally:
        second.close()

    # and the first company's next pass leaves the second's account alone
    operations.sync_incremental(world.hub)
    assert account["accountid"] not in {b for _, b in world.coupled_pairs("CUSTOMER")}
    assert "Only In Canada Ltd." not in {c["displayName"] for c in bc.all("customers")}


def coupled(hub: Hub, mapping: str) -> set[tuple[str | None, str | None]]:
    """(erp id, crm id) of the coupled pairs of ``mapping`` in ``hub``'s integration."""
    from sqlalchemy import select

    from accord.state.couplings import record_id
    from accord.state.models import Coupling
    from accord.state.store import load_integration

    with hub.db.session() as session:
        mid = load_integration(session).mapping_ids[mapping]
        rows = session.scalars(select(Coupling).where(Coupling.mapping_id == mid))
        return {(record_id(c, "erp"), record_id(c, "crm")) for c in rows if c.state == "coupled"}


def second_company(world: World, tmp_path: Path) -> Hub:
    """An integration of the sandbox's second Business Central company with the same
    Dataverse organization."""
    other = next(c for c in world.bc.store.all("companies") if c["id"] != world.bc.company_id)
    hub = Hub(Settings(home=tmp_path / "second"), database_url=f"sqlite:///{tmp_path}/2.db")
    setup.connect(
        hub,
        settings_from_sandbox(world.bc, name="bc2", retry=FAST_RETRY, company=other["name"]),
    )
    setup.connect(hub, settings_from_sandbox(world.dv, name="crm", retry=FAST_RETRY))
    setup.init_integration(hub, "bc-sales", {"erp": "bc2", "crm": "crm"})
    return hub
