"""What a status pass does to the outside, once each whatever the retries: timeline posts
(intent, post or find it again, record) and business events (``raise``), recorded in the
document's history, where listeners read them (``accord documents events``, the API).

A business event is a ``document_events`` row named ``event:<name>`` (``event:order.shipped``)
whose detail carries the event's name, the mapping, the document's identity and the fields
the template copies; its ``once_key`` makes it happen once per document (or per related
record). It is recorded in the same transaction as the effect it belongs to (the post's
record, the action's), so a crash never leaves one without the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from accord.config.documents import DocumentMappingSpec, RelatedSpec, TimelineSpec
from accord.connectors.base import Record, Reference, WriteOp
from accord.documents.outcomes import MappingWork, plain
from accord.documents.values import Scope, roles
from accord.errors import AccordError, ConfigError
from accord.state import documents as state
from accord.state.couplings import record_id
from accord.state.models import Coupling

RelatedKey = tuple[str, str, tuple[tuple[str, str], ...], str]
EVENT_PREFIX = "event:"
"""History rows of business events are named ``event:<name>``."""


def related_key(role: str, related: RelatedSpec) -> RelatedKey:
    return role, related.entity, tuple(sorted(related.link.items())), repr(related.when)


def pass_direction(doc: DocumentMappingSpec) -> str:
    """The direction a status pass writes in, for its job: ``to_<role>`` of the one role it
    writes to (fields flowing back, pass write-backs, posts), ``both`` for two; a pass that
    only records and raises is labelled towards the source, whose documents it follows."""
    source, _ = roles(doc)
    written: set[str] = set()
    if any((f.direction or doc.direction) == f"to_{source}" for f in doc.header):
        written.add(source)
    for back in doc.write_back:
        if back.after == "pass":
            written |= set(back.per_role) | set(back.unlock)
    for event in doc.events.timeline:
        written |= set(event.per_role)
    if len(written) > 1:
        return "both"
    return f"to_{next(iter(written), source)}"


@dataclass
class Followed:
    """One followed document as a status pass sees it."""

    coupling: Coupling
    headers: dict[str, Mapping[str, Any] | None] = field(default_factory=dict)
    """Role -> its header as read now (None: gone)."""
    known: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    """Role -> its header, or its last recorded values when gone."""
    related: dict[RelatedKey, list[Record]] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)

    @property
    def identity(self) -> str:
        return next((link.natural_key or "" for link in self.coupling.links.values()), "")


def raise_event(
    session: Session,
    doc: DocumentMappingSpec,
    mapping_id: int,
    coupling: Coupling,
    name: str,
    once_key: str,
    values: Mapping[str, Any],
    *,
    role: str | None = None,
    job_id: str | None = None,
) -> bool:
    """Record business event ``name`` of the coupling's document once per ``once_key``, in
    ``session`` (the caller's transaction); True when it was recorded now."""
    identity = next((link.natural_key or "" for link in coupling.links.values()), "")
    return state.add_event(
        session,
        mapping_id,
        coupling.id,
        EVENT_PREFIX + name,
        role=role,
        source=role or "accord",
        detail={
            "event": name,
            "mapping": doc.name,
            "identity": identity,
            "records": {r: record_id(coupling, r) for r in sorted(coupling.links)},
            "values": {k: plain(v) for k, v in values.items()},
        },
        once_key=f"{once_key}:raise",
        job_id=job_id,
    )


def copied(names: Sequence[str], *sources: Mapping[str, Any]) -> dict[str, Any]:
    """The fields ``names`` an event carries: each from the first of ``sources`` having it."""
    return {n: next((s[n] for s in sources if n in s), None) for n in names}


class Effects(MappingWork):
    """Posts and business events of a status pass, each once."""

    def scope(self, d: Followed, related: Mapping[str, Any]) -> Scope:
        return Scope(
            self.settings,
            source=d.known.get(self.source, {}),
            target=d.known.get(self.target, {}),
            related=related,
        )

    def fire(self, d: Followed, event: TimelineSpec, related: Mapping[str, Any], key: str) -> None:
        """Post ``event`` once (intent, post or find it again, record) and raise its
        business event with the record."""
        cid = d.coupling.id
        done_key = f"{cid}:{event.name}:{key}"
        with self.ctx.db.session() as session:
            if state.once_done(session, self.mapping_id, done_key):
                return
        scope = self.scope(d, related)
        posted: dict[str, str | None] = {}
        for role, text in event.per_role.items():
            rid = record_id(d.coupling, role)
            on = event.regarding.get(role)
            if on is not None:  # on the record the header names (its account)
                rid = str(d.known.get(role, {}).get(on.field) or "") or None
            if rid is None:
                continue
            body = str(scope.render(text))
            again = not self.once(
                d, f"intent:{done_key}:{role}", f"posting:{event.name}", role=role, text=body
            )
            posted[role] = self.post(role, rid, body, again, on.entity if on else None)
        with self.ctx.db.session() as session:
            state.add_event(
                session,
                self.mapping_id,
                cid,
                f"posted:{event.name}" if posted else f"fired:{event.name}",
                detail={"related": key, "posts": posted},
                once_key=done_key,
                job_id=self.job_id,
            )
            if event.raise_ is not None:
                headers = [d.known.get(r, {}) for r in (*event.when, self.target, self.source)]
                raise_event(
                    session,
                    self.doc,
                    self.mapping_id,
                    d.coupling,
                    event.raise_,
                    done_key,
                    copied(event.copy_, related, *headers),
                    role=next(iter(event.each or event.when), None),
                    job_id=self.job_id,
                )
        what = "posted" if posted else f"raised {event.raise_}"
        d.done.append(f"{event.name}: {what}" + (f" ({key})" if key != "document" else ""))

    def post(
        self, role: str, rid: str, text: str, again: bool, entity: str | None = None
    ) -> str | None:
        """Post ``text`` on ``rid``'s timeline (a record of ``entity`` when not the
        document); when ``again`` (an intent without its record: a crash), the post written
        then is found by its record and text instead."""
        spec = self.doc.events.post.get(role)
        if spec is None:
            raise ConfigError(
                f"{self.doc.name}: events.post names no post entity for {role} "
                "({entity, regarding, text})"
            )
        connector = self.ctx.connector(role)
        if again:
            found = connector.find(spec.entity, {spec.regarding: rid, spec.text: text}, limit=1)
            if found:
                return found[0].id
        regarding = rid if entity is None else Reference(entity, rid)
        values = {**spec.values, spec.regarding: regarding, spec.text: text}
        [result] = connector.write(spec.entity, [WriteOp("create", "post", values)])
        if not result.ok:
            raise AccordError(f"{role} refused the post {text!r}: {result.error}")
        return result.id

    def once(self, d: Followed, key: str, name: str, **detail: Any) -> bool:
        role, source = detail.pop("role", None), detail.pop("source", "accord")
        with self.ctx.db.session() as session:
            return state.add_event(
                session,
                self.mapping_id,
                d.coupling.id,
                name,
                role=role,
                source=source,
                detail=detail,
                once_key=key,
                job_id=self.job_id,
            )
