"""Business Central connector against the Business Central sandbox (loopback HTTPS)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pytest

from accord.config.filters import where
from accord.connectors.base import ChangeQuery, WriteOp
from accord.connectors.business_central.documents import HEADER_OF_LINES
from accord.connectors.registry import build_connector
from accord.errors import ConfigError
from accord.testing.contract import FAST_RETRY, ConnectorContract
from accord.testing.sandbox import settings_from_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    from accord.sandboxes import run_sandboxes

    with run_sandboxes(["business-central"], records=100, seed=7) as sx:
        yield sx["business-central"]


class TestBusinessCentralContract(ConnectorContract):
    entity = "customers"
    text_field = "displayName"

    def new_values(self, tag: str) -> dict[str, Any]:
        return {"displayName": f"Contract {tag}", "city": "Atlanta", "creditLimit": 1000}


def test_company_option_by_id_and_unknown_company(sandbox: Any) -> None:
    with closing(build_connector(settings_from_sandbox(sandbox, company=sandbox.company_id))) as c:
        assert c.count("currencies") >= 1
    wrong = build_connector(settings_from_sandbox(sandbox, company="No Such Company"))
    with pytest.raises(ConfigError, match=re.escape(sandbox.company_name)), closing(wrong):
        wrong.check()


def test_full_batch_of_101_uses_two_batch_requests(
    sandbox: Any, request: pytest.FixtureRequest
) -> None:
    connector = build_connector(settings_from_sandbox(sandbox, retry=FAST_RETRY))
    request.addfinalizer(connector.close)
    connector.check()
    tag = uuid.uuid4().hex[:6]
    before = connector.http.request_count  # type: ignore[attr-defined]
    ops = [WriteOp("create", str(i), {"displayName": f"Bulk {tag} {i}"}) for i in range(101)]
    results = connector.write("customers", ops)
    assert all(r.ok for r in results) and len({r.id for r in results}) == 101
    assert connector.http.request_count - before == 2  # type: ignore[attr-defined]
    deletes = [
        WriteOp("delete", r.ref, id=r.id, etag=r.record.etag if r.record else None) for r in results
    ]
    assert all(r.ok for r in connector.write("customers", deletes))


def test_every_entity_reads_with_the_described_fields(
    sandbox: Any, request: pytest.FixtureRequest
) -> None:
    connector = build_connector(settings_from_sandbox(sandbox))
    request.addfinalizer(connector.close)
    for name, info in connector.entities().items():
        header = HEADER_OF_LINES.get(name)  # lines are read per document
        query = ChangeQuery(
            filter=where("documentId", "eq", sandbox.store.all(header)[0]["id"]) if header else None
        )
        records = [r for page in connector.read_changes(name, query) for r in page.records]
        assert records, name
        assert set(records[0].values) == set(info.fields), name
