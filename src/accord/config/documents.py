"""The document mapping kind (``kind: document``): a header with lines mapped as one unit.

A document mapping names its header entity per role (``crm: salesorders``, ``erp:
salesOrders``) and travels one way, ``direction: to_<role>``: the other role is the source.
Around the header and line fields (written like a table mapping's, a field per role) it says
when a document is taken (``trigger``), whether it is created once (``transfer``) or kept in
step (``sync``), how the target's copy is found again after a crash (``identity``), what to do
when a customer or item is not coupled yet, what is written back, which connector operations
run (``actions``, each with an idempotency key) and which status changes are recorded or posted
(``events``). Checks that need the template's roles live in
:mod:`accord.config.document_checks`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, model_validator

from accord.config.document_base import (
    NAME_PATTERN,
    PLACEHOLDER,
    PLACEHOLDER_FORMS,
    MissingDependency,
    Mode,
    Overflow,
    PerRole,
    RemovedLine,
    Strict,
    Writes,
    bad_placeholder,
    placeholders,
    valid_placeholders,
)
from accord.config.document_effects import (
    ActionSpec,
    EventsSpec,
    PostSpec,
    RelatedSpec,
    TimelineSpec,
    WriteBackSpec,
)
from accord.config.filters import Filter

__all__ = [
    "PLACEHOLDER",
    "PLACEHOLDER_FORMS",
    "ActionSpec",
    "DocumentFieldSpec",
    "DocumentMappingSpec",
    "EventsSpec",
    "LinesSpec",
    "PostSpec",
    "RelatedSpec",
    "TimelineSpec",
    "WriteBackSpec",
    "bad_placeholder",
    "placeholders",
]


class FallbackSpec(Strict):
    """What a lookup gives when the source value has no coupling: a write-in product maps to
    the item set up for write-ins. ``when`` (on the source line) narrows it."""

    when: Filter | None = None
    value: Any = Field(...)

    @model_validator(mode="after")
    def _check(self) -> FallbackSpec:
        if self.value is None or self.value == "":
            raise ValueError("a fallback needs a 'value' (e.g. ${setting.write_in_item})")
        valid_placeholders(self.value, "fallback value")
        return self


class DocumentFieldSpec(PerRole):
    """One header or line field: a field per role, as in a table mapping. Its direction
    defaults to the document's; in ``transfer`` mode a field towards the target is written
    when the document is created, a field towards the source flows back on every pass."""

    direction: str | None = None
    constant: Any = None
    transform: str | None = None
    option_map: list[dict[str, Any]] | None = None
    lookup: str | None = None
    """The table mapping whose couplings translate this reference (``CUSTOMER``)."""
    lookup_by: dict[str, Literal["id", "key"]] = Field(default_factory=dict)
    fallback: FallbackSpec | None = None
    lookup_field: str | None = None
    """Take this field of the looked-up record instead of its id: a credit memo's invoice,
    translated through the invoices' couplings, gives that Sales invoice's order."""
    uncoupled: Literal["hold", "blank"] = "hold"
    """A looked-up value with no coupling: hold the document (a customer not coupled), or
    leave the field blank (an invoice from an order that did not come from the CRM)."""
    overflow: Overflow | None = None
    """Text longer than the target field: ``comment_lines`` (the rest in comment lines),
    ``truncate``, or ``hold`` the document with an error."""
    not_null: bool = False

    @model_validator(mode="after")
    def _check(self) -> DocumentFieldSpec:
        named = self.per_role
        if not named:
            raise ValueError("a field names a field for at least one role")
        if len(named) == 1 and self.constant is None:
            raise ValueError("a one-sided field needs a 'constant' to write")
        if self.constant is not None and len(named) != 1:
            raise ValueError("'constant' goes with exactly one role's field")
        extras = self.fallback or self.lookup_by or self.lookup_field
        if (extras or self.uncoupled != "hold") and not self.lookup:
            raise ValueError(
                "'fallback', 'lookup_by', 'lookup_field' and 'uncoupled' go with a 'lookup'"
            )
        valid_placeholders(self.constant, "constant")
        return self

    @property
    def key(self) -> str:
        """Role-ordered names (``crm=name:erp=externalDocumentNumber``), for error places."""
        named = self.per_role
        return ":".join(f"{role}={named[role]}" for role in sorted(named))


class CommentLinesSpec(Strict):
    """Target lines that carry text: where long text goes, ``max_length`` characters each."""

    max_length: int = Field(ge=1, le=10_000)
    field: str = Field(min_length=1)
    """The target line field that holds the text (``description``)."""
    values: dict[str, Any] = Field(min_length=1)
    """What makes a target line a comment line (``{lineType: Comment}``)."""


class LinesSpec(PerRole):
    """The document's lines: an entity per role (``crm: salesorderdetails``), keyed by a line
    key per role so that added, changed and removed lines are told apart."""

    key: dict[str, str] = Field(min_length=1)
    """Role -> the field that identifies a line for good (``crm: salesorderdetailid``)."""
    embedded: list[str] = Field(default_factory=list)
    """Roles whose lines come inside the header record, under the field named per role."""
    order_by: dict[str, str] = Field(default_factory=dict)
    parent: dict[str, str] = Field(default_factory=dict)
    """Role -> the line field that points at its header (``erp: documentId``)."""
    position: dict[str, str] = Field(default_factory=dict)
    """Role -> the target line field the engine numbers lines by (``erp: sequence``), so a
    line written before a crash is recognised on the next run instead of written again."""
    removed: RemovedLine = "delete"
    """A line gone from the source: delete the target line, or hold the document."""
    comment_lines: CommentLinesSpec | None = None
    fields: list[DocumentFieldSpec] = Field(min_length=1)


class ChargeSpec(PerRole):
    """A header amount that becomes a target line (freight): the source field per role,
    the values that make the charge line, and the line field that takes the amount."""

    name: str = Field(pattern=r"^[A-Z0-9][A-Z0-9 _-]{0,49}$")
    line: dict[str, Any] = Field(min_length=1)
    amount_field: str = "unitPrice"
    quantity_field: str | None = "quantity"
    skip_zero: bool = True

    @model_validator(mode="after")
    def _check(self) -> ChargeSpec:
        valid_placeholders(self.line, f"charge {self.name} line")
        return self


class TriggerSpec(Strict):
    """When a source document is taken: a condition on its header (``when``) or a business
    event (``event``). ``automatic`` false (or a setting) leaves it to on-demand runs."""

    when: Filter | None = None
    event: str | None = Field(default=None, pattern=NAME_PATTERN)
    automatic: bool | str = True
    watermark: bool = False
    """Automatic runs read only the source documents changed since the last complete run
    (the source's modified time, less ``overlap_seconds``), not every triggered one."""
    overlap_seconds: int = Field(default=300, ge=0)

    @model_validator(mode="after")
    def _check(self) -> TriggerSpec:
        if (self.when is None) == (self.event is None):
            raise ValueError("a trigger is exactly one of 'when' (a condition) or 'event'")
        if isinstance(self.automatic, str) and not re.match(
            r"^\$\{setting\.[A-Za-z_]\w*\}$", self.automatic
        ):
            raise ValueError("'automatic' is true, false or a setting: ${setting.NAME}")
        return self


class RevisionSpec(PerRole):
    """Source documents that come in revisions (a quote): the revision number field per
    role; a new revision runs ``before_rebuild`` (e.g. archive the target's version), then
    rebuilds the target document from it under the same identity."""

    before_rebuild: list[str] = Field(default_factory=list)
    """Names of this mapping's actions (``run: demand``) run before the rebuild."""
    document: dict[str, str] = Field(default_factory=dict)
    """Role -> the field every revision of one document shares (``crm: quotenumber``); an
    earlier revision is one with the same identity and, when given, the same value here."""
    archives: dict[str, RelatedSpec] = Field(default_factory=dict, max_length=1)
    """Role -> where that system keeps the archived versions of its document
    (``erp: {entity: salesQuoteArchives, link: {documentId: id}}``), listed by history."""


class SettingSpec(Strict):
    """A value the integration supplies (``write_in_item``); ``${setting.NAME}`` uses it."""

    description: str = ""
    required: bool = True
    default: Any = None


class DocumentMappingSpec(PerRole):
    """One document mapping: a header entity per role, one direction, one unit of work."""

    kind: Literal["document"] = "document"
    name: str = Field(pattern=r"^[A-Z0-9][A-Z0-9 _-]{0,49}$")
    direction: str
    """``to_<role>``: the role the document is created in; the other role is its source."""
    mode: Mode = "transfer"
    trigger: TriggerSpec
    filters: dict[str, Filter] = Field(default_factory=dict)
    identity: dict[str, str] = Field(min_length=2, max_length=2)
    """Role -> field: the source value kept in the target field, by which the target's
    document is found again after a crash (``{crm: name, erp: externalDocumentNumber}``)."""
    writes: Writes = "header_then_lines"
    missing_dependency: MissingDependency = "export_first"
    """A customer or item not coupled yet: export it first, wait for its own pass, or hold.
    A dependency the template filters out is always held with an error."""
    depends_on: list[str] = Field(default_factory=list)
    settings: dict[str, SettingSpec] = Field(default_factory=dict)
    header: list[DocumentFieldSpec] = Field(min_length=1)
    lines: LinesSpec | None = None
    revision: RevisionSpec | None = None
    charges: list[ChargeSpec] = Field(default_factory=list)
    ended_by: dict[str, list[RelatedSpec]] = Field(default_factory=dict)
    """Role -> records whose existence means the document ended by its own life there (an
    order removed by posting its invoice, a quote made into an order): its disappearance is
    then not a delete for the deletion policies."""
    write_back: list[WriteBackSpec] = Field(default_factory=list)
    actions: list[ActionSpec] = Field(default_factory=list)
    events: EventsSpec = Field(default_factory=EventsSpec)
    interval_seconds: int = Field(default=300, ge=1)
    enabled: bool = True

    @model_validator(mode="after")
    def _check(self) -> DocumentMappingSpec:
        for label, items in (
            ("actions", [a.name for a in self.actions]),
            ("charges", [c.name for c in self.charges]),
        ):
            dupes = sorted({n for n in items if items.count(n) > 1})
            if dupes:
                raise ValueError(f"{label} repeat: {', '.join(dupes)}")
        if self.charges and self.lines is None:
            raise ValueError("'charges' become lines: the document needs 'lines'")
        demand = {a.name for a in self.actions if a.run == "demand"}
        named = [(f"actions[{a.name}].waiting", n) for a in self.actions for n in a.waiting]
        if self.revision is not None:
            named += [("revision.before_rebuild", n) for n in self.revision.before_rebuild]
        for place, name in named:
            if name not in demand:
                raise ValueError(
                    f"{place}: {name!r} is not an action run on demand; valid: "
                    + (", ".join(sorted(demand)) or "(none)")
                )
        return self

    def entity(self, role: str) -> str:
        return str(self.per_role[role])

    @property
    def target(self) -> str:
        return self.direction.removeprefix("to_")
