"""Checks that tie a template's mappings to its roles, with errors that name the place."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accord.config.spec import FieldMappingSpec, TemplateSpec


def check_roles(template: TemplateSpec) -> None:
    """Raise ValueError naming the first place that does not fit the template's roles."""
    from accord.config.spec import ROLE_PATTERN, directions_of

    roles = tuple(template.roles)
    for role in roles:
        if not re.match(ROLE_PATTERN, role):
            raise ValueError(
                f"roles: {role!r} is not a role name (lower case letters, digits and _, "
                "starting with a letter; e.g. erp, crm)"
            )
    valid = directions_of(roles)
    for m in template.mappings:
        where = f"mappings[{m.name}]"
        _check_named(m.per_role, roles, where, "entity", every=True)
        _check_choice(m.direction, valid, f"{where}.direction")
        per_role_settings = (
            ("filters", m.filters),
            ("new_record_defaults", m.new_record_defaults),
            ("same_records_as", m.same_records_as),
        )
        for label, keys in per_role_settings:
            for role in keys:
                _check_choice(role, list(roles), f"{where}.{label}")
        if m.initial_master is not None:
            _check_choice(m.initial_master, list(roles), f"{where}.initial_master")
        for f in m.fields:
            _check_field(f, roles, valid, f"{where}.fields[{f.key}]")


def _check_field(f: FieldMappingSpec, roles: tuple[str, ...], valid: list[str], where: str) -> None:
    _check_named(f.per_role, roles, where, "field", every=False)
    _check_choice(f.direction, valid, f"{where}.direction")
    _check_choice(f.transform_direction, valid, f"{where}.transform_direction")
    for role in f.lookup_by:
        _check_choice(role, list(roles), f"{where}.lookup_by")
    if f.option_map is None:
        return
    named = sorted(f.per_role)
    for number, pair in enumerate(f.option_map):
        if sorted(pair) != named:
            raise ValueError(
                f"{where}.option_map[{number}]: each entry gives one value per role "
                f"({', '.join(named)}), got {', '.join(sorted(pair)) or 'nothing'}"
            )


def _check_named(
    named: dict[str, Any], roles: tuple[str, ...], where: str, what: str, *, every: bool
) -> None:
    for key, value in named.items():
        if key not in roles:
            raise ValueError(
                f"{where}: {key!r} is neither a setting nor a role of this template "
                f"(roles: {', '.join(roles)})"
            )
        if not isinstance(value, str) or not value:
            raise ValueError(f"{where}.{key}: the {what} of role {key} must be a name (text)")
    missing = [r for r in roles if r not in named]
    if every and missing:
        raise ValueError(f"{where}: no {what} named for role {', '.join(missing)}")


def _check_choice(value: str, valid: list[str], where: str) -> None:
    if value not in valid:
        raise ValueError(f"{where}: {value!r} is not valid; valid: {', '.join(valid)}")


def other_role(roles: tuple[str, str], role: str) -> str:
    """The role of a pair that is not ``role``."""
    return roles[1] if role == roles[0] else roles[0]
