"""The typed integration spec: a template of table and field mappings between named roles.

A template names its roles (``erp``, ``crm``, ...) and the system that plays each. A table
mapping names its entity per role and a field mapping its field per role, as keys named after
the roles; directions are ``both`` or ``to_<role>``. Nothing here knows which role is which.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.config.company import CompanySpec
from accord.config.dependencies import dependency_order
from accord.config.documents import DocumentMappingSpec
from accord.config.filters import Filter

ConflictPolicy = Literal["hold", "source_wins", "destination_wins", "newest_wins"]
DeletionPolicy = Literal["ignore", "propagate", "restore", "uncouple"]
LookupBy = Literal["id", "key"]
ROLE_PATTERN = r"^[a-z][a-z0-9_]{0,19}$"
BOTH = "both"


def to_role(role: str) -> str:
    """The direction that writes to ``role``."""
    return f"to_{role}"


def directions_of(roles: tuple[str, ...]) -> list[str]:
    """Every valid direction between ``roles``."""
    return [BOTH, *(to_role(r) for r in roles)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _WithRoles(BaseModel):
    """A model whose extra keys name a role: ``erp: customers``."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, Any] = Field(init=False)

    @property
    def per_role(self) -> dict[str, str]:
        """Role -> name (an entity or a field) as written in the template (checked to be
        text by the template: :func:`accord.config.roles.check_roles`)."""
        return dict(self.__pydantic_extra__ or {})


class FieldMappingSpec(_WithRoles):
    """One field mapping: a field per role, or a constant written to one role."""

    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:=@/ -]{1,120}$")
    """A stable id that survives renaming the fields (baselines are keyed by it); written in
    the template, or generated once when the integration is set up."""
    direction: str = BOTH
    """``both`` or ``to_<role>``."""
    constant: Any = None
    transform: str | None = None
    """A pipe of named transforms, e.g. ``trim|upper|truncate:100``."""
    transform_direction: str = BOTH
    option_map: list[dict[str, Any]] | None = None
    """Pairs of equal values, one per role: ``[{erp: Company, crm: 3}, ...]``."""
    lookup: str | None = None
    """Name of the mapping whose couplings translate this reference."""
    lookup_by: dict[str, LookupBy] = Field(default_factory=dict)
    """Per role, how its records are referred to: ``id`` (the default) or ``key`` (the
    natural key, e.g. a customer number)."""
    clear_on_failed_lookup: bool = False
    keep_on_failed_lookup: bool = False
    """A reference to a record not coupled (yet) leaves the destination's value as it is and
    the rest of the record is written; every pass tries the field again until it couples."""
    not_null: bool = False
    on_create_only: bool = False
    """Written when the record is created, never on updates (e.g. a code derived from a name)."""
    match: bool = False
    match_priority: int = 0
    case_sensitive: bool = False
    enabled: bool = True

    @model_validator(mode="after")
    def _check(self) -> FieldMappingSpec:
        named = self.per_role
        if not named:
            raise ValueError("a field mapping names a field for at least one role")
        if len(named) == 1 and self.constant is None:
            raise ValueError("a one-sided field mapping needs a 'constant' to write")
        if self.constant is not None:
            if len(named) != 1:
                raise ValueError("'constant' goes with exactly one role's field")
            target = next(iter(named))
            if self.direction != to_role(target):
                raise ValueError(
                    f"a constant written to {target} needs direction '{to_role(target)}'"
                )
        failed = [
            name
            for name in ("clear_on_failed_lookup", "keep_on_failed_lookup", "not_null")
            if getattr(self, name)
        ]
        if len(failed) > 1:
            raise ValueError(f"{' and '.join(repr(n) for n in failed)} exclude each other")
        if (
            self.clear_on_failed_lookup or self.keep_on_failed_lookup or self.lookup_by
        ) and not self.lookup:
            raise ValueError(
                "'clear_on_failed_lookup', 'keep_on_failed_lookup' and 'lookup_by' need 'lookup'"
            )
        return self

    def field(self, role: str) -> str | None:
        name = (self.__pydantic_extra__ or {}).get(role)
        return name if isinstance(name, str) else None

    @property
    def key(self) -> str:
        """The field mapping's id (used in baselines and conflicts); until one is assigned,
        the one :meth:`TemplateSpec.with_field_ids` would give it (role-ordered names)."""
        if self.id:
            return self.id
        named = self.per_role
        return ":".join(f"{role}={named[role]}" for role in sorted(named))


