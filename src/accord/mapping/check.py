"""Check a template against the connected systems' entity descriptions before it is used.

Every problem is collected (unknown entity, field or transform, a write to a read-only field,
types that cannot meet, a lookup whose mapping couples another table) and reported at once,
each naming the mapping, field and role with the valid choices. A mapping whose entity
belongs to an API group the tenant lacks is not an error: it is disabled with a warning, and
so is every mapping that depends on it; a field that looks up a disabled mapping is disabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from accord.config.choices import choices
from accord.config.filters import check_filter
from accord.config.spec import BOTH, FieldMappingSpec, TableMappingSpec, TemplateSpec, to_role
from accord.connectors.base import Connector, EntityInfo, FieldType
from accord.errors import ApiGroupMissingError, ConfigError, UnknownEntityError
from accord.mapping.transforms import compile_transform

Role = str

_NUMBERS = {FieldType.INTEGER, FieldType.DECIMAL}
_IDS = {FieldType.GUID, FieldType.LOOKUP}
_TIMES = {FieldType.DATE, FieldType.DATETIME}
_APART = [
    ({FieldType.BOOLEAN}, _NUMBERS | _IDS | _TIMES),
    (_NUMBERS, _IDS | _TIMES),
    (_IDS, _TIMES),
]
"""Type pairs no value can cross without a transform, option map or lookup."""


@dataclass
class TemplateCheck:
    """The outcome: the template with what must be disabled turned off, and why."""

    template: TemplateSpec
    warnings: list[str] = field(default_factory=list)
    disabled: dict[str, str] = field(default_factory=dict)
    """Mapping name -> reason it was disabled by the check."""


class _Checker:
    def __init__(self, template: TemplateSpec, systems: Mapping[Role, Connector]) -> None:
        self.template = template
        self.systems = systems
        self.errors: list[str] = []
        self.result = TemplateCheck(template)
        self.infos: dict[str, dict[Role, EntityInfo]] = {}
        self.fields_off: dict[tuple[str, str], str] = {}

    def entities(self, m: TableMappingSpec) -> None:
        infos: dict[Role, EntityInfo] = {}
        for role in self.template.role_names:
            connector = self.systems[role]
            name = m.entity(role)
            try:
                infos[role] = connector.entity(name)
            except ApiGroupMissingError as exc:
                self.disable(m.name, f"mapping {m.name} is disabled: {exc.message}")
                return
            except UnknownEntityError:
                self.errors.append(
                    f"mappings[{m.name}].{role}: {connector.system} has no entity {name!r}; "
                    + choices(name, connector.entities())
                )
                return
        self.infos[m.name] = infos

    def disable(self, mapping: str, reason: str) -> None:
        self.result.disabled[mapping] = reason
        self.result.warnings.append(reason)

    def dependents(self) -> None:
        """Disable every mapping that depends, directly or not, on a disabled one."""
        changed = True
        while changed:
            changed = False
            for m in self.template.mappings:
                off = [d for d in m.depends_on if d in self.result.disabled]
                if off and m.enabled and m.name not in self.result.disabled:
                    self.infos.pop(m.name, None)
                    self.disable(
                        m.name,
                        f"mapping {m.name} is disabled: it depends on {', '.join(off)}, "
                        "which is disabled",
                    )
                    changed = True

    def mapping(self, m: TableMappingSpec, infos: Mapping[Role, EntityInfo]) -> None:
        where = f"mappings[{m.name}]"
        for role, condition in m.filters.items():
            try:
                check_filter(condition, infos[role], f"{where}.filters.{role}")
            except ConfigError as exc:
                self.errors.append(exc.message)
        for role, values in m.new_record_defaults.items():
            for name in values:
                self.field(infos[role], name, f"{where}.new_record_defaults.{role}", True)
        for f in m.fields:
            if f.enabled:
                self.field_mapping(m, f, infos)

    def writes(self, m: TableMappingSpec, f: FieldMappingSpec, role: Role) -> bool:
        return all(d in (BOTH, to_role(role)) for d in (m.direction, f.direction))

    def field(self, info: EntityInfo, name: str, where: str, written: bool) -> FieldType | None:
        found = info.fields.get(name)
        if found is None:
            self.errors.append(
                f"{where}: {info.name} has no field {name!r}; {choices(name, info.fields)}"
            )
            return None
        if written and found.read_only:
            self.errors.append(
                f"{where}: field {name!r} of {info.name} is read-only; it can be read, "
                "never written (give the mapping a direction away from it)"
            )
        return found.type

    def field_mapping(
        self, m: TableMappingSpec, f: FieldMappingSpec, infos: Mapping[Role, EntityInfo]
    ) -> None:
        where = f"mappings[{m.name}].fields[{f.key}]"
        if f.lookup and f.lookup in self.result.disabled:
            self.fields_off[(m.name, f.key)] = f.lookup
            self.result.warnings.append(
                f"{where} is disabled: it looks up mapping {f.lookup}, which is disabled"
            )
            return
        types = {
            role: self.field(infos[role], name, f"{where}.{role}", self.writes(m, f, role))
            for role, name in f.per_role.items()
        }
        if f.transform:
            try:
                compile_transform(f.transform, location=f"{where}.transform")
            except ConfigError as exc:
                self.errors.append(exc.message)
        if f.lookup:
            self.lookup(m, f, infos, where)
        elif f.option_map is None and f.transform is None and len(types) == 2:
            a, b = types.values()
            if a is not None and b is not None and _apart(a, b):
                named = " and ".join(f"{r} {t}" for r, t in types.items())
                self.errors.append(
                    f"{where}: {named} values cannot be copied into each other; "
                    "add a transform or option_map, or map fields of fitting types"
                )

    def lookup(
        self,
        m: TableMappingSpec,
        f: FieldMappingSpec,
        infos: Mapping[Role, EntityInfo],
        where: str,
    ) -> None:
        """A lookup written as an id must point at the table its mapping couples."""
        target = self.template.mapping(f.lookup or "")
        for role, name in f.per_role.items():
            found = infos[role].fields.get(name)
            if found is None or found.lookup_entity is None or f.lookup_by.get(role, "id") != "id":
                continue
            if target.entity(role) != found.lookup_entity:
                self.errors.append(
                    f"{where}.{role}: {name!r} refers to {found.lookup_entity} records, but "
                    f"lookup {f.lookup} couples {target.entity(role)}; look up a mapping of "
                    f"{found.lookup_entity}"
                )

    def finish(self, source: str) -> TemplateCheck:
        if self.errors:
            raise ConfigError(
                f"template {self.template.name} does not fit the connected systems "
                f"({len(self.errors)} problem(s)):\n  " + "\n  ".join(self.errors),
                location=source,
            )
        mappings = []
        for m in self.template.mappings:
            update: dict[str, object] = {}
            if m.name in self.result.disabled:
                update["enabled"] = False
                update["disabled_reason"] = self.result.disabled[m.name]
            fields = [
                f.model_copy(update={"enabled": False}) if (m.name, f.key) in self.fields_off else f
                for f in m.fields
            ]
            if fields != list(m.fields):
                update["fields"] = fields
            mappings.append(m.model_copy(update=update) if update else m)
        self.result.template = self.template.model_copy(update={"mappings": mappings})
        return self.result


def _apart(a: FieldType, b: FieldType) -> bool:
    return any((a in x and b in y) or (a in y and b in x) for x, y in _APART)


def check_template(
    template: TemplateSpec, systems: Mapping[Role, Connector], *, source: str
) -> TemplateCheck:
    """Check ``template`` against each role's connector; raise one :class:`ConfigError`
    listing every problem, or return the template with unavailable mappings disabled."""
    checker = _Checker(template, systems)
    for m in template.mappings:
        if m.enabled:
            checker.entities(m)
    checker.dependents()
    for m in template.mappings:
        if m.name in checker.infos:
            checker.mapping(m, checker.infos[m.name])
    return checker.finish(source)


def named_by_role(template: TemplateSpec) -> dict[Role, dict[str, set[str]]]:
    """Per role, the entities enabled mappings name and the fields named on each."""
    out: dict[Role, dict[str, set[str]]] = {role: {} for role in template.role_names}
    for m in template.mappings:
        if not m.enabled:
            continue
        for role in template.role_names:
            names = out[role].setdefault(m.entity(role), set())
            names.update(f.per_role[role] for f in m.fields if role in f.per_role)
            names.update(m.new_record_defaults.get(role, {}))
    return out


def needs_description(connector: Connector, named: Mapping[str, set[str]]) -> bool:
    """True when the connector's static descriptors lack an entity or field ``named``."""
    known = connector.entities()
    return any(e not in known or not fields <= set(known[e].fields) for e, fields in named.items())
