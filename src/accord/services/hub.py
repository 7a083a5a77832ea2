"""The hub: settings, state database and secrets, and the connectors of an integration."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from sqlalchemy import Text, cast, literal, select, union_all
from sqlalchemy import text as text_clause

from accord.config.settings import Settings
from accord.connectors.base import Connector
from accord.connectors.registry import ConnectionSettings, build_connector
from accord.mapping.fields import Role
from accord.services.connections import load_connection, seal_plain_options
from accord.state.db import Database
from accord.state.location import check_state, key_box
from accord.state.models import Connection, Integration, TableMapping
from accord.state.store import load_integration
from accord.sync.context import Progress, SyncContext


class _Kept(threading.local):
    """Sync contexts one thread keeps open: integration -> (state digest, context, closer)."""

    def __init__(self) -> None:
        self.contexts: dict[str | None, tuple[str, SyncContext, ExitStack]] = {}


class Hub:
    """Opens Accord's state once and hands out sync contexts."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        database_url: str | None = None,
        create: bool = True,
    ):
        """``create=False`` refuses a SQLite state that does not exist yet instead of making
        one; the key beside the state is read (or made) only when a secret is first used."""
        self.settings = settings or Settings()
        url = database_url or self.settings.resolved_database_url()
        check_state(url, self.settings.home, create=create)
        self.db = Database(url)
        self.box = key_box(url, self.settings.home, self.settings.secret_key)
        with self.db.session() as session:  # an older state's webhook secrets, sealed now
            seal_plain_options(session, self.box)
        self._kept = _Kept()

    def connection(self, name: str) -> ConnectionSettings:
        """A saved connection; rate limits use the hub's shared storage unless it sets one
        (``ACCORD_RATE_LIMIT_STORAGE=redis://…`` makes workers share each endpoint's limit);
        token caches live in ``<home>/tokens/<name>``."""
        with self.db.session() as session:
            found = load_connection(session, self.box, name)
        update: dict[str, object] = {"cache_dir": self.settings.home / "tokens" / name}
        if "rate_limit_storage" not in found.options:
            storage = self.settings.rate_limit_storage
            update["options"] = {**found.options, "rate_limit_storage": storage}
        return found.model_copy(update=update)

    @contextmanager
    def context(
        self, integration: str | None = None, progress: Progress | None = None
    ) -> Iterator[SyncContext]:
        """A sync context with a connector open per role; they are closed afterwards."""
        with self.db.session() as session:
            config = load_integration(session, integration)
        connectors: dict[Role, Connector] = {}
        try:
            for role, name in config.connections.items():
                connectors[role] = build_connector(self.connection(name))
            yield SyncContext(self.db, config, connectors, progress=progress)
        finally:
            for connector in connectors.values():
                connector.close()

    @contextmanager
    def kept_context(self, integration: str | None = None) -> Iterator[SyncContext]:
        """A sync context this thread keeps open between calls, for a worker running one
        workload after another: its connectors keep their tokens, HTTP connections and
        compiled mappings. It is opened anew when the integration, its mappings or a
        connection changed in the state, and after a call that failed."""
        kept = self._kept.contexts
        stamp = self._stamp()
        entry = kept.get(integration)
        if entry is None or entry[0] != stamp:
            if entry is not None:
                entry[2].close()
            stack = ExitStack()
            entry = (stamp, stack.enter_context(self.context(integration)), stack)
            kept[integration] = entry
        try:
            yield entry[1]
        except BaseException:
            kept.pop(integration, None)
            entry[2].close()
            raise

    def _stamp(self) -> str:
        """A digest of what a sync context is built from (a few small rows, one query)."""
        text = Text()
        rows = union_all(
            select(
                literal("i"), Integration.id, Integration.name, cast(Integration.spec, text)
            ).add_columns(cast(Integration.connections, text)),
            select(literal("m"), TableMapping.id, TableMapping.name, literal("")).add_columns(
                cast(TableMapping.integration_id, text)
            ),
            select(
                literal("c"), Connection.id, Connection.name, cast(Connection.settings, text)
            ).add_columns(literal("")),
        ).order_by(text_clause("1, 2"))
        digest = hashlib.sha256()
        with self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for row in conn.execute(rows):
                digest.update(repr(tuple(row)).encode())
        return digest.hexdigest()

    def close(self) -> None:
        kept = self._kept.contexts
        for _, _, stack in kept.values():
            stack.close()
        kept.clear()
        self.db.dispose()