class TableMappingSpec(_WithRoles):
    """One table mapping: an entity per role (``erp: customers``, ``crm: accounts``)."""

    name: str = Field(pattern=r"^[A-Z0-9][A-Z0-9 _-]{0,49}$")
    direction: str = BOTH
    filters: dict[str, Filter] = Field(default_factory=dict)
    """Typed filter per role on that role's records (see :mod:`accord.config.filters`)."""
    sync_only_coupled: bool = True
    depends_on: list[str] = Field(default_factory=list)
    conflict: ConflictPolicy = "hold"
    initial_master: str | None = None
    """At first sight (a pair coupled by match, no history) two different values go to this
    role; unset, they follow ``conflict`` (hold by default): never a silent overwrite."""
    deletion: DeletionPolicy = "ignore"
    creates: bool = True
    """Off: the mapping only updates the counterparts it couples by match and never creates
    one; a record without one is counted skipped (not failed) and tried again when it changes
    (item availability on the products ITEM-PRODUCT makes)."""
    couple_through: str | None = None
    """Another table mapping over the same records under the same ids on both roles
    (ITEM-PRODUCT for item availability): a record's counterpart is the one that mapping
    coupled it to, not a match by values; one it did not couple is skipped (``creates``
    off) or created."""
    create_new_if_no_match: bool = False
    """In match-based coupling (and a full sync's coupling), create counterparts for records
    with no unique match; off, they are reported, not created (Microsoft's default)."""
    initial_sync: Literal["auto", "full", "couple", "none"] = "auto"
    """A full sync's first step: ``auto`` recommends by the data on each side (§1.11)."""
    sync_after_coupling: bool = True
    interval_seconds: int = Field(default=1800, ge=1)
    overlap_seconds: int = Field(default=60, ge=0)
    new_record_defaults: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Per role: values a record created there starts with."""
    enabled: bool = True
    disabled_reason: str | None = None
    """Why the check against the systems turned the mapping off (shown by ``accord status``)."""
    same_records_as: dict[str, str] = Field(default_factory=dict)
    """Per role, an entity whose records are this one's under the same ids (another API page
    over the same table): a template upgrade from it keeps the couplings."""
    fields: list[FieldMappingSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> TableMappingSpec:
        keys = [f.key for f in self.fields]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"field mappings repeat: {', '.join(dupes)}")
        if self.direction != BOTH:
            for f in self.fields:
                if f.direction not in (BOTH, self.direction):
                    raise ValueError(
                        f"field {f.key} has direction {f.direction!r}, which a "
                        f"{self.direction!r} mapping never runs"
                    )
        return self

    def entity(self, role: str) -> str:
        return self.per_role[role]

    def why_disabled(self) -> str | None:
        """Why the mapping does not run; ``None`` while it is enabled."""
        if self.enabled:
            return None
        return self.disabled_reason or f"mapping {self.name} is disabled in its template"

    def fields_for(self, direction: str) -> list[FieldMappingSpec]:
        """Enabled field mappings that run in ``direction``."""
        return [f for f in self.fields if f.enabled and f.direction in (BOTH, direction)]


class TemplateSpec(_Strict):
    """A whole integration template."""

    name: str
    version: str | None = None
    """The template's own version label (recorded when an integration is upgraded to it)."""
    description: str = ""
    roles: dict[str, str] = Field(min_length=2, max_length=2)
    """Role -> system that plays it, in order: the first role's data is pushed first."""
    mappings: list[TableMappingSpec] = Field(default_factory=list)
    documents: list[DocumentMappingSpec] = Field(default_factory=list)
    """Document mappings (``kind: document`` under ``mappings``): :mod:`accord.config.documents`."""
    company: CompanySpec | None = None
    """Where the company rows are, for templates that write ``$company``
    (:mod:`accord.config.company`)."""

    @model_validator(mode="before")
    @classmethod
    def _split_kinds(cls, data: Any) -> Any:
        from accord.config.document_checks import split_kinds

        return split_kinds(data)

    @model_validator(mode="after")
    def _check(self) -> TemplateSpec:
        from accord.config import company
        from accord.config.document_checks import check_documents
        from accord.config.roles import check_roles

        check_roles(self)
        check_documents(self)
        company.check(self)
        names = [m.name for m in self.mappings]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"mapping names repeat: {', '.join(dupes)}")
        known = set(names)
        for m in self.mappings:
            for dep in m.depends_on:
                if dep not in known:
                    raise ValueError(
                        f"mapping {m.name} depends on unknown mapping {dep!r}; "
                        f"valid: {', '.join(sorted(known))}"
                    )
            if m.couple_through is not None and m.couple_through not in m.depends_on:
                raise ValueError(
                    f"mapping {m.name} couples through {m.couple_through!r}: list it in "
                    f"depends_on (valid: {', '.join(sorted(known - {m.name}))})"
                )
            for f in m.fields:
                if f.lookup and f.lookup not in known:
                    raise ValueError(
                        f"mapping {m.name} field {f.key} looks up unknown mapping "
                        f"{f.lookup!r}; valid: {', '.join(sorted(known))}"
                    )
        dependency_order({m.name: m.depends_on for m in self.mappings})
        return self

    @property
    def role_names(self) -> tuple[str, str]:
        first, second = self.roles
        return first, second

    def directions(self, mapping: TableMappingSpec) -> list[str]:
        """The pass directions ``mapping`` runs: towards the second role first (the first
        role's data is pushed before the other's comes back)."""
        if mapping.direction == BOTH:
            return [to_role(r) for r in reversed(self.role_names)]
        return [mapping.direction]

    def with_field_ids(self) -> TemplateSpec:
        """This template with every field mapping's id filled in (generated once, then kept
        in the stored spec so that renaming a field keeps its baselines)."""
        mappings = [
            m.model_copy(update={"fields": [f.model_copy(update={"id": f.key}) for f in m.fields]})
            for m in self.mappings
        ]
        return self.model_copy(update={"mappings": mappings})

    def mapping(self, name: str) -> TableMappingSpec:
        for m in self.mappings:
            if m.name == name:
                return m
        valid = ", ".join(m.name for m in self.mappings)
        from accord.errors import ConfigError

        raise ConfigError(f"unknown mapping {name!r}; valid mappings: {valid}")
