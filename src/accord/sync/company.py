"""Find (or create) the CRM row of this integration's ERP company, for ``$company``.

Microsoft's integration keeps one Dataverse ``bcbi_company`` row per Business Central company
(``bcbi_externalid`` = the company's id, name "<name> (<id>)") and creates it when the
connection is set up (``CDSIntegrationImpl``); Accord does the same the first time a template
that says ``$company`` is compiled.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from accord.config.company import CompanySpec, places, with_company
from accord.config.spec import TemplateSpec
from accord.connectors.base import Connector, WriteOp
from accord.errors import ConfigError


@runtime_checkable
class CompanyScoped(Protocol):
    """A connector bound to one company of its system."""

    def company(self) -> tuple[str, str]:
        """The company's id and name."""
        ...


def resolved(template: TemplateSpec, connectors: dict[str, Connector]) -> TemplateSpec:
    """``template`` with ``$company`` replaced (unchanged when it does not use it)."""
    spec = template.company
    if spec is None or next(places(template), None) is None:
        return template
    return with_company(template, company_row(spec, connectors))


def company_row(spec: CompanySpec, connectors: dict[str, Connector]) -> str:
    """The id of the company row in role ``spec.role``, created when missing."""
    source = connectors.get(spec.of)
    if not isinstance(source, CompanyScoped):
        raise ConfigError(
            f"the template refers to the company of role {spec.of!r}, but its connection "
            "is not bound to a company",
            location="company.of",
        )
    company_id, name = source.company()
    target = connectors.get(spec.role)
    if target is None:
        raise ConfigError(f"no connection plays role {spec.role!r}", location="company.role")
    found = target.find(spec.entity, {spec.id_field: company_id}, case_sensitive=False)
    if found:
        return found[0].id
    values = {spec.id_field: company_id, spec.name_field: f"{name} ({company_id})"}
    result = target.write(spec.entity, [WriteOp(kind="create", ref="company", values=values)])[0]
    if not result.ok or result.id is None:
        raise ConfigError(
            f"cannot create the company row of {name!r} in {spec.entity}: {result.error}",
            location="company",
        )
    return result.id
