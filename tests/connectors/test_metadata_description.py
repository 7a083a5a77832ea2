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
    monkeypatch.setattr(
        BusinessCentralConnector,
        "api_group",
        lambda self, info: "contoso/absent/v1.0" if info.name == "salespeople" else None,
    )
    with run_sandboxes(["business-central"], records=3) as sx:
        settings = settings_from_sandbox(sx["business-central"], name="bc", retry=FAST_RETRY)
        with closing(build_connector(settings)) as bc:
            bc.describe()  # type: ignore[attr-defined]
            with pytest.raises(ApiGroupMissingError, match=r"contoso/absent/v1\.0") as err:
                bc.entity("salespeople")
            assert err.value.group == "contoso/absent/v1.0"
            assert bc.entity("customers").fields["currencyId"].lookup_entity == "currencies"
