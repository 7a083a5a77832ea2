"""Workloads: small serializable units of work, each with an idempotency key.

A workload says *what* to do (sync a pass, sync these records, couple, run a
reconciliation); an executor decides *where* it runs (in this process, or on a Celery
worker). Every kind is a pydantic model registered under its ``kind``; a later kind (export a
document) registers itself with :func:`register` and brings a handler, nothing else changes.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from accord.errors import ConfigError
from accord.mapping.fields import PassDirection


def new_key() -> str:
    """A random idempotency key, for work nobody will submit twice on purpose."""
    return uuid.uuid4().hex


class Workload(BaseModel):
    """Base of every workload: ``kind`` names it, ``key`` makes submitting it idempotent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    key: str = Field(default_factory=new_key, min_length=1, max_length=200)
    """Submitting the same key again returns the first submission; the work runs once."""
    integration: str | None = None
    """The integration (the only one when None)."""

    def describe(self) -> str:
        """One line for logs and listings."""
        return self.kind


class SyncPass(Workload):
    """One incremental pass of a mapping (every direction it runs, or one)."""

    kind: Literal["sync_pass"] = "sync_pass"
    mapping: str = Field(min_length=1)
    direction: PassDirection | None = None

    def describe(self) -> str:
        return f"sync pass {self.mapping}" + (f" {self.direction}" if self.direction else "")


class SyncRecords(Workload):
    """Synchronize chosen source records now, in a chosen direction (source wins)."""

    kind: Literal["sync_records"] = "sync_records"
    mapping: str = Field(min_length=1)
    direction: PassDirection
    record_ids: list[str] = Field(min_length=1, max_length=10_000)

    def describe(self) -> str:
        return f"sync {len(self.record_ids)} record(s) of {self.mapping} {self.direction}"


class SyncPart(Workload):
    """One part of a full pass split among workers: these source records, as a full pass
    would sync them (``create_new``: create what no coupling or match covers)."""

    kind: Literal["sync_part"] = "sync_part"
    mapping: str = Field(min_length=1)
    direction: PassDirection
    record_ids: list[str] = Field(min_length=1, max_length=10_000)
    part: str = Field(min_length=1, max_length=100)
    """Names the part (its own pass lease): ``<run>.<n>``."""
    create_new: bool = True

    def describe(self) -> str:
        return f"full sync part {self.part} of {self.mapping} {self.direction}"


class Couple(Workload):
    """Couple records: by hand (one id per role in ``records``) or all uncoupled by match."""

    kind: Literal["couple"] = "couple"
    mapping: str = Field(min_length=1)
    records: dict[str, str] = Field(default_factory=dict)
    """Role -> record id; empty: match-based coupling of every uncoupled record."""
    create_new: bool | None = None
    sync_after: bool | None = None

    def describe(self) -> str:
        return f"couple {self.mapping}" + (" by hand" if self.records else " by match")


class Reconcile(Workload):
    """A full synchronization (reconciliation) of some mappings, all by default."""

    kind: Literal["reconcile"] = "reconcile"
    mappings: list[str] = Field(default_factory=list)

    def describe(self) -> str:
        return "reconcile " + (", ".join(self.mappings) or "every mapping")


class DrainInbox(Workload):
    """Synchronize the records that verified change notifications named (the webhook inbox)."""

    kind: Literal["drain_inbox"] = "drain_inbox"

    def describe(self) -> str:
        return "drain the webhook inbox"


class RenewSubscriptions(Workload):
    """Renew the webhook subscriptions that lapse within ``within_seconds`` (BC's last 3 days)."""

    kind: Literal["renew_subscriptions"] = "renew_subscriptions"
    within_seconds: float = Field(default=86_400.0, gt=0)

    def describe(self) -> str:
        return "renew webhook subscriptions"


class RunDocuments(Workload):
    """One run of a document mapping: resume stopped transfers, take triggered documents
    when its trigger is automatic (ADR 0021)."""

    kind: Literal["run_documents"] = "run_documents"
    mapping: str = Field(min_length=1)

    def describe(self) -> str:
        return f"run document mapping {self.mapping}"


KINDS: dict[str, type[Workload]] = {}
"""Every registered workload kind; :func:`register` adds one."""

W = TypeVar("W", bound=Workload)


def register(cls: type[W]) -> type[W]:
    """Register a workload class under its ``kind`` default (usable as a decorator)."""
    kind = cls.model_fields["kind"].default
    if not isinstance(kind, str) or not kind:
        raise TypeError(f"{cls.__name__} needs a literal 'kind' with a default")
    KINDS[kind] = cls
    return cls


for _cls in (
    SyncPass,
    SyncRecords,
    SyncPart,
    Couple,
    Reconcile,
    DrainInbox,
    RenewSubscriptions,
    RunDocuments,
):
    register(_cls)


def parse_workload(data: dict[str, Any], where: str = "workload") -> Workload:
    """A workload from its JSON form; an unknown kind or a bad field is named."""
    kind = data.get("kind")
    if kind not in KINDS:
        raise ConfigError(
            f"unknown workload kind {kind!r}; valid: {', '.join(sorted(KINDS))}", location=where
        )
    try:
        return KINDS[kind].model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or kind}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid {kind} workload: {problems}", location=where) from None
