"""Templates: the built-in one loads; bad ones fail naming file, place and valid values."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from accord.config.loader import builtin_templates, load_template
from accord.errors import ConfigError


def test_builtin_bc_sales_loads_in_dependency_order() -> None:
    assert "bc-sales" in builtin_templates()
    spec = load_template("bc-sales")
    customer = spec.mapping("CUSTOMER")
    assert set(customer.depends_on) == {
        "SALESPEOPLE",
        "CURRENCY",
        "PAYMENT TERMS",
        "SHIPMENT METHOD",
        "SHIPPING AGENT",
    }  # Microsoft's "Dependency Filter" (CDSSetupDefaults.ResetCustomerAccountMapping)
    assert spec.mapping("CONTACT").depends_on == ["CUSTOMER"]


def write(tmp_path: Path, data: object) -> str:
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def base() -> dict:  # type: ignore[type-arg]
    return {
        "name": "t",
        "roles": {"erp": "business-central", "crm": "dataverse"},
        "mappings": [
            {
                "name": "CUSTOMER",
                "erp": "customers",
                "crm": "accounts",
                "fields": [{"erp": "displayName", "crm": "name"}],
            }
        ],
    }


def test_invalid_direction_names_place_and_valid_values(tmp_path: Path) -> None:
    data = base()
    data["mappings"][0]["fields"][0]["direction"] = "sideways"
    with pytest.raises(ConfigError) as err:
        load_template(write(tmp_path, data))
    text = str(err.value)
    place = "mappings[CUSTOMER].fields[crm=name:erp=displayName].direction"
    assert f"t.yaml: {place}: 'sideways' is not valid" in text
    assert "valid: both, to_erp, to_crm" in text


def test_unknown_dependency_and_cycle(tmp_path: Path) -> None:
    data = base()
    data["mappings"][0]["depends_on"] = ["NOPE"]
    with pytest.raises(ConfigError, match="unknown mapping 'NOPE'"):
        load_template(write(tmp_path, data))
    data = base()
    data["mappings"].append(
        {
            "name": "B",
            "erp": "x",
            "crm": "y",
            "depends_on": ["CUSTOMER"],
            "fields": [{"erp": "a", "crm": "b"}],
        }
    )
    data["mappings"][0]["depends_on"] = ["B"]
    with pytest.raises(ConfigError, match="cycle"):
        load_template(write(tmp_path, data))


def test_unknown_key_and_bad_yaml(tmp_path: Path) -> None:
    data = base()
    data["mappings"][0]["colour"] = "red"
    with pytest.raises(ConfigError, match=r"mappings\[CUSTOMER\]: 'colour' is neither a setting"):
        load_template(write(tmp_path, data))
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+:\d+"):
        load_template(str(bad))


def test_unknown_builtin_lists_the_templates() -> None:
    with pytest.raises(ConfigError, match="bc-sales"):
        load_template("nonexistent")


def test_constant_needs_matching_direction(tmp_path: Path) -> None:
    data = base()
    data["mappings"][0]["fields"].append({"crm": "statecode", "constant": 0})
    with pytest.raises(ConfigError, match="to_crm"):
        load_template(write(tmp_path, data))


def test_roles_are_checked_where_they_are_used(tmp_path: Path) -> None:
    data = base()
    data["mappings"][0].pop("crm")
    with pytest.raises(ConfigError, match=r"mappings\[CUSTOMER\]: no entity named for role crm"):
        load_template(write(tmp_path, data))
    data = base()
    data["mappings"][0]["fields"][0] = {"erp": "displayName", "crn": "name"}
    with pytest.raises(ConfigError, match=r"'crn' is neither a setting nor a role .*erp, crm"):
        load_template(write(tmp_path, data))
    data = base()
    data["mappings"][0]["initial_master"] = "local"
    with pytest.raises(ConfigError, match=r"initial_master: 'local' is not valid; valid: erp, crm"):
        load_template(write(tmp_path, data))
    data = base()
    data["roles"] = {"ERP": "business-central", "crm": "dataverse"}
    with pytest.raises(ConfigError, match="'ERP' is not a role name"):
        load_template(write(tmp_path, data))
    data = base()
    data["mappings"][0]["same_records_as"] = {"bc": "customers"}
    with pytest.raises(ConfigError, match=r"same_records_as: 'bc' is not valid; valid: erp, crm"):
        load_template(write(tmp_path, data))


def test_option_map_gives_a_value_per_role(tmp_path: Path) -> None:
    data = base()
    data["mappings"][0]["fields"][0]["option_map"] = [{"erp": "A", "crm": 1}, {"erp": "B"}]
    with pytest.raises(ConfigError, match=r"option_map\[1\]: each entry gives one value per role"):
        load_template(write(tmp_path, data))
