"""``accord init`` on the command line: a template that does not fit is refused with every
problem named and nothing saved; warnings for disabled mappings go to stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from accord.cli.app import app
from accord.sandboxes import run_sandboxes
from tests.worlds import custom_template


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")


def test_init_refuses_a_template_that_does_not_fit(tmp_path: Path) -> None:
    runner = CliRunner()
    template = Path(custom_template(tmp_path, "CUSTOMER"))
    data = yaml.safe_load(template.read_text())
    customer = next(m for m in data["mappings"] if m["name"] == "CUSTOMER")
    customer["fields"].append({"erp": "email", "crm": "emailadress1", "transform": "lowr"})
    template.write_text(yaml.safe_dump(data, sort_keys=False))
    home = tmp_path / "home"
    with run_sandboxes(["business-central", "dataverse"], records=5) as sx:
        info = tmp_path / "sandboxes.json"
        info.write_text(json.dumps(sx.as_json()))
        for name, system in (("bc", "business-central"), ("crm", "dataverse")):
            args = ["--home", str(home), "connect", name, "--system", system]
            result = runner.invoke(app, [*args, "--sandbox-json", str(info)])
            assert result.exit_code == 0, result.output
        init = ["--home", str(home), "init", "-c", "erp=bc", "-c", "crm=crm"]
        bad = runner.invoke(app, [*init, "--template", str(template)], catch_exceptions=False)
        assert bad.exit_code == 2
        assert "Traceback" not in bad.output
        assert "mappings[CUSTOMER].fields[crm=emailadress1:erp=email].crm" in bad.output
        assert "did you mean 'emailaddress1'" in bad.output
        assert "unknown transform 'lowr'" in bad.output and "did you mean 'lower'" in bad.output
        status = runner.invoke(app, ["--home", str(home), "status"], catch_exceptions=False)
        assert status.exit_code != 0 and "no integration set up yet" in status.output
        good = runner.invoke(app, init, catch_exceptions=False)
        assert good.exit_code == 0 and "ready from template bc-sales" in good.output


def test_init_warns_about_mappings_it_disables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from accord.connectors.business_central.connector import BusinessCentralConnector

    real = BusinessCentralConnector.api_group
    monkeypatch.setattr(
        BusinessCentralConnector,
        "api_group",
        lambda self, info: (
            "contoso/absent/v1.0" if info.name == "salespeople" else real(self, info)
        ),
    )
    runner = CliRunner()
    home = tmp_path / "home"
    with run_sandboxes(["business-central", "dataverse"], records=5) as sx:
        info = tmp_path / "sandboxes.json"
        info.write_text(json.dumps(sx.as_json()))
        for name, system in (("bc", "business-central"), ("crm", "dataverse")):
            args = ["--home", str(home), "connect", name, "--system", system]
            assert runner.invoke(app, [*args, "--sandbox-json", str(info)]).exit_code == 0
        init = ["--home", str(home), "init", "-c", "erp=bc", "-c", "crm=crm"]
        made = runner.invoke(app, init, catch_exceptions=False)
        shown = runner.invoke(app, ["--home", str(home), "status", "--json"])
    assert made.exit_code == 0, made.output
    why = {m["mapping"]: m["disabled_reason"] for m in json.loads(shown.output)["mappings"]}
    assert "'contoso/absent/v1.0'" in why["SALESPEOPLE"]
    assert why["CUSTOMER"].startswith("mapping CUSTOMER is disabled: it depends on SALESPEOPLE")
    assert why["ITEM-PRODUCT"] is None
    assert "warning: mapping SALESPEOPLE is disabled" in made.output
    assert "'contoso/absent/v1.0'" in made.output
    assert "warning: mapping CUSTOMER is disabled: it depends on SALESPEOPLE" in made.output
    assert "Integration bc-sales ready" in made.output
