"""The ``/api/v1`` routes: thin calls into ``services/``; work that takes long is enqueued."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response, status

from accord.api.deps import ExecutorDep, HubDep, require_token
from accord.api.errors import ERRORS
from accord.api.schemas import (
    ConflictOut,
    ConnectionOut,
    CoupleRequest,
    CouplingOut,
    ErrorRowOut,
    IntegrationOut,
    JobOut,
    ReconcileRequest,
    ResolveOut,
    ResolveRequest,
    RetryOut,
    RetryRequest,
    SyncRequest,
    UncoupleOut,
    WorkloadOut,
)
from accord.errors import ConfigError
from accord.mapping.fields import target_of
from accord.runtime.executor import Executor
from accord.runtime.workloads import Couple, Reconcile, SyncPass, SyncRecords, Workload, new_key
from accord.services import catalog, documents, operations
from accord.services import status as status_service

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_token)], responses=ERRORS)

IntegrationQ = Annotated[
    str | None, Query(description="Integration name (needed only when there are several).")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=150,
        description="Submitting the same key again returns the first submission; "
        "the work runs once.",
    ),
]


def _submit(
    executor: Executor, response: Response, workload: Workload, key: str | None
) -> WorkloadOut:
    workload = workload.model_copy(update={"key": f"api:{key}" if key else new_key()})
    submitted = executor.submit(workload)
    response.status_code = status.HTTP_202_ACCEPTED if submitted.created else status.HTTP_200_OK
    response.headers["Location"] = f"/api/v1/workloads/{workload.key}"
    return WorkloadOut.submitted(submitted)


@router.get("/connections", response_model=list[ConnectionOut], tags=["setup"])
def list_connections(hub: HubDep) -> list[dict[str, Any]]:
    return catalog.connections(hub)


@router.get("/connections/{name}", tags=["setup"])
def get_connection(hub: HubDep, name: str) -> dict[str, Any]:
    """A connection's settings, secrets masked."""
    return catalog.connection(hub, name)


@router.get("/integrations", response_model=list[IntegrationOut], tags=["setup"])
def list_integrations(hub: HubDep) -> list[dict[str, Any]]:
    return catalog.integrations(hub)


@router.get("/mappings", tags=["setup"])
def list_mappings(hub: HubDep, integration: IntegrationQ = None) -> list[dict[str, Any]]:
    return [catalog.mapping(hub, n, integration) for n in catalog.mapping_names(hub, integration)]


@router.get("/mappings/{mapping}", tags=["setup"])
def get_mapping(hub: HubDep, mapping: str, integration: IntegrationQ = None) -> dict[str, Any]:
    return catalog.mapping(hub, mapping, integration)


