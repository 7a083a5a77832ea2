"""The Business Central connector's custom API group: URLs per entity built from the v2.0 base
URL, reads, batched writes and counts against the sandbox over loopback, both companies, and
a tenant without the extension."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest

from accord.connectors.base import ChangeQuery, WriteOp
from accord.connectors.business_central.connector import BusinessCentralConnector
from accord.connectors.business_central.custom_api import API_GROUP, ENTITIES, api_root
from accord.connectors.business_central.custom_documents import DOCUMENT_PAGES
from accord.connectors.registry import build_connector
from accord.errors import AccordError, ConfigError
from accord.testing.contract import FAST_RETRY
from accord.testing.sandbox import settings_from_sandbox

REAL = "https://api.businesscentral.dynamics.com/v2.0/7f3c2a10-tenant/Production/api/v2.0"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    from accord.sandboxes import run_sandboxes

    with run_sandboxes(["business-central"], records=40, seed=7) as sx:
        yield sx["business-central"]


@pytest.fixture()
def connector(sandbox: Any) -> Iterator[BusinessCentralConnector]:
    sandbox.options.custom_api = True
    built = build_connector(settings_from_sandbox(sandbox, retry=FAST_RETRY))
    assert isinstance(built, BusinessCentralConnector)
    with closing(built):
        yield built
    sandbox.options.custom_api = True


def records(connector: BusinessCentralConnector, entity: str, **query: Any) -> list[Any]:
    feed = connector.read_changes(entity, ChangeQuery(**query))
    return [r for page in feed for r in page.records]


def test_api_root_of_a_real_tenant_url() -> None:
    assert api_root(REAL, API_GROUP) == (
        "https://api.businesscentral.dynamics.com/v2.0/7f3c2a10-tenant/Production/api/"
        "accord/integration/v1.0"
    )
    assert api_root(REAL + "/", None) == REAL
    with pytest.raises(ConfigError, match="no '/api/' segment"):
        api_root("https://bc.example.com/v2.0/tenant/Production", API_GROUP)


def test_entities_say_which_api_they_live_in() -> None:
    group = {n for n, e in ENTITIES.items() if e.api_group == API_GROUP}
    assert group == {
        "salespeople",
        "shippingAgents",
        "priceLists",
        "priceListLines",
        "unitGroups",
        "itemUnitsOfMeasure",
        "currencyExchangeRates",
        "currencyRates",
        "integrationContacts",
        *DOCUMENT_PAGES,
        "integrationCustomers",
        "integrationItems",
    }
    assert ENTITIES["customers"].api_group is None and ENTITIES["currencies"].api_group is None


def test_reads_go_to_the_group_route(sandbox: Any, connector: BusinessCentralConnector) -> None:
    sandbox.reset_stats()
    agents = records(connector, "shippingAgents")
    assert {r.values["code"] for r in agents} >= {"DHL", "FEDEX", "UPS"}
    group_path = urlsplit(connector.api_root(API_GROUP)).path
    routes = sandbox.stats()["by_route"]
    assert f"GET {group_path}/companies({{key}})/shippingAgents" in routes
    rates = {
        r.values["code"]: r.values["exchangeRate"] for r in records(connector, "currencyRates")
    }
    assert all(isinstance(v, Decimal) for v in rates.values()) and rates["EUR"] > 0
    people = connector.find("salespeople", {"code": "JR"})
    assert [p.values["email"] for p in people] == ["jim.richards@cronus.example.com"]
    assert connector.count("itemUnitsOfMeasure") == sandbox.store.count("itemUnitsOfMeasure")
    assert connector.count("customers") == sandbox.store.count("customers")


def test_incremental_read_of_a_group_entity(
    sandbox: Any, connector: BusinessCentralConnector
) -> None:
    first = records(connector, "currencyExchangeRates")
    newest = max(r.modified_at for r in first if r.modified_at)
    sandbox.clock.advance(1)
    sandbox.store.insert(
        "currencyExchangeRates",
        {
            "currencyCode": "MXN",
            "startingDate": "2020-02-02",
            "exchangeRateAmount": "100",
            "relationalExchangeRateAmount": "5.5",
        },
        sandbox.company_id,
    )
    later = records(connector, "currencyExchangeRates", since=newest)
    assert [(r.values["currencyCode"], r.values["startingDate"]) for r in later] == [
        ("MXN", "2020-02-02")
    ]
    assert later[0].values["relationalExchangeRateAmount"] == Decimal("5.5")


def test_writes_are_batched_to_the_group_batch(
    sandbox: Any, connector: BusinessCentralConnector
) -> None:
    code = f"W{uuid.uuid4().hex[:6].upper()}"
    sandbox.reset_stats()
    [created] = connector.write(
        "shippingAgents", [WriteOp("create", "a", {"code": code, "displayName": "Written"})]
    )
    assert created.ok and created.record is not None
    group_path = urlsplit(connector.api_root(API_GROUP)).path
    posts = {k: v for k, v in sandbox.stats()["by_route"].items() if "/api/" in k and "POST" in k}
    assert posts == {f"POST {group_path}/$batch": 1}
    [updated] = connector.write(
        "shippingAgents",
        [WriteOp("update", "a", {"accountNo": "ACC-9"}, id=created.id, etag=created.record.etag)],
    )
    assert updated.ok and sandbox.store.get("shippingAgents", str(created.id))["accountNo"] == (
        "ACC-9"
    )
    [stale] = connector.write(
        "shippingAgents",
        [WriteOp("update", "a", {"accountNo": "X"}, id=created.id, etag=created.record.etag)],
    )
    assert not stale.ok and stale.conflict
    [refused] = connector.write(
        "itemUnitsOfMeasure",
        [WriteOp("create", "u", {"itemNumber": "NO-SUCH-ITEM", "unitOfMeasureCode": "BOX"})],
    )
    assert not refused.ok and "NO-SUCH-ITEM" in str(refused.error)
    [deleted] = connector.write("shippingAgents", [WriteOp("delete", "a", id=created.id)])
    assert deleted.ok and sandbox.store.get("shippingAgents", str(created.id)) is None


def test_second_company(sandbox: Any) -> None:
    other = sandbox.store.all("companies")
    name = next(c["name"] for c in other if c["id"] != sandbox.company_id)
    settings = settings_from_sandbox(sandbox, company=name, retry=FAST_RETRY)
    with closing(build_connector(settings)) as second:
        codes = {r.values["code"] for r in records(second, "currencyRates")}  # type: ignore[arg-type]
        assert "USD" in codes
        groups = records(second, "unitGroups")  # type: ignore[arg-type]
        numbers = {r.values["sourceNumber"] for r in groups}
        company_id = second.client.company_id  # type: ignore[attr-defined]
        items = {i["number"] for i in sandbox.store.all("items", company_id)}
        assert numbers == items and company_id != sandbox.company_id


def test_tenant_without_the_extension(sandbox: Any, connector: BusinessCentralConnector) -> None:
    assert connector.has_api_group(API_GROUP)
    sandbox.options.custom_api = False
    assert not connector.has_api_group(API_GROUP)
    assert connector.count("customers") > 0
    with pytest.raises(AccordError, match="404"):
        records(connector, "salespeople")


def test_a_rate_dated_in_advance_takes_effect_on_its_date(
    sandbox: Any, connector: BusinessCentralConnector
) -> None:
    """Last in this module: it moves the sandbox's clock a month ahead."""
    before = {r.values["code"]: r for r in records(connector, "currencyRates")}
    eur = [
        r
        for r in sandbox.store.all("currencyExchangeRates", sandbox.company_id)
        if r["currencyCode"] == "EUR"
    ]
    ahead = max(eur, key=lambda r: r["startingDate"])
    assert ahead["startingDate"] > before["EUR"].values["exchangeRateDate"]
    sandbox.clock.advance(31 * 86400)
    since = max(r.modified_at for r in before.values() if r.modified_at)
    changed = {r.values["code"]: r for r in records(connector, "currencyRates", since=since)}
    expected = ahead["exchangeRateAmount"] / ahead["relationalExchangeRateAmount"]
    assert changed["EUR"].values["exchangeRate"] == expected.quantize(Decimal("0.0000000001"))
    assert changed["EUR"].values["exchangeRateDate"] == ahead["startingDate"]
    assert changed["EUR"].etag != before["EUR"].etag
