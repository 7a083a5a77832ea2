"""No duplicates: every create first looks for its counterpart (DESIGN §3.3)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from accord.config.settings import Settings
from accord.services import operations, setup, status
from accord.services.hub import Hub
from accord.testing.sandbox import settings_from_sandbox
from tests.worlds import FAST_RETRY, World, WorldFactory, custom_template

ENTITIES = {
    "business-central": ["customers", "contacts", "items", "priceLists", "priceListLines"],
    "dataverse": ["accounts", "contacts", "products", "pricelevels", "productpricelevels"],
}


def test_normalize_compares_as_a_person_does() -> None:
    from accord.sync.matching import normalize, query_variants

    nfd = unicodedata.normalize("NFD", "Café Nord")
    assert normalize(f"  {nfd} ") == normalize("café nord") == "café nord"
    assert normalize("Café", case_sensitive=True) != normalize("café", case_sensitive=True)
    assert normalize("   ") is None and normalize(None) is None
    assert nfd in query_variants("Café Nord ")


def _counts(world: World) -> dict[str, int]:
    return {
        f"{system}.{entity}": world.sx[system].store.count(entity)
        for system, entities in ENTITIES.items()
        for entity in entities
    }


def test_fresh_state_database_against_systems_in_sync_creates_nothing(
    make_world: WorldFactory, tmp_path: Path, database_url: str
) -> None:
    """Defect: a new state database duplicated price list lines and contacts."""
    world = make_world(records=40, create_unmatched=True)
    operations.sync_full(world.hub)
    for held in operations.conflicts(world.hub):
        operations.resolve(world.hub, held.id, "erp")
    operations.sync_incremental(world.hub)
    before = _counts(world)
    fresh = Hub(Settings(home=tmp_path / "fresh"), database_url=f"sqlite:///{tmp_path}/new.db")
    try:
        for system, name in (("business-central", "bc"), ("dataverse", "crm")):
            setup.connect(
                fresh, settings_from_sandbox(world.sx[system], name=name, retry=FAST_RETRY)
            )
        template = custom_template(tmp_path, "CUSTOMER")  # as make_world's
        setup.init_integration(fresh, template, {"erp": "bc", "crm": "crm"})
        runs = operations.sync_full(fresh)
        assert all(r.status == "success" for r in runs), [
            (r.mapping, r.status, r.message) for r in runs if r.status != "success"
        ]
        operations.sync_incremental(fresh)
    finally:
        fresh.close()
    assert _counts(world) == before


def test_same_record_created_on_both_sides_between_passes_is_coupled(
    make_world: WorldFactory,
) -> None:
    """Defect: created twice on each side; then every sync died on the couplings' key."""
    world = make_world(records=20)
    operations.sync_full(world.hub)
    nfd = unicodedata.normalize("NFD", "Café Ångström AS")
    world.bc.store.insert("customers", {"number": "X-77", "displayName": "Café Ångström AS"})
    world.dv.store.insert("accounts", {"accountnumber": "x-77", "name": nfd})
    world.bc.store.insert("customers", {"displayName": "Zeta Zinc", "city": "Oslo"})
    world.dv.store.insert("accounts", {"name": "ZETA ZINC", "address1_city": "Oslo"})
    results = operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert all(r.status == "success" for r in results), [r.message for r in results]
    names = [c["displayName"].casefold() for c in world.bc.store.all("customers")]
    accounts = [
        unicodedata.normalize("NFC", a["name"]).casefold() for a in world.dv.store.all("accounts")
    ]
    for name in ("café ångström as", "zeta zinc"):
        assert names.count(name) == 1 and accounts.count(name) == 1, name
    assert sum(r.counts["coupled"] for r in results) == 2
    again = operations.sync_incremental(world.hub)
    assert all(r.status == "success" for r in again)


def test_ambiguous_match_is_held_naming_the_candidates(make_world: WorldFactory) -> None:
    """Defect: an ambiguous match created everything again with no warning."""
    world = make_world(records=20)
    operations.sync_full(world.hub)
    twins = [
        world.dv.store.insert("accounts", {"name": "Twin Traders", "address1_city": city})
        for city in ("Arendal", "Bodø")
    ]
    customer = world.bc.store.insert("customers", {"displayName": "twin traders"})
    for _ in range(2):
        operations.sync_incremental(world.hub, ["CUSTOMER"])
    names = [c["displayName"].casefold() for c in world.bc.store.all("customers")]
    accounts = [a["name"].casefold() for a in world.dv.store.all("accounts")]
    assert names.count("twin traders") == 1 and accounts.count("twin traders") == 2
    errors = [e for e in status.recent_errors(world.hub) if e.source_id == customer["id"]]
    assert errors and "ambiguous" in errors[0].message
    assert all(t["accountid"] in errors[0].message for t in twins)
