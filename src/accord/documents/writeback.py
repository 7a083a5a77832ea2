"""Write-back after a document is created (the back-office submit date onto the Sales
order), resumable: a document that must be unlocked first (a Submitted order set Active)
has its own values of the unlocked fields recorded in its history before the unlock, and
they are written back together with the write-back's values, so a crash in between never
leaves it unlocked: the next run finds the record and finishes."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from accord.config.documents import DocumentMappingSpec, WriteBackSpec
from accord.connectors.base import WriteOp
from accord.documents.values import Problem, Scope, given
from accord.mapping.values import same
from accord.state.couplings import record_id
from accord.state.documents import add_event, last_event
from accord.state.models import Coupling
from accord.sync.context import SyncContext


def write_back(
    ctx: SyncContext,
    doc: DocumentMappingSpec,
    mapping_id: int,
    coupling: Coupling,
    scope: Scope,
    job_id: str | None,
    read: Mapping[str, Mapping[str, Any]] | None = None,
    roles: Collection[str] | None = None,
) -> list[Problem]:
    """Run the write-backs due after creation (``roles``: only those onto these roles); the
    problems that stopped one. ``read``: per role, the document's values as this run read
    them (no need to read it again)."""
    problems: list[Problem] = []
    for back in doc.write_back:
        if back.after != "create":
            continue  # 'pass' write-backs belong to the status flows (not order intake)
        for role, values in back.per_role.items():
            if roles is not None and role not in roles:
                continue
            known = (read or {}).get(role)
            found = write_one(
                ctx, doc, mapping_id, coupling, back, role, scope.render(values), job_id, known
            )
            if found is not None:
                problems.append(found)
    return problems


def write_one(
    ctx: SyncContext,
    doc: DocumentMappingSpec,
    mapping_id: int,
    coupling: Coupling,
    back: WriteBackSpec,
    role: str,
    values: Mapping[str, Any],
    job_id: str | None,
    known: Mapping[str, Any] | None,
) -> Problem | None:
    """Write ``values`` onto ``role``'s document (or the entity ``back`` names for it),
    unlocking it first when ``back`` says (its own values of the unlocked fields recorded,
    then put back with ``values``). A blank value is not written: the target keeps its own."""
    entity = back.entity.get(role) or doc.entity(role)
    rid = record_id(coupling, role)
    assert rid is not None
    connector = ctx.connector(role)
    unlock = back.unlock.get(role, {})
    values = given(values)
    gone = Problem(None, role, f"{entity} {rid} no longer exists in {role}")
    if not values and not unlock:
        return None
    if known is None and unlock:  # its own values of the unlocked fields are kept
        current = connector.get(entity, [rid])
        if not current:
            return gone
        known = current[0].values
    known = known or {}
    now = dict(known)
    original: dict[str, Any] = {}
    if unlock:
        original = _pending_original(ctx, coupling.id, role)
        if not original:
            original = {name: now.get(name) for name in unlock}
            with ctx.db.session() as session:
                add_event(
                    session,
                    mapping_id,
                    coupling.id,
                    f"unlocked:{role}",
                    role=role,
                    reason="made editable for the write-back",
                    detail={"original": original, "unlock": dict(unlock)},
                    job_id=job_id,
                )
        if any(not same(value, now.get(name)) for name, value in unlock.items()):
            refused = _write(connector, entity, rid, unlock)
            if refused:
                return Problem(None, role, f"{role} refused to unlock it: {refused}")
    refused = _write(connector, entity, rid, {**values, **original})
    if refused == NOT_FOUND:
        return gone
    if refused:
        if original and _write(connector, entity, rid, original) is None:
            refused += "; its own values were put back"
        return Problem(None, role, f"{role} refused the write-back: {refused}")
    with ctx.db.session() as session:
        add_event(
            session,
            mapping_id,
            coupling.id,
            f"written_back:{role}",
            role=role,
            detail={"values": dict(values)},
            job_id=job_id,
        )
    return None


def _pending_original(ctx: SyncContext, coupling_id: int, role: str) -> dict[str, Any]:
    """The values recorded by an unlock that no write-back has finished since (a crash)."""
    with ctx.db.session() as session:
        unlocked = last_event(session, coupling_id, f"unlocked:{role}")
        done = last_event(session, coupling_id, f"written_back:{role}")
        if unlocked is None or (done is not None and done.id > unlocked.id):
            return {}
        return dict(unlocked.detail.get("original") or {})


NOT_FOUND = "not found"


def _write(connector: Any, entity: str, rid: str, values: Mapping[str, Any]) -> str | None:
    [result] = connector.write(entity, [WriteOp("update", "w", dict(values), id=rid)])
    if result.ok:
        return None
    return NOT_FOUND if result.not_found else str(result.error)
