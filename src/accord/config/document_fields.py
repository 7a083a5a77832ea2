"""Check a document mapping against the connectors' entity descriptors: every entity and field
it names exists on that role's system, and its conditions fit the fields' types.

Roles without descriptors (a system described elsewhere) and nested source paths
(``purchaser.properties.dynamics_id``) are left to the connector at run time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from accord.config.documents import DocumentFieldSpec, DocumentMappingSpec, RelatedSpec
from accord.config.filters import Filter, check_filter
from accord.connectors.base import EntityInfo
from accord.errors import ConfigError

Descriptors = Mapping[str, Mapping[str, EntityInfo]]
"""Role -> entity name -> its description."""


class _Fields:
    def __init__(self, doc: DocumentMappingSpec, entities: Descriptors) -> None:
        self.doc, self.entities = doc, entities
        self.where = f"mappings[{doc.name}]"

    def entity(self, role: str, name: str, place: str) -> EntityInfo | None:
        known = self.entities.get(role)
        if known is None:
            return None
        info = known.get(name)
        if info is None:
            raise ConfigError(
                f"{name!r} is not an entity of role {role}; valid entities: "
                + ", ".join(sorted(known)),
                location=f"{self.where}{place}",
            )
        return info

    def fields(self, info: EntityInfo | None, names: Iterable[str], place: str) -> None:
        if info is None:
            return
        for name in names:
            if "." not in name and name not in info.fields:
                raise ConfigError(
                    f"{name!r} is not a field of {info.name!r}; valid fields: "
                    + ", ".join(sorted(info.fields)),
                    location=f"{self.where}{place}",
                )

    def condition(self, info: EntityInfo | None, condition: Filter | None, place: str) -> None:
        if info is not None and condition is not None:
            check_filter(condition, info, f"{self.where}{place}")

    def related(
        self, role: str, related: RelatedSpec, header: EntityInfo | None, place: str
    ) -> EntityInfo | None:
        info = self.entity(role, related.entity, place)
        self.fields(info, related.link, f"{place}.link")
        self.condition(info, related.when, f"{place}.when")
        self.fields(header, related.link.values(), f"{place}.link")
        return info


def check_document_fields(doc: DocumentMappingSpec, entities: Descriptors) -> None:
    """Raise :class:`ConfigError` at the first entity or field ``doc`` names that its role's
    system does not have."""
    c = _Fields(doc, entities)
    source = next(r for r in doc.per_role if r != doc.target)
    headers = {role: c.entity(role, doc.entity(role), "") for role in doc.per_role}
    _field_list(c, headers, doc.header, ".header")
    for role, name in doc.identity.items():
        c.fields(headers.get(role), [name], ".identity")
    if doc.trigger.when is not None:
        c.condition(headers.get(source), doc.trigger.when, ".trigger.when")
    for role, condition in doc.filters.items():
        c.condition(headers.get(role), condition, f".filters.{role}")
    if doc.revision is not None:
        for role, name in [*doc.revision.per_role.items(), *doc.revision.document.items()]:
            c.fields(headers.get(role), [str(name)], ".revision")
        for role, related in doc.revision.archives.items():
            c.related(role, related, headers.get(role), ".revision.archives")
    lines: dict[str, EntityInfo | None] = {}
    if doc.lines is not None:
        spec = doc.lines
        for role, name in spec.per_role.items():
            lines[role] = None if role in spec.embedded else c.entity(role, str(name), ".lines")
        for label, named in (
            ("key", spec.key),
            ("parent", spec.parent),
            ("order_by", spec.order_by),
            ("position", spec.position),
        ):
            for role, name in named.items():
                c.fields(lines.get(role), [name], f".lines.{label}")
        _field_list(c, lines, spec.fields, ".lines.fields")
        if spec.comment_lines is not None:
            names = [spec.comment_lines.field, *spec.comment_lines.values]
            c.fields(lines.get(doc.target), names, ".lines.comment_lines")
    for charge in doc.charges:
        place = f".charges[{charge.name}]"
        c.fields(headers.get(source), [str(v) for v in charge.per_role.values()], place)
        names = [*charge.line, charge.amount_field, charge.quantity_field or ""]
        c.fields(lines.get(doc.target), [n for n in names if n], place)
    for role, ends in doc.ended_by.items():
        for related in ends:
            c.related(role, related, headers.get(role), f".ended_by.{role}")
    _effects(c, doc, headers)


def _field_list(
    c: _Fields,
    infos: Mapping[str, EntityInfo | None],
    fields: Iterable[DocumentFieldSpec],
    place: str,
) -> None:
    for field in fields:
        for role, name in field.per_role.items():
            c.fields(infos.get(role), [str(name)], f"{place}[{field.key}]")
        if field.fallback is not None and field.fallback.when is not None:
            source = next((r for r in field.per_role if r != c.doc.target), None)
            if source is not None:
                c.condition(
                    infos.get(source), field.fallback.when, f"{place}[{field.key}].fallback"
                )


def _effects(
    c: _Fields, doc: DocumentMappingSpec, headers: Mapping[str, EntityInfo | None]
) -> None:
    for number, back in enumerate(doc.write_back):
        place = f".write_back[{number}]"
        for role, values in [*back.per_role.items(), *back.unlock.items()]:
            own = back.entity.get(role)
            info = c.entity(role, own, f"{place}.entity") if own else headers.get(role)
            c.fields(info, values, place)
        for role, condition in back.when.items():
            related = back.related.get(role)
            info = (
                c.related(role, related, headers.get(role), place) if related else headers.get(role)
            )
            c.condition(info, condition, f"{place}.when")
    for action in doc.actions:
        for role, condition in action.when.items():
            c.condition(headers.get(role), condition, f".actions[{action.name}].when")
        for role, related in action.related.items():
            c.related(role, related, headers.get(role), f".actions[{action.name}].related")
    for role, names in doc.events.record.items():
        c.fields(headers.get(role), names, ".events.record")
    for event in doc.events.timeline:
        place = f".events.timeline[{event.name}]"
        for role, condition in event.when.items():
            related = event.each.get(role)
            info = (
                c.related(role, related, headers.get(role), place) if related else headers.get(role)
            )
            c.condition(info, condition, f"{place}.when")
        for role, related in event.each.items():
            c.related(role, related, headers.get(role), f"{place}.each")
        for role, on in event.regarding.items():
            c.fields(headers.get(role), [on.field], f"{place}.regarding")
            c.entity(role, on.entity, f"{place}.regarding")
    for role, post in doc.events.post.items():
        info = c.entity(role, post.entity, f".events.post.{role}")
        c.fields(info, [post.regarding, post.text, *post.values], f".events.post.{role}")
    for number, back in enumerate(doc.write_back):
        for role, related in back.related.items():
            c.related(role, related, headers.get(role), f".write_back[{number}].related")
