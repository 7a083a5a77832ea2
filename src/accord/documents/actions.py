"""A document mapping's actions: connector operations run once per idempotency key.

Before an action runs its key is recorded as started; when it has run, its event carries the
key as ``once_key``, so a retry never runs it twice. An action that ``couples_to`` another
document mapping makes a record there (a won quote's ``makeOrder`` makes the order): it waits
until its ``related`` record exists (the Sales order made from the quote), then the made
record is found by the other mapping's identity and coupled to that related record in one
step with the action's event. After a crash between the action and that step, the made
record is looked for before the action runs again: never two orders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.config.documents import ActionSpec, DocumentMappingSpec
from accord.config.filters import matches
from accord.connectors.base import ActionRunner, Record
from accord.documents.effects import copied, raise_event
from accord.documents.outcomes import document_spec
from accord.documents.values import Problem, Scope, roles
from accord.documents.watermarks import WAITING
from accord.errors import AccordError, ConfigError
from accord.state import documents as state
from accord.state.couplings import link_of, owners, record_id
from accord.state.document_tables import DocumentEvent
from accord.state.models import Coupling

if TYPE_CHECKING:
    from accord.sync.context import SyncContext


@dataclass
class Done:
    """What the actions due on a pass did: a new status for the outcome (``converted``,
    ``waiting``), the made record's id, and messages; or problems that hold the document."""

    status: str | None = None
    target_id: str | None = None
    messages: list[str] | None = None
    problems: list[Problem] | None = None


def done(ctx: SyncContext, mapping_id: int, key: str) -> bool:
    """Whether the action run named by ``key`` has happened."""
    with ctx.db.session() as session:
        found = session.scalar(
            select(DocumentEvent.id).where(
                DocumentEvent.mapping_id == mapping_id, DocumentEvent.once_key == key
            )
        )
    return found is not None


def operation_of(doc: DocumentMappingSpec, action: ActionSpec) -> tuple[str, str]:
    """(entity set, bound action): ``makeOrder`` on the role's document, or
    ``salesQuoteOperations/archive`` on another entity set keyed by the document's id."""
    entity, _, name = action.operation.rpartition("/")
    return entity or doc.entity(action.role), name


def run_action(
    ctx: SyncContext,
    doc: DocumentMappingSpec,
    mapping_id: int,
    coupling: Coupling,
    action: ActionSpec,
    scope: Scope,
    job_id: str | None,
    made: Callable[[], int] | None = None,
) -> Problem | None:
    """Run ``action`` on the coupling's document of its role unless its key ran before; a
    refusal is a problem that holds the document (a passing error raises). ``made`` counts
    what the action makes (the document's archived versions): counted when it starts, a
    count grown since an unfinished start (a crash after the call) means it ran."""
    key = str(scope.render(action.key))
    if done(ctx, mapping_id, key):
        return None
    rid = record_id(coupling, action.role)
    assert rid is not None
    counted = made() if made is not None else None
    with ctx.db.session() as session:
        prior = state.last_event(session, coupling.id, f"started:{action.name}")
        before = prior.detail.get("before") if prior and prior.detail.get("key") == key else None
        ran = counted is not None and before is not None and counted > int(before)
        if not ran:
            state.add_event(
                session,
                mapping_id,
                coupling.id,
                f"started:{action.name}",
                role=action.role,
                detail={"key": key, "before": counted},
                job_id=job_id,
            )
    problem = None if ran else _call(ctx, doc, action, rid)
    if problem is not None:
        return problem
    with ctx.db.session() as session:
        state.add_event(
            session,
            mapping_id,
            coupling.id,
            action.name,
            role=action.role,
            reason="found done after a stop" if ran else None,
            detail={"key": key, "id": rid},
            once_key=key,
            job_id=job_id,
        )
        raised(session, doc, mapping_id, coupling, action, key, scope, job_id)
    return None


def raised(
    session: Session,
    doc: DocumentMappingSpec,
    mapping_id: int,
    coupling: Coupling,
    action: ActionSpec,
    key: str,
    scope: Scope,
    job_id: str | None,
) -> None:
    """The action's business event, once per its key, with the action's record."""
    if action.raise_ is not None:
        values = copied(action.copy_, scope.source, scope.target)
        raise_event(
            session, doc, mapping_id, coupling, action.raise_, key, values,
            role=action.role, job_id=job_id,
        )  # fmt: skip


