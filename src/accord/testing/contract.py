"""The connector contract: tests every connector runs against its sandbox.

Subclass :class:`ConnectorContract` in a test module, provide a ``sandbox`` fixture (a
``run_sandboxes`` handle) and describe one writable entity::

    class TestBusinessCentral(ConnectorContract):
        entity = "customers"
        text_field = "displayName"

        def new_values(self, tag: str) -> dict[str, Any]:
            return {"displayName": f"Contract {tag}"}

pytest then collects every ``test_*`` method below.
"""

from __future__ import annotations

import math
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr

from accord.connectors.base import ChangeQuery, Connector, FieldType, Record, WriteOp
from accord.connectors.registry import build_connector
from accord.errors import AuthError, ConfigError, TransientError, UnknownEntityError
from accord.testing.sandbox import settings_from_sandbox

FAST_RETRY = {"max_attempts": 4, "base_delay": 0.01, "max_delay": 0.05, "max_retry_after": 0.05}


def read_all(connector: Connector, entity: str, query: ChangeQuery) -> tuple[list[Record], int]:
    """Every record of a change feed, and how many pages carried them."""
    records: list[Record] = []
    pages = 0
    for page in connector.read_changes(entity, query):
        pages += 1
        records.extend(page.records)
    return records, pages


def token_requests(sandbox: Any) -> int:
    """Requests the sandbox's token endpoint has answered so far."""
    routes: Mapping[str, int] = sandbox.stats().get("by_route", {})
    return sum(n for route, n in routes.items() if "oauth2/v2.0/token" in route)


