"""``keep_on_failed_lookup``: a reference to a record not coupled yet leaves the destination's
value as it is, the rest of the record is written, and the record is decided again (and
retried by every pass) until the reference couples."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from accord.config.spec import FieldMappingSpec, TableMappingSpec
from accord.connectors.base import Record
from accord.mapping.fields import CompiledMapping
from accord.services import operations, status
from accord.sync.decide import CouplingView, decide, source_hash
from tests.worlds import WorldFactory

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CONTACT = "crm=_primarycontactid_value:erp=primaryContactNumber"
NAME = "crm=name:erp=displayName"
KEY = ("CONTACT", "to_crm", "key", "id")


def mapping() -> CompiledMapping:
    return CompiledMapping.compile(
        TableMappingSpec.model_validate(
            {
                "name": "CUSTOMER",
                "erp": "integrationCustomers",
                "crm": "accounts",
                "fields": [
                    {"erp": "displayName", "crm": "name"},
                    {
                        "erp": "primaryContactNumber",
                        "crm": "_primarycontactid_value",
                        "lookup": "CONTACT",
                        "lookup_by": {"erp": "key"},
                        "keep_on_failed_lookup": True,
                    },
                ],
            }
        ),
        ("erp", "crm"),
    )


def customer(**values: Any) -> Record:
    return Record("C1", {"displayName": "Adatum", "primaryContactNumber": "CT10", **values}, T0)


def test_an_insert_leaves_the_waiting_field_out_and_has_no_baseline_for_it() -> None:
    m = mapping()
    made = decide(m, "to_crm", customer(), None, None, {}, create_uncoupled=True)
    assert made.action == "insert" and made.values == {"name": "Adatum"}
    assert made.waiting == [CONTACT] and CONTACT not in made.baseline
    coupled = decide(
        m, "to_crm", customer(), None, None, {KEY: {"CT10": "A-1"}}, create_uncoupled=True
    )
    assert coupled.values["_primarycontactid_value"] == "A-1" and not coupled.waiting


def test_an_update_keeps_the_destinations_value_and_its_baseline() -> None:
    m = mapping()
    baseline = {
        NAME: {"erp": "Adatum", "crm": "Adatum"},
        CONTACT: {"erp": "CT10", "crm": "A-1"},
    }
    source = customer(displayName="Adatum Ltd", primaryContactNumber="CT20")
    view = CouplingView(1, baseline, source_hash(m, "to_crm", customer()), False, False)
    dest = Record("A", {"name": "Adatum", "_primarycontactid_value": "A-1"}, T0)
    waiting = decide(m, "to_crm", source, view, dest, {KEY: {}})
    assert waiting.action == "modify" and waiting.values == {"name": "Adatum Ltd"}
    assert waiting.waiting == [CONTACT] and waiting.baseline[CONTACT] == baseline[CONTACT]
    # decided again with the same source (its hash is not stored): it follows once coupled
    done = decide(m, "to_crm", source, view, dest, {KEY: {"CT20": "A-2"}})
    assert done.values == {"name": "Adatum Ltd", "_primarycontactid_value": "A-2"}


@pytest.mark.parametrize(
    "extra",
    [
        {"keep_on_failed_lookup": True, "clear_on_failed_lookup": True},
        {"keep_on_failed_lookup": True, "not_null": True},
    ],
)
def test_one_way_to_handle_a_failed_lookup(extra: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="exclude each other"):
        FieldMappingSpec.model_validate({"erp": "a", "crm": "b", "lookup": "X", **extra})
    with pytest.raises(ValidationError, match="need 'lookup'"):
        FieldMappingSpec.model_validate({"erp": "a", "crm": "b", "keep_on_failed_lookup": True})


def test_a_waiting_record_is_retried_by_incremental_passes(make_world: WorldFactory) -> None:
    """On both state databases: the waiting customer is read again although it did not
    change, and the value arrives once its contact couples."""
    world = make_world(records=10, template="bc-sales")
    bc, dv = world.bc.store, world.dv.store
    operations.sync_full(world.hub)
    made = bc.insert("customers", {"number": "C900010", "displayName": "Waiting Works Ltd"})
    operations.sync_incremental(world.hub)  # created in Sales: a pair with no history held
    customer_id = made["id"]
    account_id = dict(world.coupled_pairs("CUSTOMER"))[customer_id]
    company = next(c for c in bc.all("contacts") if c["type"] == "Company")
    person = bc.insert(
        "contacts",
        {
            "number": "CT900010",
            "displayName": "Walter Waiting",
            "type": "Person",
            "companyNumber": company["number"],
            "customerNumber": made["number"],
            "email": "walter.waiting@example.com",
        },
    )
    before = dv.get("accounts", account_id)["_primarycontactid_value"]
    dv.reject("contacts", "emailaddress1", person["email"])  # Sales refuses him for now
    bc.update("customers", customer_id, {"primaryContactNumber": person["number"]})
    operations.sync_incremental(world.hub)  # CUSTOMER waits; CONTACT fails to create him
    assert dv.get("accounts", account_id)["_primarycontactid_value"] == before
    for clock in (world.bc.clock, world.dv.clock):
        clock.advance(3600)  # the customer's change is now far behind every watermark
    dv.clear_rejects()
    operations.sync_incremental(world.hub)  # CONTACT's retry couples him (after CUSTOMER)
    operations.sync_incremental(world.hub)  # CUSTOMER's waiting record is retried
    contact_id = dict(world.coupled_pairs("CONTACT"))[person["id"]]
    assert dv.get("accounts", account_id)["_primarycontactid_value"] == contact_id
    errors = [e.message for e in status.recent_errors(world.hub, mapping="CUSTOMER")]
    assert not [m for m in errors if "primarycontact" in m.lower()]  # waited, never failed
