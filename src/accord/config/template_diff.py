"""What changes when an integration moves from its stored template to a newer one (pure).

Mappings pair by name, else (a rename) by the same entity per role when that is unambiguous.
Field mappings pair by id, else by the same field per role; a field paired by its fields
keeps its stored id (its baselines) unless the new template writes an id of its own, in
which case the baselines are re-keyed. The result says, per mapping and field, what changes
and what that means for the state; :mod:`accord.services.templates` applies it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from accord.config.spec import FieldMappingSpec, TableMappingSpec, TemplateSpec
from accord.errors import ConfigError

Baselines = Literal["kept", "rekeyed", "dropped", "none"]

_FIELD_NOTES = {
    "direction": "flows in the new direction from the next pass; baselines are kept, so only "
    "later changes are carried",
    "constant": "the new constant is written to coupled records on their next pass",
    "match": "affects matching only",
    "match_priority": "affects matching only",
    "case_sensitive": "affects matching only",
}
_VALUE_NOTE = (
    "values map the new way from the next write of this field; values already synced are not "
    "rewritten until their source changes"
)
_MAPPING_NOTES = {
    "filters": "records outside the new filter stay coupled and are no longer synced; records "
    "newly inside it are read when they change, or all at once by a full sync",
    "direction": "passes run in the new direction(s) from the next sync; baselines are kept, "
    "so only changes made after the last sync are carried",
    "depends_on": "changes the order of passes only",
    "conflict": "decides conflicts from the next pass; conflicts already held stay held",
    "initial_master": "decides first-sight differences from the next pass",
    "deletion": "applies to deletions detected from the next pass",
    "entities": "the same records under the same ids (same_records_as): couplings and "
    "baselines are kept; the next pass reads the new entity from the start",
    "same_records_as": "says which entity's records this one's are",
    "couple_through": "affects how records without a coupling find their counterpart only",
}


@dataclass(frozen=True)
class Change:
    """One attribute that differs: its value in the stored and in the new template."""

    attribute: str
    old: Any
    new: Any


@dataclass
class FieldDiff:
    """A field mapping added, removed or changed."""

    status: Literal["added", "removed", "changed"]
    id: str
    """The id its baselines have after the upgrade (the stored id for a removed one)."""
    fields: dict[str, str]
    old_id: str | None = None
    changes: list[Change] = field(default_factory=list)
    baselines: Baselines = "kept"
    effect: str = ""


@dataclass
class MappingDiff:
    """A table mapping added, removed, renamed, retired (entity changed) or changed."""

    name: str
    status: Literal["added", "removed", "renamed", "retired", "changed", "restored"]
    old_name: str | None = None
    changes: list[Change] = field(default_factory=list)
    fields: list[FieldDiff] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)

    @property
    def rekeys(self) -> dict[str, str]:
        """Stored field id -> new id, for fields whose baselines are re-keyed."""
        return {f.old_id: f.id for f in self.fields if f.baselines == "rekeyed" and f.old_id}

    @property
    def changes_reads(self) -> bool:
        """Whether the records a pass reads change (their fields, filter or direction): a
        change-feed token made for the old query must not be followed any more."""
        return bool(self.fields) or any(c.attribute not in _READS_KEPT for c in self.changes)

    @property
    def drops(self) -> set[str]:
        """Stored field ids whose baselines are dropped (next sight is a first sight)."""
        return {f.old_id or f.id for f in self.fields if f.baselines == "dropped"}


@dataclass
class TemplateDiff:
    """Every difference between the stored template and the new one, and the new spec as it
    will be stored (field ids resolved)."""

    old: TemplateSpec
    new: TemplateSpec
    mappings: list[MappingDiff]
    template_changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.mappings or self.template_changes)

    def of(self, status: str) -> list[MappingDiff]:
        return [m for m in self.mappings if m.status == status]


def diff_templates(
    old: TemplateSpec,
    new: TemplateSpec,
    inactive: Mapping[str, TableMappingSpec] | None = None,
) -> TemplateDiff:
    """Compare a stored template (ids filled in) with a newer one (ids optional).

    ``inactive``: mappings an earlier upgrade removed but kept (name -> their last spec); one
    the new template brings back is compared with that spec, as its couplings were synced
    with it."""
    inactive = inactive or {}
    if old.roles != new.roles:
        raise ConfigError(
            "the new template's roles differ from the integration's: "
            f"{_roles(new)} instead of {_roles(old)}; an upgrade keeps the roles "
            "(set up a new integration with 'accord init' instead)"
        )
    renamed = _renamed_mappings(old, new, set(inactive))
    old_by_name = {m.name: m for m in old.mappings}
    diffs: list[MappingDiff] = []
    final: list[TableMappingSpec] = []
    for mapping in new.mappings:
        previous_name = renamed.get(mapping.name, mapping.name)
        previous = old_by_name.get(previous_name)
        if previous is None and mapping.name in inactive:
            restored, fields = _restored(inactive[mapping.name], mapping)
            diffs.append(restored)
            final.append(mapping.model_copy(update={"fields": fields}))
            continue
        if previous is None:
            diffs.append(_added(mapping))
            final.append(mapping.model_copy(update={"fields": _ids(mapping.fields)}))
            continue
        mdiff, fields = _compare_mapping(previous, mapping)
        final.append(mapping.model_copy(update={"fields": fields}))
        if mdiff is not None:
            diffs.append(mdiff)
    kept = {renamed.get(m.name, m.name) for m in new.mappings}
    for mapping in old.mappings:
        if mapping.name not in kept:
            diffs.append(
                MappingDiff(
                    mapping.name,
                    "removed",
                    effects=[
                        "no longer synced; its couplings are kept inactive (a later template "
                        "that brings the mapping back finds them), or deleted with "
                        "--drop-removed"
                    ],
                )
            )
    template_changes = [
        Change(attr, _dump(_setting(old, attr)), _dump(_setting(new, attr)))
        for attr in _TEMPLATE_ATTRS
        if _dump(_setting(old, attr)) != _dump(_setting(new, attr))
    ]
    stored = new.model_copy(update={"mappings": final, "company": _kept_company(old, new)})
    return TemplateDiff(old, _revalidate(stored), diffs, template_changes)


def _setting(spec: TemplateSpec, attr: str) -> Any:
    """A template attribute as its author wrote it: the company row a pass resolved and
    remembered (``company.row``) is state, not a setting."""
    value = getattr(spec, attr)
    if attr == "company" and value is not None:
        return value.model_copy(update={"row": None, "row_of": None})
    return value


def _kept_company(old: TemplateSpec, new: TemplateSpec) -> Any:
    """The new company setting, keeping the row already resolved when it still applies."""
    if (
        new.company is None
        or old.company is None
        or _setting(old, "company") != _setting(new, "company")
    ):
        return new.company
    return new.company.model_copy(update={"row": old.company.row, "row_of": old.company.row_of})


def _roles(spec: TemplateSpec) -> str:
    return ", ".join(f"{role}={system}" for role, system in spec.roles.items())


def _revalidate(spec: TemplateSpec) -> TemplateSpec:
    try:
        return TemplateSpec.model_validate(spec.model_dump(mode="json"))
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise ConfigError(f"the upgraded template does not validate: {exc}") from None


def _renamed_mappings(old: TemplateSpec, new: TemplateSpec, kept: set[str]) -> dict[str, str]:
    """New name -> old name of mappings renamed (same entities per role, unambiguous; not
    a name whose couplings an earlier upgrade kept)."""
    old_names = {m.name for m in old.mappings} | kept
    new_names = {m.name for m in new.mappings}
    gone = [m for m in old.mappings if m.name not in new_names]
    fresh = [m for m in new.mappings if m.name not in old_names]
    found: dict[str, str] = {}
    for mapping in fresh:
        same = [m for m in gone if m.per_role == mapping.per_role]
        twins = [m for m in fresh if m.per_role == mapping.per_role]
        if len(same) == 1 and len(twins) == 1:
            found[mapping.name] = same[0].name
    return found


def _restored(
    kept: TableMappingSpec, mapping: TableMappingSpec
) -> tuple[MappingDiff, list[FieldMappingSpec]]:
    """A mapping brought back, compared with the spec its kept couplings were synced with."""
    mdiff, fields = _compare_mapping(kept, mapping)
    if mdiff is None:
        mdiff = MappingDiff(mapping.name, "restored", kept.name)
    if mdiff.status == "retired":
        return mdiff, fields
    mdiff.status = "restored"
    mdiff.effects.insert(
        0, "brought back: the couplings an earlier upgrade kept inactive are used again"
    )
    return mdiff, fields


def _ids(fields: list[FieldMappingSpec]) -> list[FieldMappingSpec]:
    return [f.model_copy(update={"id": f.key}) for f in fields]


def _added(mapping: TableMappingSpec) -> MappingDiff:
    return MappingDiff(
        mapping.name,
        "added",
        fields=[FieldDiff("added", f.key, f.per_role, baselines="none") for f in mapping.fields],
        effects=[
            "a new mapping with no couplings: couple it by match or run a full sync of it "
            "(a mapping removed by an earlier upgrade gets its kept couplings back)"
        ],
    )


_MAPPING_ATTRS = tuple(
    name for name in TableMappingSpec.model_fields if name not in ("name", "fields")
)
_TEMPLATE_ATTRS = tuple(
    name for name in TemplateSpec.model_fields if name not in ("roles", "mappings")
)
_READS_KEPT = frozenset(
    {
        "conflict",
        "initial_master",
        "deletion",
        "depends_on",
        "interval_seconds",
        "overlap_seconds",
        "create_new_if_no_match",
        "couple_through",
        "initial_sync",
        "sync_after_coupling",
        "sync_only_coupled",
        "new_record_defaults",
    }
)
"""Mapping settings that leave what a pass reads as it was (any other change may not)."""


def _dump(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_defaults=True)
    return value


def _compare_mapping(
    old: TableMappingSpec, new: TableMappingSpec
) -> tuple[MappingDiff | None, list[FieldMappingSpec]]:
    changes = [
        Change(attr, _dump(getattr(old, attr)), _dump(getattr(new, attr)))
        for attr in _MAPPING_ATTRS
        if _dump(getattr(old, attr)) != _dump(getattr(new, attr))
    ]
    moved = old.per_role != new.per_role
    retired = moved and any(
        old.per_role.get(role) not in (entity, new.same_records_as.get(role))
        for role, entity in new.per_role.items()
    )
    if moved:
        changes.insert(0, Change("entities", old.per_role, new.per_role))
    fields, fdiffs = _compare_fields(old.fields, new.fields, retired=retired)
    effects = [_MAPPING_NOTES.get(c.attribute, "applies from the next pass") for c in changes]
    status: Literal["renamed", "retired", "changed"] = "changed"
    if retired:
        status = "retired"
        effects = [
            "the entity changed: the couplings of the old entity are kept aside, inactive "
            "(deleted with --drop-removed), and the mapping starts with none: couple it by "
            "match or run a full sync of it"
        ]
    elif old.name != new.name:
        status = "renamed"
        effects.insert(0, f"renamed from {old.name}: couplings, watermarks and jobs are kept")
    if not changes and not fdiffs and old.name == new.name:
        return None, fields
    return MappingDiff(new.name, status, old.name, changes, fdiffs, effects), fields


def _compare_fields(
    old: list[FieldMappingSpec], new: list[FieldMappingSpec], *, retired: bool
) -> tuple[list[FieldMappingSpec], list[FieldDiff]]:
    """The new fields with their stored ids, and the differences field by field."""
    by_id = {f.key: f for f in old}
    paired: dict[int, FieldMappingSpec] = {}
    for number, f in enumerate(new):
        if f.key in by_id:
            paired[number] = by_id.pop(f.key)
    for number, f in enumerate(new):
        if number in paired:
            continue
        same = [o for o in by_id.values() if o.per_role == f.per_role]
        if len(same) == 1:
            paired[number] = by_id.pop(same[0].key)
    result: list[FieldMappingSpec] = []
    diffs: list[FieldDiff] = []
    for number, f in enumerate(new):
        previous = paired.get(number)
        if previous is None:
            result.append(f.model_copy(update={"id": f.key}))
            diffs.append(
                FieldDiff(
                    "added",
                    f.key,
                    f.per_role,
                    baselines="none",
                    effect="no baselines yet: on each coupled pair's next pass, first sight "
                    "(equal values are recorded, a blank takes the other side's value, "
                    "different values follow initial_master, else the conflict policy)",
                )
            )
            continue
        new_id = f.id if f.id else previous.key
        result.append(f.model_copy(update={"id": new_id}))
        if retired:
            continue
        fdiff = _compare_field(previous, f.model_copy(update={"id": new_id}))
        if fdiff is not None:
            diffs.append(fdiff)
    for gone in by_id.values():
        diffs.append(
            FieldDiff(
                "removed",
                gone.key,
                gone.per_role,
                baselines="dropped",
                effect="no longer synced; its baselines are dropped (added again later, it "
                "starts at first sight)",
            )
        )
    return result, diffs


_FIELD_ATTRS = tuple(name for name in FieldMappingSpec.model_fields if name != "id")


def _compare_field(old: FieldMappingSpec, new: FieldMappingSpec) -> FieldDiff | None:
    changes = [
        Change(attr, _dump(getattr(old, attr)), _dump(getattr(new, attr)))
        for attr in _FIELD_ATTRS
        if _dump(getattr(old, attr)) != _dump(getattr(new, attr))
    ]
    if old.per_role != new.per_role:
        changes.insert(0, Change("fields", old.per_role, new.per_role))
    if not changes and old.key == new.key:
        return None
    baselines: Baselines = "kept" if old.key == new.key else "rekeyed"
    notes: list[str] = []
    if old.key != new.key:
        notes.append(f"id {old.key!r} becomes {new.key!r}: its baselines are re-keyed")
    if old.per_role != new.per_role:
        baselines = "dropped"
        notes.append(
            "a field changed, so the values last synced describe another field: baselines "
            "are dropped and the next pass of each pair is a first sight (never an overwrite)"
        )
    for change in changes:
        if change.attribute == "fields":
            continue
        if change.attribute == "enabled":
            notes.append(
                "synced again from the next pass" if change.new else "not synced while disabled"
            )
        else:
            notes.append(_FIELD_NOTES.get(change.attribute, _VALUE_NOTE))
    return FieldDiff(
        "changed",
        new.key,
        new.per_role,
        old_id=old.key,
        changes=changes,
        baselines=baselines,
        effect="; ".join(dict.fromkeys(notes)),
    )
