"""Compiled field mappings: which field of which role, transforms, option maps, lookups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from accord.config.spec import BOTH, FieldMappingSpec, TableMappingSpec, to_role
from accord.connectors.base import EntityInfo, FieldType
from accord.errors import ConfigError, SkippableError, UnknownEntityError
from accord.mapping.transforms import Transform, compile_transform
from accord.mapping.values import canonical, coerce, same

Role = str
"""A role a template names (``erp``, ``crm``, ...)."""
PassDirection = str
"""``to_<role>``: a pass that writes to that role's records."""

NULL_GUID = "00000000-0000-0000-0000-000000000000"


def is_blank(value: Any) -> bool:
    """No value: None, empty text, or the all-zero GUID systems use for 'none'."""
    return value is None or value == "" or value == NULL_GUID


def target_of(direction: PassDirection) -> Role:
    """The role a pass direction writes to."""
    return direction.removeprefix("to_")


class LookupPending(SkippableError):
    """A reference whose record is not coupled yet, on a field that keeps the destination's
    value meanwhile (``keep_on_failed_lookup``): the field is left out, not the record."""


LookupKey = tuple[str, PassDirection, str, str]
"""(mapping name, direction, how the source refers, how the destination refers)."""
Lookups = Mapping[LookupKey, Mapping[str, str]]
"""Per lookup: source-side reference -> destination-side reference (only coupled ones)."""


@dataclass(frozen=True)
class _Plan:
    """How a rule runs in one direction."""

    source: Role
    dest: Role
    source_field: str | None
    dest_type: FieldType | None
    lookup: LookupKey | None


@dataclass(frozen=True)
class FieldRule:
    """One compiled field mapping between the two roles of its table mapping."""

    spec: FieldMappingSpec
    transform: Transform | None
    roles: tuple[Role, Role]
    types: Mapping[Role, FieldType | None] = dc_field(default_factory=dict)
    key: str = ""
    """The spec's key, computed once (it is read for every field of every record)."""
    _fields: dict[Role, str] = dc_field(init=False, repr=False, compare=False)
    _plans: dict[PassDirection, _Plan] = dc_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # read for every field of every record: worked out once
        if not self.key:
            object.__setattr__(self, "key", self.spec.key)
        fields = {role: name for role in self.roles if (name := self.spec.field(role))}
        object.__setattr__(self, "_fields", fields)
        plans = {}
        for dest in self.roles:
            source = self.roles[1] if dest == self.roles[0] else self.roles[0]
            direction = to_role(dest)
            lookup = None
            if self.spec.lookup:
                by = self.spec.lookup_by
                lookup = (self.spec.lookup, direction, by.get(source, "id"), by.get(dest, "id"))
            plans[direction] = _Plan(source, dest, fields.get(source), self.types.get(dest), lookup)
        object.__setattr__(self, "_plans", plans)

    def field(self, role: Role) -> str | None:
        return self._fields.get(role)

    def source_of(self, direction: PassDirection) -> Role:
        return self._plans[direction].source

    def runs(self, direction: PassDirection) -> bool:
        return self.spec.enabled and self.spec.direction in (BOTH, direction)

    def lookup_key(self, direction: PassDirection) -> LookupKey | None:
        return self._plans[direction].lookup

    def map_value(
        self, direction: PassDirection, source: Mapping[str, Any], lookups: Lookups
    ) -> Any:
        """The value this rule writes to the destination; SkippableError when it cannot."""
        spec = self.spec
        plan = self._plans[direction]
        if plan.source_field is None:
            return canonical(spec.constant)
        value = self.reference(direction, source)
        if plan.lookup is not None:
            value = self._translate(plan.lookup, value, lookups)
        return coerce(canonical(value), plan.dest_type)

    def reference(self, direction: PassDirection, source: Mapping[str, Any]) -> Any:
        """The source value after transform and option map: what a lookup translates."""
        plan = self._plans[direction]
        value = source.get(plan.source_field) if plan.source_field else None
        if self.transform is not None and self.spec.transform_direction in (BOTH, direction):
            value = self.transform(value)
        if self.spec.option_map is not None:
            value = self._map_option(plan.source, plan.dest, value)
        return value

    def _map_option(self, source_role: Role, dest_role: Role, value: Any) -> Any:
        assert self.spec.option_map is not None
        if is_blank(value):
            return None
        for pair in self.spec.option_map:
            if same(pair.get(source_role), value) or str(pair.get(source_role)) == str(value):
                return pair.get(dest_role)
        valid = ", ".join(str(pair.get(source_role)) for pair in self.spec.option_map)
        raise SkippableError(
            f"field {self.key}: value {value!r} has no option mapping; mapped values: {valid}"
        )

    def _translate(self, key: LookupKey, value: Any, lookups: Lookups) -> Any:
        if is_blank(value):
            return None
        found = lookups.get(key, {}).get(str(value))
        if found is not None:
            return found
        if self.spec.clear_on_failed_lookup:
            return None
        if self.spec.keep_on_failed_lookup:
            raise LookupPending(
                f"field {self.key}: {value!r} refers to a {key[0]} record not coupled yet"
            )
        raise SkippableError(
            f"field {self.key}: {value!r} refers to a {key[0]} record that is not coupled; "
            f"couple or synchronize it first (or set clear_on_failed_lookup)"
        )


