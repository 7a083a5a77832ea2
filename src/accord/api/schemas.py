"""Request and answer bodies of the API (its OpenAPI document comes from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from accord.runtime.executor import Submitted
from accord.state.runtime_tables import WorkloadRow


class WorkloadOut(BaseModel):
    """A submitted workload and how far it got."""

    key: str
    kind: str
    status: str
    """queued, running, done or failed."""
    attempts: int
    worker: str | None
    enqueued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    message: str | None
    payload: dict[str, Any]
    result: dict[str, Any]
    duplicate: bool = False
    """True when this submission's idempotency key had been submitted before."""

    @classmethod
    def of(cls, row: WorkloadRow, *, duplicate: bool = False) -> WorkloadOut:
        return cls(
            key=row.key,
            kind=row.kind,
            status=row.status,
            attempts=row.attempts,
            worker=row.worker,
            enqueued_at=row.enqueued_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            message=row.message,
            payload=dict(row.payload or {}),
            result=dict(row.result or {}),
            duplicate=duplicate,
        )

    @classmethod
    def submitted(cls, submitted: Submitted) -> WorkloadOut:
        return cls.of(submitted.row, duplicate=not submitted.created)


class SyncRequest(BaseModel):
    """Synchronize now: a whole incremental pass, or chosen records (source wins)."""

    direction: str | None = Field(
        default=None, description="to_ROLE: the role written to, e.g. to_crm."
    )
    record_ids: list[str] = Field(
        default_factory=list, max_length=10_000, description="Source record ids; empty: a pass."
    )

    @model_validator(mode="after")
    def _records_need_direction(self) -> SyncRequest:
        if self.record_ids and not self.direction:
            raise ValueError("record_ids need a direction (to_ROLE)")
        return self


class CoupleRequest(BaseModel):
    """Couple by hand (one record id per role) or, with ``match``, every uncoupled record."""

    records: dict[str, str] = Field(default_factory=dict, description="Role -> record id.")
    match: bool = False
    create_new: bool | None = None

    @model_validator(mode="after")
    def _one_way(self) -> CoupleRequest:
        if bool(self.records) == self.match:
            raise ValueError("give either records (one id per role) or match: true")
        return self


class ReconcileRequest(BaseModel):
    mappings: list[str] = Field(default_factory=list, description="Empty: every mapping.")


class RetryRequest(BaseModel):
    mapping: str | None = None
    record_ids: list[str] = Field(default_factory=list)


class RetryOut(BaseModel):
    retried: int


class ResolveRequest(BaseModel):
    """The role whose values win every field, or a role per conflicting field."""

    take: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_way(self) -> ResolveRequest:
        if (self.take is None) == (not self.fields):
            raise ValueError("give either take (a role) or fields (field -> role)")
        return self


class ResolveOut(BaseModel):
    conflict: int
    chosen: dict[str, str]


class UncoupleOut(BaseModel):
    removed: int


class ConnectionOut(BaseModel):
    name: str
    system: str
    created_at: datetime


class IntegrationOut(BaseModel):
    name: str
    template: str
    connections: dict[str, str]


class LinkOut(BaseModel):
    record_id: str | None
    natural_key: str | None
    last_result: str | None
    last_error: str | None


class CouplingOut(BaseModel):
    id: int
    state: str
    skipped: bool
    links: dict[str, LinkOut]
    updated_at: datetime


class JobOut(BaseModel):
    id: str
    mapping: str | None
    direction: str
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    message: str | None
    counts: dict[str, int]


class ErrorRowOut(BaseModel):
    mapping: str
    job_id: str
    source_id: str | None
    destination_id: str | None
    message: str
    created_at: datetime


class ConflictOut(BaseModel):
    id: int
    mapping: str
    records: dict[str, str | None]
    fields: dict[str, Any]


class Health(BaseModel):
    status: str
    database: str
    queue: dict[str, int] = Field(default_factory=dict)