def _call(
    ctx: SyncContext, doc: DocumentMappingSpec, action: ActionSpec, rid: str
) -> Problem | None:
    connector = ctx.connector(action.role)
    entity, name = operation_of(doc, action)
    if not isinstance(connector, ActionRunner):
        raise ConfigError(f"{action.role} cannot run actions ({doc.name}: {action.name})")
    try:
        connector.run_action(entity, rid, name)
    except AccordError as exc:
        if exc.kind == "transient":
            raise
        return Problem(None, action.name, f"{action.role} refused {name}: {exc}")
    return None


def on_pass(
    ctx: SyncContext,
    doc: DocumentMappingSpec,
    mapping_id: int,
    coupling: Coupling,
    record: Record,
    scope: Scope,
    job_id: str | None,
) -> Done:
    """Run the ``pass`` actions whose ``when`` holds on the source document (each once)."""
    source = roles(doc)[0]
    result = Done()
    for action in doc.actions:
        if action.run != "pass" or not all(
            matches(cond, record.values) for role, cond in action.when.items() if role == source
        ):
            continue
        if action.couples_to is None:
            problem = run_action(ctx, doc, mapping_id, coupling, action, scope, job_id)
            if problem is not None:
                return Done(problems=[problem])
            continue
        result = _couple(ctx, doc, mapping_id, coupling, record, action, scope, job_id)
        if result.status == "waiting":
            with ctx.db.session() as session:  # read again by id under a watermark
                state.add_event(
                    session, mapping_id, coupling.id, WAITING + action.name,
                    role=action.role, reason="; ".join(result.messages or []),
                    once_key=f"{coupling.id}:{WAITING}{action.name}", job_id=job_id,
                )  # fmt: skip
            for name in action.waiting:  # meanwhile (a won quote released)
                meanwhile = next(a for a in doc.actions if a.name == name)
                problem = run_action(ctx, doc, mapping_id, coupling, meanwhile, scope, job_id)
                if problem is not None:
                    return Done(problems=[problem])
        if result.problems or result.status == "waiting":
            return result
    return result


def _couple(
    ctx: SyncContext,
    doc: DocumentMappingSpec,
    mapping_id: int,
    coupling: Coupling,
    record: Record,
    action: ActionSpec,
    scope: Scope,
    job_id: str | None,
) -> Done:
    """The action that makes the ``couples_to`` mapping's target record, coupled to the
    related source record there."""
    key = str(scope.render(action.key))
    if done(ctx, mapping_id, key):
        return Done()
    assert action.couples_to is not None
    other = document_spec(ctx, action.couples_to)
    o_source, o_target = roles(other)
    with ctx.db.session() as session:
        other_id = state.mapping_row_id(session, ctx.config.name, other.name)
    related = _related(ctx, doc, action, record)
    if isinstance(related, Done):
        return related
    o_identity = str(related.values.get(other.identity[o_source]) or "")
    with ctx.db.session() as session:
        taken = state.documents(session, other_id, o_source, [related.id]).get(related.id)
        taken_target = record_id(taken, o_target) if taken is not None else None
        started = state.last_event(session, coupling.id, f"started:{action.name}") is not None
    if taken_target is not None:
        return _taken(ctx, doc, mapping_id, coupling, action, key, other, related, taken_target)
    made = _made(ctx, doc, other, other_id, record) if started else None
    if made is None:
        rid = record_id(coupling, action.role)
        assert rid is not None
        with ctx.db.session() as session:
            state.add_event(
                session,
                mapping_id,
                coupling.id,
                f"started:{action.name}",
                role=action.role,
                detail={"key": key},
                job_id=job_id,
            )
        problem = _call(ctx, doc, action, rid)
        if problem is not None:
            return Done(problems=[problem])
        made = _made(ctx, doc, other, other_id, record)
    if made is None:
        text = (
            f"{action.operation} ran, but no {other.entity(o_target)} with "
            f"{other.identity[o_target]} {record.values.get(doc.identity[roles(doc)[0]])!r} "
            f"was found to couple to {other.entity(o_source)} {o_identity}"
        )
        return Done(problems=[Problem(None, action.name, text)])
    with ctx.db.session() as session:
        row = state.intend(session, other_id, (o_source, o_target), related.id, o_identity)
        row.state = "coupled"
        link_of(row, o_target).record_id = made.id
        for link in row.links.values():
            link.last_result = "success"
        state.add_event(
            session,
            other_id,
            row.id,
            "created_from",
            role=o_target,
            reason=f"{doc.name} {record.values.get(doc.identity[roles(doc)[0]])}",
            detail={"mapping": doc.name, "source": record.id, "id": made.id},
            job_id=job_id,
        )
        state.add_event(
            session,
            mapping_id,
            coupling.id,
            action.name,
            role=action.role,
            detail={"key": key, "id": made.id, "related": related.id, "mapping": other.name},
            once_key=key,
            job_id=job_id,
        )
        raised(session, doc, mapping_id, coupling, action, key, scope, job_id)
    number = made.values.get("number")
    message = f"{action.operation}: {other.entity(o_target)} {number or made.id}, coupled to "
    return Done("converted", made.id, [message + f"{other.entity(o_source)} {o_identity}"])


