"""Resolving ``$company``: the CRM row of the ERP connection's company, found or created once."""

from __future__ import annotations

import pytest

from accord.config.company import CompanySpec
from accord.config.loader import load_template
from accord.errors import ConfigError
from accord.sync.company import company_row, resolved
from tests.worlds import WorldFactory

SPEC = CompanySpec(
    of="erp",
    role="crm",
    entity="bcbi_companies",
    id_field="bcbi_externalid",
    name_field="bcbi_name",
)


def test_the_company_row_is_created_once_then_found(make_world: WorldFactory) -> None:
    world = make_world(records=10, template="bc-sales")
    before = world.dv.store.count("bcbi_companies")
    with world.context() as ctx:
        first = company_row(SPEC, ctx.connectors)
        again = company_row(SPEC, ctx.connectors)
        template = resolved(load_template("bc-sales"), ctx.connectors)
    assert first == again
    assert world.dv.store.count("bcbi_companies") == before + 1
    row = world.dv.store.get("bcbi_companies", first)
    assert row["bcbi_externalid"] == world.bc.company_id
    assert row["bcbi_name"] == f"{world.bc.company_name} ({world.bc.company_id})"
    defaults = template.mapping("CUSTOMER").new_record_defaults["crm"]
    assert defaults["_bcbi_companyid_value"] == first


def test_a_role_without_a_company_is_a_clear_error(make_world: WorldFactory) -> None:
    world = make_world(records=10, template="bc-sales")
    backwards = SPEC.model_copy(update={"of": "crm", "role": "erp"})
    with world.context() as ctx, pytest.raises(ConfigError) as caught:
        company_row(backwards, ctx.connectors)
    assert "role 'crm'" in caught.value.message and "not bound to a company" in caught.value.message


def test_the_row_is_remembered_so_a_pass_needs_no_crm_to_start(make_world: WorldFactory) -> None:
    from accord.state.store import load_integration

    world = make_world(records=10, template="bc-sales")
    with world.context() as ctx:
        first = ctx.mapping("CUSTOMER").spec.new_record_defaults["crm"]["_bcbi_companyid_value"]
    with world.hub.db.session() as session:
        stored = load_integration(session).template.company
    assert stored is not None and (stored.row, stored.row_of) == (first, world.bc.company_id)
    world.dv.store.delete("bcbi_companies", first)  # not asked again: the stored row is used
    with world.context() as ctx:
        again = ctx.mapping("CUSTOMER").spec.new_record_defaults["crm"]["_bcbi_companyid_value"]
    assert again == first
