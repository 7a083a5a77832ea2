"""What changed in a sandbox store since a row version: the source of the sandboxes' change
notifications (Business Central webhooks, Dataverse webhook steps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from accord.sandboxes.common.store import COMPANY, VERSION, Store


@dataclass(frozen=True)
class StoreChange:
    """One changed or deleted row."""

    key: str
    kind: str
    """created | updated | deleted"""
    at: Any
    """The row's modified-on (the deletion time for deletes)."""


@dataclass
class ChangeWatcher:
    """Follows one entity set (in one company, where it is company-scoped)."""

    store: Store
    entity: str
    company: str | None = None
    seen: int = 0
    known: set[str] = field(default_factory=set)

    @classmethod
    def start(cls, store: Store, entity: str, company: str | None = None) -> ChangeWatcher:
        """Watch from now: rows that exist now are 'known' (their changes are updates)."""
        watcher = cls(store, entity, company, store.version)
        spec = store.specs[entity]
        table = store.table(entity)
        rows = store.rows(watcher._scoped(sa.select(table.c[spec.key])))
        watcher.known = {str(r[spec.key]) for r in rows}
        return watcher

    def pending(self) -> bool:
        """Whether anything changed since the last :meth:`take` (cheap: one count)."""
        upto = self.store.version
        if upto <= self.seen:
            return False
        table = self.store.table(self.entity)
        changed = self.store.scalar(
            self._scoped(sa.select(sa.func.count()).where(table.c[VERSION] > self.seen))
        )
        gone = self.store.deleted_since(self.entity, self.seen, upto, 1, self.company)
        if not changed and not gone:
            self.seen = upto
        return bool(changed or gone)

    def peek(self, limit: int) -> tuple[int, list[StoreChange]]:
        """Up to ``limit + 1`` changes since the last take, and the version they reach."""
        upto = self.store.version
        spec = self.store.specs[self.entity]
        table = self.store.table(self.entity)
        modified = spec.modified or "lastModifiedDateTime"
        rows = self.store.rows(
            self._scoped(
                sa.select(table.c[spec.key], table.c[modified])
                .where(table.c[VERSION] > self.seen, table.c[VERSION] <= upto)
                .limit(limit + 1)
            )
        )
        gone = self.store.deleted_since(self.entity, self.seen, upto, limit + 1, self.company)
        changes = [
            StoreChange(
                str(r[spec.key]),
                "updated" if str(r[spec.key]) in self.known else "created",
                r[modified],
            )
            for r in rows
        ]
        changes += [StoreChange(str(r["key"]), "deleted", r["at"]) for r in gone]
        return upto, changes

    def take(self, upto: int, changes: list[StoreChange]) -> None:
        """The changes were delivered: move past them."""
        for change in changes:
            if change.kind == "deleted":
                self.known.discard(change.key)
            else:
                self.known.add(change.key)
        self.seen = upto

    def _scoped(self, stmt: Any) -> Any:
        if self.company is None or not self.store.specs[self.entity].scoped:
            return stmt
        return stmt.where(self.store.table(self.entity).c[COMPANY] == self.company)
