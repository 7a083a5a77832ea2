"""``accord init`` checks a template against the connected systems' metadata: a problem saves
nothing, a custom column is mappable, a missing API group disables its mappings only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml

from accord.config.settings import Settings
from accord.connectors.base import EntityInfo
from accord.connectors.business_central.connector import API_GROUP_DOCS, BusinessCentralConnector
from accord.errors import ConfigError
from accord.sandboxes import run_sandboxes
from accord.sandboxes.dataverse.protocol import DvOptions
from accord.services import operations, setup
from accord.services import status as status_service
from accord.services.hub import Hub
from accord.state.store import load_integration
from accord.testing.contract import FAST_RETRY
from accord.testing.sandbox import settings_from_sandbox
from tests.worlds import custom_template

LOYALTY = "cr3f2_loyaltytier"
ROLES = {"erp": "bc", "crm": "crm"}


class Setup:
    def __init__(self, sx: Any, hub: Hub) -> None:
        self.sx, self.hub = sx, hub

    def init(self, template: str) -> setup.IntegrationSetup:
        return setup.init_integration(self.hub, template, ROLES)

    def stored(self) -> Any:
        with self.hub.db.session() as session:
            return load_integration(session)


@pytest.fixture
def make_setup(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Setup]]:
    """Sandboxes and saved connections, no integration yet."""
    stack = ExitStack()

    def build(records: int = 12, custom_columns: dict[str, list[str]] | None = None) -> Setup:
        options = {"dataverse": DvOptions(custom_columns=custom_columns)} if custom_columns else {}
        sx = stack.enter_context(
            run_sandboxes(["business-central", "dataverse"], records=records, options=options)
        )
        hub = Hub(Settings(home=tmp_path / "home"), database_url=database_url)
        stack.callback(hub.close)
        for name, system in (("bc", "business-central"), ("crm", "dataverse")):
            setup.connect(hub, settings_from_sandbox(sx[system], name=name, retry=FAST_RETRY))
        return Setup(sx, hub)

    with stack:
        yield build


def edited(folder: Path, edit: Callable[[dict[str, Any]], None], name: str = "t") -> str:
    """bc-sales edited by ``edit`` (on its parsed YAML), written beside the test."""
    data = yaml.safe_load(Path(custom_template(folder, "CURRENCY")).read_text())
    edit(data)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def mapping(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in data["mappings"] if m["name"] == name)


def test_a_template_that_does_not_fit_saves_nothing(
    make_setup: Callable[..., Setup], tmp_path: Path
) -> None:
    s = make_setup()

    def typo(data: dict[str, Any]) -> None:
        mapping(data, "CUSTOMER")["fields"].append({"erp": "email", "crm": "emailadress1"})

    with pytest.raises(ConfigError, match=r"emailadress1.*did you mean 'emailaddress1'"):
        s.init(edited(tmp_path, typo))
    with pytest.raises(ConfigError, match="no integration set up yet"):
        s.stored()
    # a refresh that does not fit leaves the integration as it was
    assert s.init("bc-sales").warnings == []
    before = s.stored().template
    with pytest.raises(ConfigError):
        s.init(edited(tmp_path, typo))
    assert s.stored().template == before


def test_every_problem_is_named_with_mapping_field_role_and_choices(
    make_setup: Callable[..., Setup], tmp_path: Path
) -> None:
    s = make_setup()

    def broken(data: dict[str, Any]) -> None:
        mapping(data, "SHIPMENT METHOD")["crm"] = "acount.address1_shippingmethodcode"
        contact = mapping(data, "CONTACT")
        contact["fields"] = [
            {"erp": "displayName", "crm": "fullname"},  # fullname is computed
            {"erp": "jobTitle", "crm": "jobtitle", "transform": "trim|uper"},
            {"erp": "privacyBlocked", "crm": "address1_line2"} | {"direction": "to_crm"},
            {
                "erp": "number",
                "crm": "_parentcustomerid_value",
                "direction": "to_crm",
                "lookup": "CONTACT",
                "lookup_by": {"erp": "key"},
            },
            {"erp": "email", "crm": "emailaddress1", "match": True},
        ]
        mapping(data, "ITEM-PRODUCT")["fields"].append(
            {"erp": "unitPrice", "crm": "modifiedon", "direction": "to_crm"}
        )

    with pytest.raises(ConfigError) as err:
        s.init(edited(tmp_path, broken))
    text = str(err.value)
    assert "mappings[SHIPMENT METHOD].crm: dataverse has no entity" in text
    assert "did you mean 'account.address1_shippingmethodcode'" in text
    assert "mappings[CONTACT].fields[crm=fullname:erp=displayName].crm" in text
    assert "'fullname' of contacts is read-only" in text
    assert "unknown transform 'uper'" in text and "did you mean 'upper'" in text
    assert "'_parentcustomerid_value' refers to accounts records" in text
    assert "lookup CONTACT couples contacts" in text
    assert "mappings[ITEM-PRODUCT]" in text and "'modifiedon' of products is read-only" in text
    # a boolean into text is fine; a price into a date is not
    assert "address1_line2" not in text
    with pytest.raises(ConfigError, match="no integration set up yet"):
        s.stored()


def test_types_that_cannot_meet_are_refused(
    make_setup: Callable[..., Setup], tmp_path: Path
) -> None:
    s = make_setup()

    def dates(data: dict[str, Any]) -> None:
        mapping(data, "PRICE LIST")["fields"].append(
            {"erp": "startingDate", "crm": "_transactioncurrencyid_value", "direction": "to_crm"}
        )

    with pytest.raises(ConfigError, match=r"erp date and crm lookup values cannot be copied"):
        s.init(edited(tmp_path, dates))


def test_a_custom_column_is_mapped_without_code(
    make_setup: Callable[..., Setup], tmp_path: Path
) -> None:
    s = make_setup(records=8, custom_columns={"accounts": [f"{LOYALTY}::100"]})

    def loyalty(data: dict[str, Any]) -> None:
        customer = mapping(data, "CUSTOMER")
        customer["create_new_if_no_match"] = True
        customer["fields"].append({"erp": "displayName", "crm": LOYALTY, "direction": "to_crm"})

    template = edited(tmp_path, loyalty)
    assert s.init(template).warnings == []
    # the names Business Central holds before the sync all reach the custom column
    names = {c["number"]: c["displayName"] for c in s.sx["business-central"].store.all("customers")}
    runs = operations.sync_full(s.hub)
    assert {r.mapping: r.status for r in runs}["CUSTOMER"] == "success", [
        (r.mapping, r.status, r.message) for r in runs
    ]
    accounts = [a for a in s.sx["dataverse"].store.all("accounts") if a["accountnumber"] in names]
    assert accounts and all(a[LOYALTY] == names[a["accountnumber"]] for a in accounts), [
        (a["accountnumber"], a[LOYALTY], names[a["accountnumber"]], a["name"])
        for a in accounts
        if a[LOYALTY] != names[a["accountnumber"]]
    ]


def test_a_custom_column_the_tenant_lacks_is_an_error(
    make_setup: Callable[..., Setup], tmp_path: Path
) -> None:
    s = make_setup()

    def loyalty(data: dict[str, Any]) -> None:
        mapping(data, "CUSTOMER")["fields"].append(
            {"erp": "displayName", "crm": LOYALTY, "direction": "to_crm"}
        )

    with pytest.raises(ConfigError, match=f"accounts has no field '{LOYALTY}'"):
        s.init(edited(tmp_path, loyalty))


ABSENT = "contoso/absent/v1.0"
"""An API group no sandbox serves (its $metadata route answers 404)."""


def test_a_missing_api_group_disables_its_mappings_and_their_dependents(
    make_setup: Callable[..., Setup], monkeypatch: pytest.MonkeyPatch
) -> None:
    in_group = {"salespeople", "priceLists", "priceListLines"}

    real = BusinessCentralConnector.api_group

    def api_group(self: BusinessCentralConnector, info: EntityInfo) -> str | None:
        return ABSENT if info.name in in_group else real(self, info)

    monkeypatch.setattr(BusinessCentralConnector, "api_group", api_group)
    s = make_setup()
    made = s.init("bc-sales")
    text = "\n".join(made.warnings)
    assert "mapping SALESPEOPLE is disabled" in text and ABSENT in text
    assert API_GROUP_DOCS in text
    assert "mapping CUSTOMER is disabled: it depends on SALESPEOPLE" in text
    assert "mapping CONTACT is disabled: it depends on CUSTOMER" in text
    assert "mapping PRICE LIST LINE is disabled" in text
    stored = {m.name: m.enabled for m in s.stored().template.mappings}
    off = {"SALESPEOPLE", "CUSTOMER", "CONTACT", "PRICE LIST", "PRICE LIST LINE"}
    assert {n for n, on in stored.items() if not on} == off
    runs = {r.mapping: r for r in operations.sync_full(s.hub)}
    assert {n for n, r in runs.items() if r.status == "disabled"} == off
    # the others ran (records without a match may be reported, the pass itself did not fail)
    ran = {n: r.status for n, r in runs.items() if n not in off}
    assert set(ran.values()) <= {"success", "error"}, [(n, r.message) for n, r in runs.items()]
    assert s.sx["dataverse"].store.count("transactioncurrencies") > 0
    with pytest.raises(ConfigError, match="mapping CUSTOMER is disabled: it depends on SALES"):
        operations.sync_now(s.hub, "CUSTOMER", ["x"], "to_crm")
    why = {row.name: row.disabled for row in status_service.status(s.hub)}
    assert why["SALESPEOPLE"] is not None and ABSENT in why["SALESPEOPLE"]
    assert why["CONTACT"] == (
        "mapping CONTACT is disabled: it depends on CUSTOMER, which is disabled"
    )
    assert why["ITEM-PRODUCT"] is None


def test_a_stored_integration_is_checked_again_when_loaded_for_a_run(
    make_setup: Callable[..., Setup], tmp_path: Path
) -> None:
    from accord.config.loader import load_template
    from accord.state.store import save_integration

    s = make_setup()

    def computed(data: dict[str, Any]) -> None:
        for f in mapping(data, "CONTACT")["fields"]:
            if f.get("crm") == "fullname":
                f["direction"] = "both"

    spec = load_template(edited(tmp_path, computed))
    with s.hub.db.session() as session:  # saved by an older Accord that did not check
        save_integration(session, "bc-sales", spec, ROLES)
    with pytest.raises(
        ConfigError, match=r"(?s)integration 'bc-sales'.*'fullname' of contacts is read"
    ):
        operations.sync_incremental(s.hub, ["CURRENCY"])


def test_a_system_that_cannot_be_reached_is_checked_against_the_built_in_description(
    make_setup: Callable[..., Setup], tmp_path: Path
) -> None:
    s = make_setup()
    down = settings_from_sandbox(s.sx["business-central"], name="bc-down", retry=FAST_RETRY)
    down = down.model_copy(update={"base_url": "https://127.0.0.1:9/v2.0/t/e/api/v2.0"})
    setup.connect(s.hub, down, check=False)
    made = setup.init_integration(s.hub, "bc-sales", {"erp": "bc-down", "crm": "crm"})
    assert len(made.warnings) == 1, made.warnings
    assert made.warnings[0].startswith("erp (bc-down): its metadata could not be read")
    assert "built-in description only" in made.warnings[0]

    def typo(data: dict[str, Any]) -> None:
        mapping(data, "CUSTOMER")["fields"].append({"erp": "emial", "crm": "emailaddress1"})

    with pytest.raises(ConfigError, match=r"(?s)'emial'.*metadata could not be read"):
        setup.init_integration(s.hub, edited(tmp_path, typo), {"erp": "bc-down", "crm": "crm"})