class ConnectorContract(ABC):
    """The contract; subclasses set the class attributes and ``new_values``."""

    entity: ClassVar[str]
    """A writable entity with a text field and a modified-on field."""
    text_field: ClassVar[str]
    store_entity: ClassVar[str | None] = None
    """The entity's name in the sandbox store, when it differs from the connector's."""
    options: ClassVar[Mapping[str, Any]] = {}
    small_batch: ClassVar[int] = 5

    @abstractmethod
    def new_values(self, tag: str) -> dict[str, Any]:
        """Values for a new record of the entity, unique by ``tag``."""

    # -- fixtures -----------------------------------------------------------------------
    def connect(self, sandbox: Any, **options: Any) -> Connector:
        settings = settings_from_sandbox(
            sandbox,
            name=f"contract-{uuid.uuid4().hex[:6]}",
            **{"retry": FAST_RETRY, **self.options, **options},
        )
        return build_connector(settings)

    @pytest.fixture
    def connector(self, sandbox: Any) -> Iterator[Connector]:
        connector = self.connect(sandbox)
        yield connector
        connector.close()

    @pytest.fixture(autouse=True)
    def _clean_sandbox(self, sandbox: Any) -> Iterator[None]:
        yield
        sandbox.faults.clear()
        sandbox.store.clear_rejects()
        sandbox.clock.unfreeze()

    def create(self, connector: Connector, tag: str, **extra: Any) -> Record:
        [result] = connector.write(
            self.entity, [WriteOp("create", tag, {**self.new_values(tag), **extra})]
        )
        assert result.ok, result.error
        assert result.record is not None and result.id == result.record.id
        return result.record

    @property
    def sandbox_entity(self) -> str:
        return self.store_entity or self.entity

    # -- description --------------------------------------------------------------------
    def test_entities_are_described_consistently(self, connector: Connector) -> None:
        entities = connector.entities()
        assert self.entity in entities
        for name, info in entities.items():
            assert info.name == name
            assert info.key in info.fields, name
            assert info.max_page_size >= 1 and info.max_batch_size >= 1
            if info.modified_field:
                assert info.fields[info.modified_field].type is FieldType.DATETIME, name
            for field in info.fields.values():
                if field.type is FieldType.LOOKUP:
                    assert field.lookup_entity in entities, (name, field.name)
        assert connector.entity(self.entity) is entities[self.entity]

    def test_unknown_entity_lists_valid_names(self, connector: Connector) -> None:
        with pytest.raises(UnknownEntityError, match=self.entity):
            connector.entity("no_such_entity")
        with pytest.raises(UnknownEntityError):
            connector.read_changes("no_such_entity", ChangeQuery())
        with pytest.raises(UnknownEntityError):
            connector.write("no_such_entity", [WriteOp("create", "x")])

    # -- CRUD ---------------------------------------------------------------------------
    def test_create_get_update_read_delete_roundtrip(
        self, connector: Connector, sandbox: Any
    ) -> None:
        tag = uuid.uuid4().hex[:8]
        created = self.create(connector, tag)
        assert created.etag and created.modified_at and created.modified_at.tzinfo is not None
        [fetched] = connector.get(self.entity, [created.id, created.id])
        assert fetched.values[self.text_field] == created.values[self.text_field]
        assert sandbox.store.get(self.sandbox_entity, created.id) is not None

        before = created.modified_at - timedelta(seconds=1)
        new_text = f"Renamed {tag}"
        [updated] = connector.write(
            self.entity,
            [WriteOp("update", "u", {self.text_field: new_text}, id=created.id, etag=created.etag)],
        )
        assert updated.ok, updated.error
        assert updated.record is not None and updated.record.etag != created.etag
        changed, _ = read_all(connector, self.entity, ChangeQuery(since=before))
        assert new_text in [r.values[self.text_field] for r in changed if r.id == created.id]

        [deleted] = connector.write(self.entity, [WriteOp("delete", "d", id=created.id)])
        assert deleted.ok, deleted.error
        assert connector.get(self.entity, [created.id]) == []
        [again] = connector.write(self.entity, [WriteOp("delete", "d2", id=created.id)])
        assert not again.ok and again.not_found

    def test_get_many_ids_spans_chunks_and_skips_missing(self, connector: Connector) -> None:
        first_page = next(iter(connector.read_changes(self.entity, ChangeQuery())))
        known = [r.id for r in first_page.records]
        missing = [str(uuid.uuid4()) for _ in range(250)]
        found = connector.get(self.entity, [*missing, *known])
        assert sorted(r.id for r in found) == sorted(set(known))

    # -- reading ------------------------------------------------------------------------
    def test_paging_loses_and_repeats_nothing(self, connector: Connector, sandbox: Any) -> None:
        total = sandbox.store.count(self.sandbox_entity)
        assert total > 14, "the sandbox should hold enough records to page"
        records, pages = read_all(connector, self.entity, ChangeQuery(page_size=7))
        ids = [r.id for r in records]
        assert len(ids) == len(set(ids)) == total
        assert pages >= math.ceil(total / 7)
        assert connector.count(self.entity) == total

    def test_read_changes_boundary_is_strictly_after_since(
        self, connector: Connector, sandbox: Any
    ) -> None:
        moment = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
        sandbox.clock.freeze(moment)
        at_since = self.create(connector, f"at-{uuid.uuid4().hex[:6]}")
        sandbox.clock.advance(1)
        after = self.create(connector, f"after-{uuid.uuid4().hex[:6]}")
        assert at_since.modified_at == moment
        records, _ = read_all(connector, self.entity, ChangeQuery(since=moment))
        ids = {r.id for r in records}
        assert after.id in ids and at_since.id not in ids
        assert all(r.modified_at is not None and r.modified_at > moment for r in records)

    def test_find_case_insensitive_and_sensitive(self, connector: Connector) -> None:
        tag = uuid.uuid4().hex[:8]
        record = self.create(connector, tag, **{self.text_field: f"Mixed O'Case {tag}"})
        lower = {self.text_field: f"mixed o'case {tag}"}
        assert [r.id for r in connector.find(self.entity, lower, case_sensitive=False)] == [
            record.id
        ]
        assert connector.find(self.entity, lower, case_sensitive=True) == []
        exact = {self.text_field: f"Mixed O'Case {tag}"}
        assert [r.id for r in connector.find(self.entity, exact)] == [record.id]
        assert connector.find(self.entity, {self.text_field: "  "}) == []

    # -- writing ------------------------------------------------------------------------
    def test_big_batch_with_one_bad_item(self, sandbox: Any) -> None:
        connector = self.connect(sandbox, batch_size=self.small_batch)
        tag = uuid.uuid4().hex[:8]
        bad_text = f"Rejected {tag}"
        sandbox.store.reject(self.sandbox_entity, self.text_field, bad_text)
        count = self.small_batch * 2 + 3
        ops = [WriteOp("create", f"op{i}", self.new_values(f"{tag}-{i}")) for i in range(count)]
        bad_values = {**self.new_values(f"{tag}-6"), self.text_field: bad_text}
        ops[6] = WriteOp("create", "op6", bad_values)
        connector.check()  # resolve once-per-connection things before counting requests
        http = getattr(connector, "http", None)
        sent_before = http.request_count if http is not None else 0
        try:
            results = connector.write(self.entity, ops)
        finally:
            connector.close()
        assert [r.ref for r in results] == [op.ref for op in ops]
        failed = [r for r in results if not r.ok]
        assert [r.ref for r in failed] == ["op6"]
        assert failed[0].error and not failed[0].retryable and failed[0].status == 400
        assert all(r.id for r in results if r.ok)
        if http is not None:
            assert http.request_count - sent_before == math.ceil(count / self.small_batch)

    def test_stale_etag_is_a_conflict(self, connector: Connector, sandbox: Any) -> None:
        record = self.create(connector, uuid.uuid4().hex[:8])
        sandbox.store.update(self.sandbox_entity, record.id, {self.text_field: "Other user"})
        [result] = connector.write(
            self.entity,
            [WriteOp("update", "u", {self.text_field: "Mine"}, id=record.id, etag=record.etag)],
        )
        assert not result.ok and result.conflict and not result.not_found
        assert sandbox.store.get(self.sandbox_entity, record.id)[self.text_field] == "Other user"

    # -- resilience ---------------------------------------------------------------------
    def test_throttled_read_is_retried(self, connector: Connector, sandbox: Any) -> None:
        rule = sandbox.faults.add(status=429, path=self.entity, count=2, retry_after=1)
        records, _ = read_all(connector, self.entity, ChangeQuery())
        assert records and rule.hits == 2

    def test_dropped_connection_on_read_is_retried(
        self, connector: Connector, sandbox: Any
    ) -> None:
        rule = sandbox.faults.add(status=200, path=self.entity, count=1, drop=True)
        records, _ = read_all(connector, self.entity, ChangeQuery())
        assert records and rule.hits == 1

    def test_expired_token_is_renewed_transparently(
        self, connector: Connector, sandbox: Any
    ) -> None:
        connector.check()
        before = token_requests(sandbox)
        sandbox.expire_tokens()
        assert connector.count(self.entity) >= 1
        assert token_requests(sandbox) == before + 1

    def test_bad_credentials_raise_auth_error(self, sandbox: Any) -> None:
        settings = settings_from_sandbox(sandbox, name="wrong-secret", retry=FAST_RETRY)
        auth = settings.auth.model_copy(update={"client_secret": SecretStr("not-the-secret")})
        connector = build_connector(settings.model_copy(update={"auth": auth}))
        with pytest.raises(AuthError, match="wrong-secret"), closing(connector):
            connector.check()

    def test_unreachable_endpoint_raises_transient_error(self, sandbox: Any) -> None:
        settings = settings_from_sandbox(sandbox, name="nowhere", retry=FAST_RETRY)
        dead = "https://127.0.0.1:9"
        token_url = getattr(settings.auth, "token_url", "")
        auth = settings.auth.model_copy(
            update={"token_url": token_url.replace(_origin(token_url), dead)}
        )
        base_url = settings.base_url.replace(_origin(settings.base_url), dead)
        moved = settings.model_copy(update={"base_url": base_url, "auth": auth})
        connector = build_connector(moved)
        with pytest.raises(TransientError, match=r"127\.0\.0\.1:9"), closing(connector):
            connector.check()

    def test_untrusted_certificate_is_a_config_error(self, sandbox: Any) -> None:
        settings = settings_from_sandbox(sandbox, name="no-ca", retry=FAST_RETRY)
        connector = build_connector(settings.model_copy(update={"ca_cert": None}))
        with pytest.raises(ConfigError, match="TLS"), closing(connector):
            connector.check()


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
