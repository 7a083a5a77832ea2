"""Connectors describe their entities from the service's metadata, read once per connection
in a process, over loopback to the sandboxes."""

from __future__ import annotations

from contextlib import closing

import pytest

from accord.connectors.base import FieldType
from accord.connectors.business_central.connector import BusinessCentralConnector
from accord.connectors.registry import build_connector
from accord.errors import ApiGroupMissingError
from accord.sandboxes import run_sandboxes
from accord.sandboxes.dataverse.protocol import DvOptions
from accord.testing.contract import FAST_RETRY
from accord.testing.sandbox import settings_from_sandbox


def test_a_custom_column_is_described_and_the_document_read_once() -> None:
    options = {"dataverse": DvOptions(custom_columns={"accounts": ["cr3f2_loyaltytier::100"]})}
    with run_sandboxes(["dataverse"], records=3, options=options) as sx:
        settings = settings_from_sandbox(sx["dataverse"], name="crm", retry=FAST_RETRY)
        with closing(build_connector(settings)) as first:
            assert "cr3f2_loyaltytier" not in first.entity("accounts").fields  # static only
            before = first.http.request_count  # type: ignore[attr-defined]
            first.describe()  # type: ignore[attr-defined]
            assert first.http.request_count == before + 1  # type: ignore[attr-defined]
            column = first.entity("accounts").fields["cr3f2_loyaltytier"]
            assert column.type is FieldType.STRING and not column.read_only
            assert first.entity("accounts").natural_key == "accountnumber"
        with closing(build_connector(settings)) as second:
            second.describe()  # type: ignore[attr-defined]
            assert second.http.request_count == 0  # type: ignore[attr-defined]
            assert "cr3f2_loyaltytier" in second.entity("accounts").fields


def test_an_entity_of_an_absent_api_group_names_the_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = BusinessCentralConnector.api_group
    monkeypatch.setattr(
        BusinessCentralConnector,
        "api_group",
        lambda self, info: (
            "contoso/absent/v1.0" if info.name == "salespeople" else real(self, info)
        ),
    )
    with run_sandboxes(["business-central"], records=3) as sx:
        settings = settings_from_sandbox(sx["business-central"], name="bc", retry=FAST_RETRY)
        with closing(build_connector(settings)) as bc:
            bc.describe()  # type: ignore[attr-defined]
            with pytest.raises(ApiGroupMissingError, match=r"contoso/absent/v1\.0") as err:
                bc.entity("salespeople")
            assert err.value.group == "contoso/absent/v1.0"
            assert bc.entity("customers").fields["currencyId"].lookup_entity == "currencies"


@pytest.mark.parametrize("system", ["business-central", "dataverse"])
def test_the_sandbox_describes_every_static_entity_and_field(system: str) -> None:
    """The static descriptors and what the sandbox publishes agree: described, every static
    field is still there with its type (a plain-text default may be refined), and what only
    the descriptors know (natural key, change tracking, batch size) is kept."""
    with run_sandboxes([system], records=2) as sx:
        settings = settings_from_sandbox(sx[system], retry=FAST_RETRY)
        c = build_connector(settings)
        try:
            static = dict(c.entities())
            described = c.describe()  # type: ignore[attr-defined]
        finally:
            c.close()
    for name, info in static.items():
        assert name in described, f"{system} does not publish {name}"
        got = described[name]
        assert (got.key, got.natural_key, got.change_tracking, got.max_batch_size) == (
            info.key,
            info.natural_key,
            info.change_tracking,
            info.max_batch_size,
        )
        missing = sorted(set(info.fields) - set(got.fields))
        assert not missing, f"{system} {name} lacks {missing}"
        for field, expected in info.fields.items():
            if expected.type is not FieldType.STRING:
                assert got.fields[field].type is expected.type, (name, field)
            assert got.fields[field].read_only >= expected.read_only, (name, field)
