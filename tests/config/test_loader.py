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
    }
    assert spec.mapping("CONTACT").depends_on == ["CUSTOMER"]


def write(tmp_path: Path, data: object) -> str:
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def base() -> dict:  # type: ignore[type-arg]
    return {
        "name": "t",
        "local_system": "business-central",
        "remote_system": "dataverse",
        "mappings": [
            {
                "name": "CUSTOMER",
                "local": "customers",
                "remote": "accounts",
                "fields": [{"local": "displayName", "remote": "name"}],
            }
        ],
    }


def test_invalid_direction_names_place_and_valid_values(tmp_path: Path) -> None:
    data = base()
    data["mappings"][0]["fields"][0]["direction"] = "sideways"
    with pytest.raises(ConfigError) as err:
        load_template(write(tmp_path, data))
    text = str(err.value)
    assert "t.yaml" in text and "mappings[CUSTOMER].fields[0].direction" in text
    assert "'bidirectional'" in text and "'to_remote'" in text


def test_unknown_dependency_and_cycle(tmp_path: Path) -> None:
    data = base()
    data["mappings"][0]["depends_on"] = ["NOPE"]
    with pytest.raises(ConfigError, match="unknown mapping 'NOPE'"):
        load_template(write(tmp_path, data))
    data = base()
    data["mappings"].append(
        {
            "name": "B",
            "local": "x",
            "remote": "y",
            "depends_on": ["CUSTOMER"],
            "fields": [{"local": "a", "remote": "b"}],
        }
    )
    data["mappings"][0]["depends_on"] = ["B"]
    with pytest.raises(ConfigError, match="cycle"):
        load_template(write(tmp_path, data))


def test_unknown_key_and_bad_yaml(tmp_path: Path) -> None:
    data = base()
    data["mappings"][0]["colour"] = "red"
    with pytest.raises(ConfigError, match=r"mappings\[CUSTOMER\]\.colour"):
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
    data["mappings"][0]["fields"].append({"remote": "statecode", "constant": 0})
    with pytest.raises(ConfigError, match="to_remote"):
        load_template(write(tmp_path, data))
