"""Compiled field mappings: which field on which side, transforms, option maps, lookups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Literal

from accord.config.spec import FieldMappingSpec, TableMappingSpec
from accord.connectors.base import EntityInfo, FieldType
from accord.errors import ConfigError, SkippableError, UnknownEntityError
from accord.mapping.transforms import Transform, compile_transform
from accord.mapping.values import canonical, coerce, same

Side = Literal["local", "remote"]
PassDirection = Literal["to_remote", "from_remote"]

NULL_GUID = "00000000-0000-0000-0000-000000000000"


def pass_sides(direction: PassDirection) -> tuple[Side, Side]:
    """(source side, destination side) of a pass direction."""
    return ("local", "remote") if direction == "to_remote" else ("remote", "local")


def is_blank(value: Any) -> bool:
    """No value: None, empty text, or the all-zero GUID systems use for 'none'."""
    return value is None or value == "" or value == NULL_GUID


LookupKey = tuple[str, str, PassDirection]
"""(mapping name, lookup_by, direction) of a lookup table."""
Lookups = Mapping[LookupKey, Mapping[str, str]]
"""Per lookup: source-side reference -> destination-side reference (only coupled ones)."""


@dataclass(frozen=True)
class FieldRule:
    """One compiled field mapping."""

    spec: FieldMappingSpec
    transform: Transform | None
    local_type: FieldType | None = None
    remote_type: FieldType | None = None
    key: str = ""
    """The spec's key, computed once (it is read for every field of every record)."""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.spec.key)

    def field(self, side: Side) -> str | None:
        return self.spec.local if side == "local" else self.spec.remote

    def runs(self, direction: PassDirection) -> bool:
        return self.spec.enabled and self.spec.direction in ("bidirectional", direction)

    def lookup_key(self, direction: PassDirection) -> LookupKey | None:
        if not self.spec.lookup:
            return None
        return (self.spec.lookup, self.spec.lookup_by, direction)

    def map_value(
        self, direction: PassDirection, source: Mapping[str, Any], lookups: Lookups
    ) -> Any:
        """The value this rule writes to the destination; SkippableError when it cannot."""
        spec = self.spec
        to_remote = direction == "to_remote"
        source_field = spec.local if to_remote else spec.remote
        if source_field is None:
            return canonical(spec.constant)
        value = source.get(source_field)
        if self.transform is not None and spec.transform_direction in ("both", direction):
            value = self.transform(value)
        if spec.option_map is not None:
            value = self._map_option(direction, value)
        if spec.lookup:
            value = self._translate((spec.lookup, spec.lookup_by, direction), value, lookups)
        return coerce(canonical(value), self.remote_type if to_remote else self.local_type)

    def _map_option(self, direction: PassDirection, value: Any) -> Any:
        assert self.spec.option_map is not None
        if is_blank(value):
            return None
        if direction == "to_remote":
            if str(value) in self.spec.option_map:
                return self.spec.option_map[str(value)]
            valid = ", ".join(self.spec.option_map)
        else:
            for local_value, remote_value in self.spec.option_map.items():
                if same(remote_value, value):
                    return local_value
            valid = ", ".join(str(v) for v in self.spec.option_map.values())
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
        raise SkippableError(
            f"field {self.key}: {value!r} refers to a {key[0]} record that is not coupled; "
            f"couple or synchronize it first (or set clear_on_failed_lookup)"
        )


@dataclass(frozen=True)
class CompiledMapping:
    """A table mapping with its field rules compiled."""

    spec: TableMappingSpec
    rules: tuple[FieldRule, ...]
    _by_direction: dict[str, list[FieldRule]] = dc_field(init=False, repr=False, compare=False)
    _side_fields: dict[str, list[tuple[str, str]]] = dc_field(init=False, repr=False, compare=False)

    @classmethod
    def compile(
        cls, spec: TableMappingSpec, entities: Mapping[Side, EntityInfo] | None = None
    ) -> CompiledMapping:
        """Compile ``spec``; with ``entities`` also check every field exists on its side."""
        rules = []
        for f in spec.fields:
            where = f"mappings[{spec.name}].fields[{f.key}]"
            types: dict[Side, FieldType | None] = {"local": None, "remote": None}
            for side, name in (("local", f.local), ("remote", f.remote)):
                if entities is not None and name is not None:
                    try:
                        types[side] = entities[side].field(name).type  # type: ignore[index]
                    except UnknownEntityError as exc:
                        raise ConfigError(exc.message, location=where) from None
            transform = (
                compile_transform(f.transform, location=f"{where}.transform")
                if f.transform
                else None
            )
            rules.append(FieldRule(f, transform, types["local"], types["remote"]))
        return cls(spec=spec, rules=tuple(rules))

    def __post_init__(self) -> None:
        # read for every record: worked out once
        by_direction = {
            d: [r for r in self.rules if r.runs(d)] for d in ("to_remote", "from_remote")
        }
        object.__setattr__(self, "_by_direction", by_direction)
        side_fields = {
            side: [
                (r.key, name)
                for r in self.rules
                if r.spec.enabled and (name := r.field(side)) is not None
            ]
            for side in ("local", "remote")
        }
        object.__setattr__(self, "_side_fields", side_fields)

    @property
    def name(self) -> str:
        return self.spec.name

    def rules_for(self, direction: PassDirection) -> list[FieldRule]:
        return self._by_direction[direction]

    def side_fields(self, side: Side) -> list[tuple[str, str]]:
        """(rule key, field name) of every enabled rule with a field on ``side``."""
        return self._side_fields[side]

    def fields_of(self, side: Side) -> list[str]:
        """Every field this mapping reads or writes on ``side``."""
        seen: dict[str, None] = {}
        for rule in self.rules:
            name = rule.field(side)
            if name is not None and rule.spec.enabled:
                seen[name] = None
        return list(seen)

    def entity(self, side: Side) -> str:
        return self.spec.local if side == "local" else self.spec.remote

    def side_hash_pairs(self, side: Side, values: Mapping[str, Any]) -> list[tuple[str, Any]]:
        """(rule key, value) of every enabled rule with a field on ``side``."""
        return [(key, values.get(name)) for key, name in self.side_fields(side)]
