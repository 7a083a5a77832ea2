"""Checks that tie document mappings to their template: roles, directions, lookups, settings.

Each error names the mapping and the place (``mappings[SALES ORDER].lines.fields[...]``).
:func:`split_kinds` lets a template list both kinds under ``mappings`` (``kind: document``
beside table mappings); the typed template keeps them apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from accord.config.documents import DocumentFieldSpec, DocumentMappingSpec, placeholders

if TYPE_CHECKING:
    from accord.config.spec import TemplateSpec

KINDS = ("table", "document")


def split_kinds(data: Any) -> Any:
    """Move ``kind: document`` entries of ``mappings`` to ``documents`` (validated here, so
    that errors name them ``mappings[NAME]``); ``kind: table`` is the default."""
    if not isinstance(data, dict) or not isinstance(data.get("mappings"), list):
        return data
    tables: list[Any] = []
    documents: list[Any] = list(data.get("documents") or [])
    problems: list[str] = []
    roles = set(data["roles"]) if isinstance(data.get("roles"), dict) else set()
    for number, entry in enumerate(data["mappings"]):
        if not isinstance(entry, dict):
            tables.append(entry)
            continue
        label = entry.get("name") if isinstance(entry.get("name"), str) else number
        kind = entry.get("kind", "table")
        if kind == "table":
            tables.append({k: v for k, v in entry.items() if k != "kind"})
        elif kind == "document":
            try:
                documents.append(DocumentMappingSpec.model_validate(entry))
            except ValidationError as exc:
                problems.extend(_describe(exc, f"mappings[{label}]", entry, roles))
        else:
            problems.append(
                f"mappings[{label}].kind: {kind!r} is not valid; valid: table, document"
            )
    if problems:
        raise ValueError("\n  ".join(problems))
    if not tables and not documents:
        raise ValueError("mappings: a template needs at least one mapping")
    return {**data, "mappings": tables, "documents": documents}


def _describe(
    exc: ValidationError, prefix: str, entry: dict[str, Any], roles: set[str]
) -> list[str]:
    from accord.config.loader import place

    def label(node: Any) -> str | None:
        """A list entry's label: its name, or a field's role-ordered names."""
        if not isinstance(node, dict):
            return None
        if isinstance(node.get("name"), str):
            return str(node["name"])
        named = {k: v for k, v in node.items() if k in roles and isinstance(v, str)}
        return ":".join(f"{r}={named[r]}" for r in sorted(named)) or None

    lines = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not str(p).startswith("function-after"))
        msg = err["msg"].removeprefix("Value error, ")
        where = place(loc, entry, labels=label) if loc else ""
        lines.append(f"{prefix}.{where}: {msg}" if where else f"{prefix}: {msg}")
    return lines


def check_documents(template: TemplateSpec) -> None:
    """Raise ValueError naming the first place in a document mapping that does not fit the
    template (its roles, its table mappings, its own settings)."""
    roles = tuple(template.roles)
    tables = {m.name for m in template.mappings}
    names = [m.name for m in template.mappings] + [d.name for d in template.documents]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"mapping names repeat: {', '.join(dupes)}")
    for doc in template.documents:
        _Checker(doc, roles, tables, {d.name for d in template.documents}).run()


class _Checker:
    def __init__(
        self,
        doc: DocumentMappingSpec,
        roles: tuple[str, ...],
        tables: set[str],
        documents: set[str],
    ):
        self.doc, self.roles, self.tables, self.documents = doc, roles, tables, documents
        self.where = f"mappings[{doc.name}]"
        self.target = doc.target
        self.source = next((r for r in roles if r != self.target), "")

    def fail(self, place: str, message: str) -> None:
        raise ValueError(f"{self.where}{place}: {message}")

    def role(self, value: str, place: str) -> None:
        if value not in self.roles:
            self.fail(place, f"{value!r} is not a role of this template ({', '.join(self.roles)})")

    def roles_of(self, keys: Iterable[str], place: str) -> None:
        for key in keys:
            self.role(key, place)

    def run(self) -> None:
        doc = self.doc
        valid = [f"to_{r}" for r in self.roles]
        if doc.direction not in valid:
            self.fail(".direction", f"{doc.direction!r} is not valid; valid: {', '.join(valid)}")
        self.entities(doc.per_role, "", "entity")
        self.roles_of(doc.filters, ".filters")
        self.roles_of(doc.identity, ".identity")
        for dep in doc.depends_on:
            if dep not in self.tables:
                self.fail(".depends_on", f"unknown mapping {dep!r}; valid: {self.valid_tables()}")
        for field in doc.header:
            self.field(field, f".header[{field.key}]")
        self.header_identity()
        if doc.lines is not None:
            self.lines()
        for charge in doc.charges:
            self.entities(charge.per_role, f".charges[{charge.name}]", "field", every=False)
            if self.source not in charge.per_role:
                self.fail(f".charges[{charge.name}]", f"name the {self.source} amount field")
        for number, back in enumerate(doc.write_back):
            self.roles_of(
                [*back.per_role, *back.when, *back.related, *back.unlock, *back.entity],
                f".write_back[{number}]",
            )
        for action in doc.actions:
            self.roles_of([action.role, *action.when, *action.related], f".actions[{action.name}]")
            if action.couples_to and action.couples_to not in self.documents:
                self.fail(
                    f".actions[{action.name}].couples_to",
                    f"unknown document mapping {action.couples_to!r}; "
                    f"valid: {', '.join(sorted(self.documents)) or '(none)'}",
                )
        if doc.revision is not None:
            self.entities(doc.revision.per_role, ".revision", "revision field", every=False)
            self.roles_of([*doc.revision.document, *doc.revision.archives], ".revision")
        self.roles_of(doc.ended_by, ".ended_by")
        self.roles_of(doc.events.record, ".events.record")
        for event in doc.events.timeline:
            place = f".events.timeline[{event.name}]"
            self.roles_of([*event.per_role, *event.when, *event.each, *event.regarding], place)
        self.settings()

    def entities(self, named: dict[str, Any], place: str, what: str, every: bool = True) -> None:
        for key, value in named.items():
            if key not in self.roles:
                self.fail(
                    place,
                    f"{key!r} is neither a setting nor a role of this template "
                    f"(roles: {', '.join(self.roles)})",
                )
            if not isinstance(value, str) or not value:
                self.fail(f"{place}.{key}", f"the {what} of role {key} must be a name (text)")
        missing = [r for r in self.roles if r not in named]
        if every and missing:
            self.fail(place, f"no {what} named for role {', '.join(missing)}")

    def field(self, field: DocumentFieldSpec, place: str) -> None:
        self.entities(field.per_role, place, "field", every=False)
        direction = field.direction or self.doc.direction
        valid = ["both", *(f"to_{r}" for r in self.roles)]
        if direction not in valid:
            self.fail(
                f"{place}.direction", f"{direction!r} is not valid; valid: {', '.join(valid)}"
            )
        if self.doc.mode == "transfer" and direction == "both":
            self.fail(
                f"{place}.direction",
                f"a transfer writes each field one way: to_{self.target} (on creation) or "
                f"to_{self.source} (flows back on each pass)",
            )
        if field.lookup and field.lookup not in self.tables | self.documents:
            self.fail(
                f"{place}.lookup", f"unknown mapping {field.lookup!r}; valid: {self.valid_tables()}"
            )
        self.roles_of(field.lookup_by, f"{place}.lookup_by")
        if field.overflow and direction != f"to_{self.target}":
            self.fail(f"{place}.overflow", f"only a field written to {self.target} overflows")
        for number, pair in enumerate(field.option_map or []):
            if sorted(pair) != sorted(field.per_role):
                self.fail(f"{place}.option_map[{number}]", "give one value per role of the field")

    def header_identity(self) -> None:
        doc = self.doc
        source_field, target_field = doc.identity.get(self.source), doc.identity.get(self.target)
        for field in doc.header:
            if field.name_for(self.target) == target_field and (
                field.name_for(self.source) not in (None, source_field)
            ):
                self.fail(
                    f".header[{field.key}]",
                    f"{self.target}.{target_field} holds the identity "
                    f"({self.source}.{source_field}); it cannot take another field",
                )

    def lines(self) -> None:
        lines = self.doc.lines
        assert lines is not None
        self.entities(lines.per_role, ".lines", "line entity")
        self.roles_of(
            [*lines.key, *lines.embedded, *lines.order_by, *lines.parent, *lines.position],
            ".lines",
        )
        needed = [self.source] + ([self.target] if self.doc.mode == "sync" else [])
        missing = [r for r in needed if r not in lines.key]
        if missing:
            self.fail(".lines.key", f"name the line key of {', '.join(missing)}")
        for field in lines.fields:
            place = f".lines.fields[{field.key}]"
            self.field(field, place)
            if field.overflow == "comment_lines" and lines.comment_lines is None:
                self.fail(
                    f"{place}.overflow",
                    "comment_lines needs lines.comment_lines (max_length, field, values)",
                )

    def settings(self) -> None:
        declared = set(self.doc.settings)
        unknown = sorted({p.removeprefix("setting.") for p in self.all_placeholders()} - declared)
        if unknown:
            self.fail(
                ".settings",
                f"${{setting.{unknown[0]}}} is used but not declared; declared: "
                + (", ".join(sorted(declared)) or "(none)"),
            )

    def all_placeholders(self) -> list[str]:
        doc = self.doc
        found = placeholders(doc.model_dump(mode="json", by_alias=True))
        return [p.strip() for p in found if p.strip().startswith("setting.")]

    def valid_tables(self) -> str:
        return ", ".join(sorted(self.tables)) or "(none)"
