"""Money and quantities stay Decimal on the wire: exact JSON numbers out, Decimal back in,
through both sandboxes (write, read back, compare as Decimal)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal
from typing import Any

import pytest

from accord import jsonwire
from accord.config.filters import all_of, where
from accord.connectors.base import ChangeQuery, WriteOp
from accord.connectors.odata import json_batch, multipart
from accord.connectors.registry import build_connector
from accord.testing.contract import FAST_RETRY
from accord.testing.sandbox import settings_from_sandbox

BIG = Decimal("12345678901234.5678")
TENTH = Decimal("0.1")


def test_decimals_are_written_as_the_numbers_they_spell() -> None:
    body = {"a": Decimal("12.10"), "b": [BIG, Decimal("1E+2"), Decimal("-0.000")], "c": 'q"'}
    assert jsonwire.dumps(body) == b'{"a":12.10,"b":[12345678901234.5678,100,-0.000],"c":"q\\""}'
    assert jsonwire.loads(jsonwire.dumps(body))["b"][0] == BIG


def test_reading_keeps_every_digit_and_integers_stay_integers() -> None:
    parsed = jsonwire.loads(b'{"x": 12345678901234.5678, "y": 0.1, "n": 7, "e": 1e2}')
    assert parsed == {"x": BIG, "y": TENTH, "n": 7, "e": Decimal("1E+2")}
    assert [type(v) for v in parsed.values()] == [Decimal, Decimal, int, Decimal]


def test_values_json_cannot_hold_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="no number for the decimal NaN"):
        jsonwire.dumps({"x": Decimal("NaN")})
    with pytest.raises(TypeError, match="cannot write a set value"):
        jsonwire.dumps({"x": {1}})


def test_batch_bodies_carry_exact_decimals_both_ways() -> None:
    request = json_batch.BatchRequest("1", "POST", "items", body={"unitPrice": TENTH})
    assert b'"unitPrice":0.1' in json_batch.encode([request])
    answer = json_batch.decode(b'{"responses":[{"id":"1","status":201,"body":{"p":0.1}}]}')
    assert answer["1"].body == {"p": TENTH}
    part = multipart.PartRequest("POST", "accounts", {}, {"creditlimit": BIG}, "1")
    content, _ = multipart.encode([part])
    assert b'"creditlimit":12345678901234.5678' in content


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[Any]:
    from accord.sandboxes import run_sandboxes

    with run_sandboxes(["business-central", "dataverse"], records=5, seed=11) as sx:
        yield sx


def connect(sandboxes: Any, system: str) -> Any:
    return closing(build_connector(settings_from_sandbox(sandboxes[system], retry=FAST_RETRY)))


@pytest.mark.parametrize(
    ("system", "entity", "values", "money"),
    [
        ("business-central", "customers", {"displayName": "Exact Ltd"}, "creditLimit"),
        ("business-central", "items", {"displayName": "Tenth"}, "unitPrice"),
        ("dataverse", "accounts", {"name": "Exact Ltd"}, "creditlimit"),
        ("dataverse", "products", {"name": "Tenth"}, "price"),
    ],
)
@pytest.mark.parametrize("amount", [BIG, TENTH])
def test_amounts_round_trip_exactly(
    sandboxes: Any, system: str, entity: str, values: dict[str, Any], money: str, amount: Decimal
) -> None:
    with connect(sandboxes, system) as connector:
        if entity == "products":  # a unique alternate key
            values = {**values, "productnumber": f"T-{amount}"}
        [created] = connector.write(entity, [WriteOp("create", "r", {**values, money: amount})])
        assert created.ok, created.error
        [read] = connector.get(entity, [created.id])
        assert isinstance(read.values[money], Decimal)
        assert read.values[money] == amount and str(read.values[money]) == str(amount)
        [updated] = connector.write(
            entity, [WriteOp("update", "u", {money: amount + TENTH}, id=created.id)]
        )
        assert updated.ok, updated.error
        [again] = connector.get(entity, [created.id])
        assert again.values[money] == amount + TENTH


def test_filters_on_decimals_compare_exactly(sandboxes: Any) -> None:
    with connect(sandboxes, "business-central") as connector:
        ops = [
            WriteOp("create", str(i), {"displayName": f"Edge {i}", "creditLimit": limit})
            for i, limit in enumerate([BIG, BIG + Decimal("0.0001"), BIG - Decimal("0.0001")])
        ]
        ids = [r.id for r in connector.write("customers", ops)]
        edges = where("displayName", "startswith", "Edge ")
        exact = ChangeQuery(filter=all_of(edges, where("creditLimit", "eq", BIG)))
        assert [r.id for p in connector.read_changes("customers", exact) for r in p.records] == [
            ids[0]
        ]
        above = ChangeQuery(filter=all_of(edges, where("creditLimit", "gt", BIG)))
        assert {r.id for p in connector.read_changes("customers", above) for r in p.records} == {
            ids[1]
        }
        assert connector.count("customers", all_of(edges, where("creditLimit", "ge", BIG))) == 2


def test_whole_amounts_read_as_decimal_too(sandboxes: Any) -> None:
    with connect(sandboxes, "dataverse") as connector:
        [created] = connector.write("accounts", [WriteOp("create", "w", {"creditlimit": 5000})])
        [read] = connector.get("accounts", [created.id])
        feed = connector.read_changes("accounts", ChangeQuery(filter=where("name", "is_null")))
        streamed = [r for page in feed for r in page.records if r.id == created.id]
    assert type(read.values["creditlimit"]) is Decimal and read.values["creditlimit"] == 5000
    assert [type(r.values["creditlimit"]) for r in streamed] == [Decimal]
    assert type(read.values["name"]) is not Decimal  # only decimal fields are converted
