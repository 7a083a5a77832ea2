"""The typed integration spec: a template of table and field mappings (loaded from YAML)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.config.filters import Filter

Direction = Literal["bidirectional", "to_remote", "from_remote"]
ConflictPolicy = Literal["hold", "source_wins", "destination_wins", "newest_wins"]
DeletionPolicy = Literal["ignore", "propagate", "restore", "uncouple"]
TransformDirection = Literal["both", "to_remote", "from_remote"]
LookupBy = Literal["id", "key"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldMappingSpec(_Strict):
    """One field mapping: a field on each side, or a constant written to one side."""

    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:=@/ -]{1,120}$")
    """A stable id that survives renaming the fields (baselines are keyed by it); written in
    the template, or generated once when the integration is set up."""
    local: str | None = None
    remote: str | None = None
    direction: Direction = "bidirectional"
    constant: Any = None
    transform: str | None = None
    """A pipe of named transforms, e.g. ``trim|upper|truncate:100``."""
    transform_direction: TransformDirection = "both"
    option_map: dict[str, Any] | None = None
    """Local value (as text) -> remote value; reversed for the other direction."""
    lookup: str | None = None
    """Name of the mapping whose couplings translate this reference."""
    lookup_by: LookupBy = "id"
    clear_on_failed_lookup: bool = False
    not_null: bool = False
    on_create_only: bool = False
    """Written when the record is created, never on updates (e.g. a code derived from a name)."""
    match: bool = False
    match_priority: int = 0
    case_sensitive: bool = False
    enabled: bool = True

    @model_validator(mode="after")
    def _check(self) -> FieldMappingSpec:
        if self.local is None and self.remote is None:
            raise ValueError("a field mapping needs 'local', 'remote' or both")
        if (self.local is None or self.remote is None) and self.constant is None:
            raise ValueError("a one-sided field mapping needs a 'constant' to write")
        if self.constant is not None and self.local is not None and self.remote is not None:
            raise ValueError("'constant' goes with exactly one of 'local' or 'remote'")
        if self.constant is not None:
            target = "remote" if self.local is None else "local"
            if self.direction != f"to_{target}":
                raise ValueError(
                    f"a constant written to the {target} side needs direction 'to_{target}'"
                )
        if self.clear_on_failed_lookup and self.not_null:
            raise ValueError("'clear_on_failed_lookup' and 'not_null' exclude each other")
        if (self.clear_on_failed_lookup or self.lookup_by != "id") and not self.lookup:
            raise ValueError("'clear_on_failed_lookup' and 'lookup_by' need 'lookup'")
        return self

    @property
    def key(self) -> str:
        """The field mapping's id (used in baselines and conflicts); until one is assigned,
        the one :meth:`TemplateSpec.with_field_ids` would give it."""
        return self.id or f"{self.local or '='}:{self.remote or '='}"


class TableMappingSpec(_Strict):
    """One table mapping between a local and a remote entity."""

    name: str = Field(pattern=r"^[A-Z0-9][A-Z0-9 _-]{0,49}$")
    local: str
    remote: str
    direction: Direction = "bidirectional"
    local_filter: Filter | None = None
    """Typed filter on the local entity's records (see :mod:`accord.config.filters`)."""
    remote_filter: Filter | None = None
    sync_only_coupled: bool = True
    depends_on: list[str] = Field(default_factory=list)
    conflict: ConflictPolicy = "hold"
    initial_master: Literal["local", "remote"] | None = None
    """At first sight (a pair coupled by match, no history) two different values go to this
    side; unset, they follow ``conflict`` (hold by default): never a silent overwrite."""
    deletion: DeletionPolicy = "ignore"
    create_new_if_no_match: bool = False
    sync_after_coupling: bool = True
    interval_seconds: int = Field(default=1800, ge=1)
    overlap_seconds: int = Field(default=60, ge=0)
    new_local_defaults: dict[str, Any] = Field(default_factory=dict)
    new_remote_defaults: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True
    fields: list[FieldMappingSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> TableMappingSpec:
        keys = [f.key for f in self.fields]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"field mappings repeat: {', '.join(dupes)}")
        if self.direction != "bidirectional":
            for f in self.fields:
                if f.direction not in ("bidirectional", self.direction):
                    raise ValueError(
                        f"field {f.key} has direction {f.direction!r}, which a "
                        f"{self.direction!r} mapping never runs"
                    )
        return self

    def fields_for(self, direction: Literal["to_remote", "from_remote"]) -> list[FieldMappingSpec]:
        """Enabled field mappings that run in ``direction``."""
        return [f for f in self.fields if f.enabled and f.direction in ("bidirectional", direction)]

    def directions(self) -> list[Literal["to_remote", "from_remote"]]:
        """The pass directions this mapping runs, push (to remote) first."""
        if self.direction == "bidirectional":
            return ["to_remote", "from_remote"]
        return [self.direction]


class TemplateSpec(_Strict):
    """A whole integration template."""

    name: str
    description: str = ""
    local_system: str
    remote_system: str
    mappings: list[TableMappingSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> TemplateSpec:
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
            for f in m.fields:
                if f.lookup and f.lookup not in known:
                    raise ValueError(
                        f"mapping {m.name} field {f.key} looks up unknown mapping "
                        f"{f.lookup!r}; valid: {', '.join(sorted(known))}"
                    )
        from accord.sync.plan import dependency_order

        dependency_order({m.name: m.depends_on for m in self.mappings})
        return self

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