@router.get("/mappings/{mapping}/couplings", response_model=list[CouplingOut], tags=["couplings"])
def list_couplings(
    hub: HubDep,
    mapping: str,
    integration: IntegrationQ = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    return catalog.couplings(hub, mapping, integration, limit=limit, offset=offset)


@router.get(
    "/mappings/{mapping}/couplings/{record_id}", response_model=CouplingOut, tags=["couplings"]
)
def get_coupling(
    hub: HubDep, mapping: str, record_id: str, integration: IntegrationQ = None
) -> dict[str, Any]:
    """The coupling holding ``record_id`` (a record id of any role)."""
    return catalog.coupling_of(hub, mapping, record_id, integration)


@router.post(
    "/mappings/{mapping}/couplings",
    response_model=WorkloadOut,
    status_code=202,
    tags=["couplings"],
)
def couple(
    hub: HubDep,
    executor: ExecutorDep,
    response: Response,
    mapping: str,
    body: CoupleRequest,
    integration: IntegrationQ = None,
    idempotency_key: IdempotencyKey = None,
) -> WorkloadOut:
    """Enqueue a coupling: by hand, or every uncoupled record by match."""
    if body.records:
        wanted = {role: [rid] for role, rid in body.records.items()}
        catalog.check_records_exist(hub, mapping, wanted, integration)
    else:
        catalog.mapping(hub, mapping, integration)
    workload = Couple(
        mapping=mapping, records=body.records, create_new=body.create_new, integration=integration
    )
    return _submit(executor, response, workload, idempotency_key)


@router.delete(
    "/mappings/{mapping}/couplings/{record_id}", response_model=UncoupleOut, tags=["couplings"]
)
def uncouple(
    hub: HubDep, mapping: str, record_id: str, integration: IntegrationQ = None
) -> UncoupleOut:
    """Remove the coupling holding ``record_id`` (the records themselves stay)."""
    catalog.coupling_of(hub, mapping, record_id, integration)
    removed = operations.uncouple_records(hub, mapping, [record_id], integration=integration)
    return UncoupleOut(removed=removed)


@router.post("/mappings/{mapping}/sync", response_model=WorkloadOut, status_code=202, tags=["sync"])
def sync_now(
    hub: HubDep,
    executor: ExecutorDep,
    response: Response,
    mapping: str,
    body: SyncRequest,
    integration: IntegrationQ = None,
    idempotency_key: IdempotencyKey = None,
) -> WorkloadOut:
    """Enqueue a sync of the mapping now: an incremental pass (every direction, or the one
    given), or the chosen source records in a direction (the source wins every field)."""
    found = catalog.mapping(hub, mapping, integration)
    if body.direction is not None and body.direction not in found["directions"]:
        raise ConfigError(
            f"mapping {mapping} cannot synchronize {body.direction}; "
            f"valid directions: {', '.join(found['directions'])}",
            location="direction",
        )
    workload: Workload
    if body.record_ids:
        assert body.direction is not None
        source = next(r for r in found["entities"] if r != target_of(body.direction))
        catalog.check_records_exist(hub, mapping, {source: body.record_ids}, integration)
        workload = SyncRecords(
            mapping=mapping,
            direction=body.direction,
            record_ids=body.record_ids,
            integration=integration,
        )
    else:
        workload = SyncPass(mapping=mapping, direction=body.direction, integration=integration)
    return _submit(executor, response, workload, idempotency_key)


@router.post("/reconcile", response_model=WorkloadOut, status_code=202, tags=["sync"])
def reconcile(
    hub: HubDep,
    executor: ExecutorDep,
    response: Response,
    body: ReconcileRequest,
    integration: IntegrationQ = None,
    idempotency_key: IdempotencyKey = None,
) -> WorkloadOut:
    """Enqueue a full synchronization (reconciliation) of some mappings, all by default."""
    for name in body.mappings:
        catalog.mapping(hub, name, integration)
    workload = Reconcile(mappings=body.mappings, integration=integration)
    return _submit(executor, response, workload, idempotency_key)


@router.get("/workloads", response_model=list[WorkloadOut], tags=["jobs"])
def list_workloads(
    hub: HubDep,
    status_: Annotated[str | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[WorkloadOut]:
    return [WorkloadOut.of(r) for r in catalog.workload_rows(hub, status=status_, limit=limit)]


@router.get("/workloads/{key}", response_model=WorkloadOut, tags=["jobs"])
def get_workload(hub: HubDep, key: str) -> WorkloadOut:
    return WorkloadOut.of(catalog.workload_row(hub, key))


@router.get("/jobs", response_model=list[JobOut], tags=["jobs"])
def list_jobs(
    hub: HubDep,
    integration: IntegrationQ = None,
    mapping: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[dict[str, Any]]:
    return [asdict(j) for j in catalog.jobs(hub, integration, mapping, limit)]


@router.get("/jobs/{job_id}", response_model=JobOut, tags=["jobs"])
def get_job(hub: HubDep, job_id: str) -> dict[str, Any]:
    return asdict(catalog.job(hub, job_id))


@router.get("/documents/events", response_model=list[documents.BusinessEvent], tags=["documents"])
def list_business_events(
    hub: HubDep,
    integration: IntegrationQ = None,
    mapping: str | None = None,
    after: Annotated[int, Query(ge=0, description="Only events after this id.")] = 0,
    name: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[dict[str, Any]]:
    """Business events raised by documents (``order.shipped``), oldest first; pass the last
    id seen as ``after`` to read on."""
    found = documents.business_events(
        hub, mapping, after=after, name=name, limit=limit, integration=integration
    )
    return [asdict(e) for e in found]


@router.get("/errors", response_model=list[ErrorRowOut], tags=["errors"])
def list_errors(
    hub: HubDep,
    integration: IntegrationQ = None,
    mapping: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[dict[str, Any]]:
    if mapping:
        catalog.mapping(hub, mapping, integration)
    return [asdict(e) for e in status_service.recent_errors(hub, integration, mapping, limit)]


@router.post("/retry", response_model=RetryOut, tags=["errors"])
def retry(hub: HubDep, body: RetryRequest, integration: IntegrationQ = None) -> RetryOut:
    """Make skipped records eligible again; the next pass retries them first."""
    if body.mapping:
        catalog.mapping(hub, body.mapping, integration)
    count = operations.retry(hub, body.mapping, body.record_ids, integration=integration)
    return RetryOut(retried=count)


@router.get("/conflicts", response_model=list[ConflictOut], tags=["conflicts"])
def list_conflicts(hub: HubDep, integration: IntegrationQ = None) -> list[dict[str, Any]]:
    return [asdict(c) for c in operations.conflicts(hub, integration)]


@router.post("/conflicts/{conflict_id}/resolve", response_model=ResolveOut, tags=["conflicts"])
def resolve(
    hub: HubDep, conflict_id: int, body: ResolveRequest, integration: IntegrationQ = None
) -> ResolveOut:
    """Resolve a held conflict: one role wins every field, or a role per field."""
    catalog.open_conflict(hub, conflict_id)
    choice: str | dict[str, str] = body.take if body.take is not None else dict(body.fields)
    chosen = operations.resolve(hub, conflict_id, choice, integration=integration)
    return ResolveOut(conflict=conflict_id, chosen=dict(chosen))
