"""Find (or create) the CRM row of this integration's ERP company, for ``$company``.

Microsoft's integration keeps one Dataverse ``bcbi_company`` row per Business Central company
(``bcbi_externalid`` = the company's id, name "<name> (<id>)") and creates it when the
connection is set up (``CDSIntegrationImpl``); Accord does the same the first time a template
that says ``$company`` is compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from sqlalchemy import select

from accord.config.company import CompanySpec, places, with_company
from accord.config.spec import TemplateSpec
from accord.connectors.base import Connector, WriteOp
from accord.errors import ConfigError
from accord.state.db import Database
from accord.state.models import Integration

Remember = Callable[[CompanySpec], None]


@runtime_checkable
class CompanyScoped(Protocol):
    """A connector bound to one company of its system."""

    def company(self) -> tuple[str, str]:
        """The company's id and name."""
        ...


def resolved(
    template: TemplateSpec, connectors: dict[str, Connector], remember: Remember | None = None
) -> TemplateSpec:
    """``template`` with ``$company`` replaced (unchanged when it does not use it). The row
    remembered in the spec is used while the ERP company is the same; else it is looked up
    (created when missing) and handed to ``remember``."""
    spec = template.company
    if spec is None or next(places(template), None) is None:
        return template
    company_id = _company_of(spec, connectors)[0]
    if spec.row is not None and spec.row_of == company_id:
        return with_company(template, spec.row)
    row = company_row(spec, connectors)
    if remember is not None:
        remember(spec.model_copy(update={"row": row, "row_of": company_id}))
    return with_company(template, row)


def company_row(spec: CompanySpec, connectors: dict[str, Connector]) -> str:
    """The id of the company row in role ``spec.role``, created when missing."""
    company_id, name = _company_of(spec, connectors)
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


def _company_of(spec: CompanySpec, connectors: dict[str, Connector]) -> tuple[str, str]:
    source = connectors.get(spec.of)
    if not isinstance(source, CompanyScoped):
        raise ConfigError(
            f"the template refers to the company of role {spec.of!r}, but its connection "
            "is not bound to a company",
            location="company.of",
        )
    return source.company()


def remember_in(db: Database, integration: str) -> Remember:
    """A ``remember`` that stores the company section in the integration's stored spec."""

    def remember(spec: CompanySpec) -> None:
        with db.session() as session:
            row = session.scalar(select(Integration).where(Integration.name == integration))
            if row is not None:
                row.spec = {**row.spec, "company": spec.model_dump(mode="json")}

    return remember