@dataclass(frozen=True)
class CompiledMapping:
    """A table mapping between two roles with its field rules compiled."""

    spec: TableMappingSpec
    roles: tuple[Role, Role]
    rules: tuple[FieldRule, ...]
    _by_direction: dict[str, list[FieldRule]] = dc_field(init=False, repr=False, compare=False)
    _role_fields: dict[str, list[tuple[str, str]]] = dc_field(init=False, repr=False, compare=False)

    @classmethod
    def compile(
        cls,
        spec: TableMappingSpec,
        roles: tuple[Role, Role],
        entities: Mapping[Role, EntityInfo] | None = None,
    ) -> CompiledMapping:
        """Compile ``spec``; with ``entities`` also check every field exists on its role."""
        rules = []
        for f in spec.fields:
            where = f"mappings[{spec.name}].fields[{f.key}]"
            types: dict[Role, FieldType | None] = {}
            for role, name in f.per_role.items():
                types[role] = None
                if entities is not None:
                    try:
                        types[role] = entities[role].field(name).type
                    except UnknownEntityError as exc:
                        raise ConfigError(exc.message, location=f"{where}.{role}") from None
            transform = (
                compile_transform(f.transform, location=f"{where}.transform")
                if f.transform
                else None
            )
            rules.append(FieldRule(f, transform, roles, types))
        return cls(spec=spec, roles=roles, rules=tuple(rules))

    def __post_init__(self) -> None:
        # read for every record: worked out once
        by_direction = {
            d: [r for r in self.rules if r.runs(d)] for d in (to_role(x) for x in self.roles)
        }
        object.__setattr__(self, "_by_direction", by_direction)
        role_fields = {
            role: [
                (r.key, name)
                for r in self.rules
                if r.spec.enabled and (name := r.field(role)) is not None
            ]
            for role in self.roles
        }
        object.__setattr__(self, "_role_fields", role_fields)

    @property
    def name(self) -> str:
        return self.spec.name

    def pass_roles(self, direction: PassDirection) -> tuple[Role, Role]:
        """(source role, destination role) of a pass in ``direction``."""
        dest = target_of(direction)
        if dest not in self.roles:
            valid = ", ".join(to_role(r) for r in self.roles)
            raise ConfigError(f"invalid direction {direction!r} for {self.name}; valid: {valid}")
        return self.other(dest), dest

    def other(self, role: Role) -> Role:
        return self.roles[1] if role == self.roles[0] else self.roles[0]

    def directions(self) -> list[PassDirection]:
        """The pass directions this mapping runs: towards the second role first."""
        if self.spec.direction == BOTH:
            return [to_role(r) for r in reversed(self.roles)]
        return [self.spec.direction]

    def rules_for(self, direction: PassDirection) -> list[FieldRule]:
        return self._by_direction[direction]

    def role_fields(self, role: Role) -> list[tuple[str, str]]:
        """(rule key, field name) of every enabled rule with a field on ``role``."""
        return self._role_fields[role]

    def fields_of(self, role: Role) -> list[str]:
        """Every field this mapping reads or writes on ``role``."""
        return list(dict.fromkeys(name for _key, name in self._role_fields[role]))

    def entity(self, role: Role) -> str:
        return self.spec.entity(role)

    def hash_pairs(self, role: Role, values: Mapping[str, Any]) -> list[tuple[str, Any]]:
        """(rule key, value) of every enabled rule with a field on ``role``."""
        return [(key, values.get(name)) for key, name in self._role_fields[role]]
