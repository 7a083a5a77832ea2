"""The connection's company in a template: one placeholder, resolved when the integration's
mappings are compiled.

Several ERP companies can share one CRM organization (Microsoft: a Dataverse ``bcbi_company``
row per Business Central company; company-aware rows carry its id). A template says where
those company rows live (:class:`CompanySpec`) and writes ``$company`` where it means "the
company row of this integration's ERP company": in filter values, ``new_record_defaults`` and
constants. :func:`with_company` replaces it by that row's id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from accord.config.filters import Filter

if TYPE_CHECKING:
    from accord.config.spec import TableMappingSpec, TemplateSpec

COMPANY = "$company"
"""The placeholder: the id of this integration's company row (text, written exactly so)."""


class CompanySpec(BaseModel):
    """Where a template's company rows are: ``of`` names the role whose connection selects
    the company (e.g. ``erp``); ``entity`` of role ``role`` holds one row per company, found by
    ``id_field`` (the company's id in ``of``) and created with ``name_field`` if missing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    of: str
    role: str
    entity: str
    id_field: str
    name_field: str
    row: str | None = None
    """The company row found for ``row_of`` (remembered in the stored spec, so a pass need not
    ask the CRM before it starts)."""
    row_of: str | None = None
    """The ERP company id ``row`` belongs to."""


def places(template: TemplateSpec) -> Iterator[str]:
    """Where ``template`` uses the placeholder (``mappings[X].filters.crm`` ...)."""
    for m in template.mappings:
        for role, f in m.filters.items():
            if any(_mentions(c.value) for c in f.conditions()):
                yield f"mappings[{m.name}].filters.{role}"
        for role, values in m.new_record_defaults.items():
            if any(_mentions(v) for v in values.values()):
                yield f"mappings[{m.name}].new_record_defaults.{role}"
        for field in m.fields:
            if _mentions(field.constant):
                yield f"mappings[{m.name}].fields[{field.key}].constant"


def check(template: TemplateSpec) -> None:
    """Raise ValueError when the placeholder is used without a ``company`` section, or that
    section names roles the template does not have."""
    spec = template.company
    if spec is None:
        used = next(places(template), None)
        if used is not None:
            raise ValueError(
                f"{used}: {COMPANY!r} needs a 'company' section saying where the company rows "
                "are (of, role, entity, id_field, name_field)"
            )
        return
    roles = list(template.roles)
    for label, role in (("of", spec.of), ("role", spec.role)):
        if role not in roles:
            raise ValueError(f"company.{label}: {role!r} is not a role; roles: {', '.join(roles)}")
    if spec.of == spec.role:
        raise ValueError("company: 'of' and 'role' name the same role; the rows live in the other")


def with_company(template: TemplateSpec, company_id: str) -> TemplateSpec:
    """``template`` with every ``$company`` replaced by ``company_id``."""
    mappings = [_mapping(m, company_id) for m in template.mappings]
    return template.model_copy(update={"mappings": mappings})


def _mapping(m: TableMappingSpec, company_id: str) -> TableMappingSpec:
    filters = {role: _filter(f, company_id) for role, f in m.filters.items()}
    defaults = {
        role: {k: _value(v, company_id) for k, v in values.items()}
        for role, values in m.new_record_defaults.items()
    }
    fields = [
        f.model_copy(update={"constant": _value(f.constant, company_id)})
        if _mentions(f.constant)
        else f
        for f in m.fields
    ]
    return m.model_copy(
        update={"filters": filters, "new_record_defaults": defaults, "fields": fields}
    )


def _filter(node: Filter, company_id: str) -> Filter:
    if node.field is not None:
        if not _mentions(node.value):
            return node
        return node.model_copy(update={"value": _value(node.value, company_id)})
    if node.not_ is not None:
        return node.model_copy(update={"not_": _filter(node.not_, company_id)})
    if node.all is not None:
        return node.model_copy(update={"all": tuple(_filter(c, company_id) for c in node.all)})
    assert node.any is not None
    return node.model_copy(update={"any": tuple(_filter(c, company_id) for c in node.any)})


def _mentions(value: Any) -> bool:
    if isinstance(value, tuple | list):
        return any(_mentions(v) for v in value)
    return isinstance(value, str) and value == COMPANY


def _value(value: Any, company_id: str) -> Any:
    if isinstance(value, tuple):
        return tuple(_value(v, company_id) for v in value)
    if isinstance(value, list):
        return [_value(v, company_id) for v in value]
    return company_id if value == COMPANY else value
