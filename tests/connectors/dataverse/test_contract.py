"""Dataverse connector against the Dataverse sandbox (loopback HTTPS)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pytest

from accord.connectors.base import ChangeQuery, WriteOp
from accord.connectors.registry import build_connector
from accord.testing.contract import FAST_RETRY, ConnectorContract, read_all
from accord.testing.sandbox import settings_from_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    from accord.sandboxes import run_sandboxes

    with run_sandboxes(["dataverse"], records=100, seed=7) as sx:
        yield sx["dataverse"]


class TestDataverseContract(ConnectorContract):
    entity = "accounts"
    text_field = "name"
    small_batch = 7

    def new_values(self, tag: str) -> dict[str, Any]:
        return {"name": f"Contract {tag}", "address1_city": "Atlanta", "creditlimit": 1000}


@pytest.fixture
def connector(sandbox: Any) -> Iterator[Any]:
    with closing(build_connector(settings_from_sandbox(sandbox, retry=FAST_RETRY))) as made:
        yield made


def test_delta_feed_reports_updates_and_deletes(connector: Any, sandbox: Any) -> None:
    feed = connector.read_changes("accounts", ChangeQuery(page_size=40))
    initial = [r for page in feed for r in page.records]
    assert len(initial) == sandbox.store.count("accounts") and feed.next_token
    changed, removed = initial[0], initial[1]
    sandbox.store.update("accounts", changed.id, {"name": "Changed elsewhere"})
    sandbox.store.delete("accounts", removed.id)
    delta = connector.read_changes("accounts", ChangeQuery(token=feed.next_token))
    pages = list(delta)
    assert [r.values["name"] for p in pages for r in p.records if r.id == changed.id] == [
        "Changed elsewhere"
    ]
    assert removed.id in {d for p in pages for d in p.deleted_ids}
    assert delta.next_token and delta.next_token != feed.next_token


def test_create_with_client_id_is_an_idempotent_upsert(connector: Any, sandbox: Any) -> None:
    chosen = str(uuid.uuid4())
    op = WriteOp("create", "c", {"name": "Upserted"}, id=chosen)
    first, second = connector.write("accounts", [op]), connector.write("accounts", [op])
    assert first[0].ok and second[0].ok and first[0].id == second[0].id == chosen
    assert len(connector.find("accounts", {"name": "Upserted"}, limit=5)) == 1


def test_duplicate_alternate_key_on_create_is_not_a_conflict(connector: Any) -> None:
    number = f"DUP-{uuid.uuid4().hex[:6]}"
    ops = [WriteOp("create", r, {"name": r, "accountnumber": number}) for r in ("a", "b")]
    first, second = connector.write("accounts", ops)
    assert first.ok and not second.ok
    assert second.status == 412 and not second.conflict and second.error_code


def test_lookup_written_as_bind_and_read_back(connector: Any) -> None:
    currencies, _ = read_all(connector, "transactioncurrencies", ChangeQuery())
    currency = currencies[0].id
    [made] = connector.write(
        "accounts",
        [
            WriteOp(
                "create", "l", {"name": "With currency", "_transactioncurrencyid_value": currency}
            )
        ],
    )
    assert made.ok, made.error
    [got] = connector.get("accounts", [made.id])
    assert got.values["_transactioncurrencyid_value"] == currency
    [cleared] = connector.write(
        "accounts", [WriteOp("update", "u", {"_transactioncurrencyid_value": None}, id=made.id)]
    )
    assert cleared.ok, cleared.error
    [got] = connector.get("accounts", [made.id])
    assert got.values["_transactioncurrencyid_value"] is None


def test_option_sets_read_and_insert(connector: Any) -> None:
    entity = "account.paymenttermscode"
    before, _ = read_all(connector, entity, ChangeQuery())
    label = f"Net {uuid.uuid4().hex[:4]}"
    [result] = connector.write(entity, [WriteOp("create", "o", {"label": label})])
    assert result.ok, result.error
    after, _ = read_all(connector, entity, ChangeQuery())
    assert len(after) == len(before) + 1
    assert [
        r.id for r in connector.find(entity, {"label": label.upper()}, case_sensitive=False)
    ] == [result.id]


def test_every_entity_reads_with_the_described_fields(connector: Any) -> None:
    for name, info in connector.entities().items():
        records, _ = read_all(connector, name, ChangeQuery())
        assert records, name
        assert set(records[0].values) <= set(info.fields), name


def test_whoami_check(sandbox: Any) -> None:
    with closing(build_connector(settings_from_sandbox(sandbox))) as made:
        made.check()