def _taken(
    ctx: SyncContext,
    doc: DocumentMappingSpec,
    mapping_id: int,
    coupling: Coupling,
    action: ActionSpec,
    key: str,
    other: DocumentMappingSpec,
    related: Record,
    taken: str,
) -> Done:
    """The related record went its own way first (the Sales order was transferred by order
    intake): the action would make a second one. Held while this document's target exists;
    once a person removed it, the document ends with the other mapping's record."""
    o_source, o_target = roles(other)
    rid = record_id(coupling, action.role)
    what = f"{other.entity(o_source)} {related.values.get(other.identity[o_source])}"
    entity = doc.entity(action.role)
    if rid is not None and ctx.connector(action.role).get(entity, [rid]):
        text = (
            f"{what} was already transferred by {other.name} to {other.entity(o_target)} "
            f"{taken}; {action.operation} would make a second one: delete {entity} {rid} in "
            f"{action.role} (the order stands for it), then 'accord retry'"
        )
        return Done(problems=[Problem(None, action.name, text)])
    with ctx.db.session() as session:
        state.add_event(
            session,
            mapping_id,
            coupling.id,
            action.name,
            role=action.role,
            reason=f"{what} was transferred by {other.name}",
            detail={"key": key, "id": taken, "related": related.id, "mapping": other.name},
            once_key=key,
        )
    return Done("converted", taken, [f"{what} was transferred by {other.name} to {taken}"])


def _related(
    ctx: SyncContext, doc: DocumentMappingSpec, action: ActionSpec, record: Record
) -> Record | Done:
    """The one related record the made record is coupled to, or why not yet."""
    [(role, spec)] = action.related.items()
    equals: dict[str, Any] = {
        field: record.values.get(mine) if mine != "id" else record.id
        for field, mine in spec.link.items()
    }
    found = ctx.connector(role).find(spec.entity, equals, limit=2)
    if not found:
        return Done(
            "waiting",
            messages=[f"{action.name} waits for its {spec.entity} (none has {equals} yet)"],
        )
    if spec.when is not None and len(found) == 1 and not matches(spec.when, found[0].values):
        text = f"{action.name} waits until its {spec.entity} {found[0].id} meets {spec.when}"
        return Done("waiting", messages=[text])
    if len(found) > 1:
        text = f"{len(found)} {spec.entity} have {equals}; {action.name} needs one"
        return Done(problems=[Problem(None, action.name, text)])
    return found[0]


def _made(
    ctx: SyncContext,
    doc: DocumentMappingSpec,
    other: DocumentMappingSpec,
    other_id: int,
    record: Record,
) -> Record | None:
    """The record the action made: the other mapping's target document that carries this
    document's identity (copied by the action) and that no coupling owns yet."""
    o_target = other.target
    identity = record.values.get(doc.identity[roles(doc)[0]])
    found = ctx.connector(o_target).find(
        other.entity(o_target), {other.identity[o_target]: identity}, limit=5
    )
    if not found:
        return None
    with ctx.db.session() as session:
        owned = owners(session, other_id, o_target, [r.id for r in found])
    free = [r for r in found if r.id not in owned]
    return free[0] if len(free) == 1 else None
