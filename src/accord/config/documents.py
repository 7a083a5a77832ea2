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

from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.config.filters import Filter

Mode = Literal["transfer", "sync"]
Writes = Literal["header_then_lines", "deep_insert"]
MissingDependency = Literal["export_first", "wait", "hold"]
Overflow = Literal["comment_lines", "truncate", "hold"]
RemovedLine = Literal["delete", "hold"]
ActionRun = Literal["create", "pass", "demand"]
WriteBackAfter = Literal["create", "pass"]

PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
PLACEHOLDER_FORMS = (
    "${setting.NAME}, ${source.FIELD}, ${target.FIELD}, ${related.FIELD}, ${today}, ${now}"
)
_PLACEHOLDER_BODY = re.compile(r"^(?:(setting|source|target|related)\.[A-Za-z_][\w./]*|today|now)$")
NAME_PATTERN = r"^[a-z][a-z0-9_.-]{0,59}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _PerRole(BaseModel):
    """A model whose extra keys name a role (``crm: salesorders``); checked against the
    template's roles by :func:`accord.config.document_checks.check_documents`."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)
    __pydantic_extra__: dict[str, Any] = Field(init=False)

    @property
    def per_role(self) -> dict[str, Any]:
        return dict(self.__pydantic_extra__ or {})

    def name_for(self, role: str) -> str | None:
        value = self.per_role.get(role)
        return value if isinstance(value, str) else None


def placeholders(value: Any) -> list[str]:
    """Every ``${...}`` inside ``value`` (text, or lists and mappings of text)."""
    if isinstance(value, str):
        return PLACEHOLDER.findall(value)
    if isinstance(value, dict):
        return [p for v in value.values() for p in placeholders(v)]
    if isinstance(value, list | tuple):
        return [p for v in value for p in placeholders(v)]
    return []


def bad_placeholder(value: Any) -> str | None:
    """The first placeholder in ``value`` that is not one of :data:`PLACEHOLDER_FORMS`."""
    for body in placeholders(value):
        if not _PLACEHOLDER_BODY.match(body.strip()):
            return f"${{{body}}}"
    return None


def _valid_placeholders(value: Any, what: str) -> None:
    bad = bad_placeholder(value)
    if bad:
        raise ValueError(f"{what}: {bad} is not a placeholder; valid forms: {PLACEHOLDER_FORMS}")


class FallbackSpec(_Strict):
    """What a lookup gives when the source value has no coupling: a write-in product maps to
    the item set up for write-ins. ``when`` (on the source line) narrows it."""

    when: Filter | None = None
    value: Any = Field(...)

    @model_validator(mode="after")
    def _check(self) -> FallbackSpec:
        if self.value is None or self.value == "":
            raise ValueError("a fallback needs a 'value' (e.g. ${setting.write_in_item})")
        _valid_placeholders(self.value, "fallback value")
        return self


class DocumentFieldSpec(_PerRole):
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
        _valid_placeholders(self.constant, "constant")
        return self

    @property
    def key(self) -> str:
        """Role-ordered names (``crm=name:erp=externalDocumentNumber``), for error places."""
        named = self.per_role
        return ":".join(f"{role}={named[role]}" for role in sorted(named))


class CommentLinesSpec(_Strict):
    """Target lines that carry text: where long text goes, ``max_length`` characters each."""

    max_length: int = Field(ge=1, le=10_000)
    field: str = Field(min_length=1)
    """The target line field that holds the text (``description``)."""
    values: dict[str, Any] = Field(min_length=1)
    """What makes a target line a comment line (``{lineType: Comment}``)."""


class LinesSpec(_PerRole):
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


class ChargeSpec(_PerRole):
    """A header amount that becomes a target line (freight): the source field per role,
    the values that make the charge line, and the line field that takes the amount."""

    name: str = Field(pattern=r"^[A-Z0-9][A-Z0-9 _-]{0,49}$")
    line: dict[str, Any] = Field(min_length=1)
    amount_field: str = "unitPrice"
    quantity_field: str | None = "quantity"
    skip_zero: bool = True

    @model_validator(mode="after")
    def _check(self) -> ChargeSpec:
        _valid_placeholders(self.line, f"charge {self.name} line")
        return self


class TriggerSpec(_Strict):
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


class RelatedSpec(_Strict):
    """Records of another entity that belong to the document (each shipment of an order):
    ``link`` pairs a field of the related record with the document's field."""

    entity: str = Field(min_length=1)
    link: dict[str, str] = Field(min_length=1)
    when: Filter | None = None
    """A condition the related record must meet to count (an action's ``related`` waits
    until it holds: the Sales order made from a won quote is Submitted)."""


class WriteBackSpec(_PerRole):
    """Values written onto a role's document (``crm: {lastbackofficesubmit: ${today}}``)
    after the document is created, or on a pass where ``when`` holds (``Paid``)."""

    after: WriteBackAfter = "create"
    when: dict[str, Filter] = Field(default_factory=dict)
    """Role -> a condition on that role's header (or on the related record, ``related``)."""
    related: dict[str, RelatedSpec] = Field(default_factory=dict, max_length=1)
    """Test ``when`` on a record that belongs to the document (its posted invoice)."""
    unlock: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Role -> values written first to make a read-only document editable (a Submitted
    Sales order is set Active); the document's own values of those fields are recorded,
    then written back together with the write-back's values, also after a crash."""
    ended: str | None = None
    """A role: run once the document ended by its own life there (its header is gone and
    one of ``ended_by``'s records exists: an order fully shipped and invoiced)."""

    @model_validator(mode="after")
    def _check(self) -> WriteBackSpec:
        if not self.per_role:
            raise ValueError("a write-back names a role and its values, e.g. crm: {field: value}")
        for role, values in self.per_role.items():
            if not isinstance(values, dict) or not values:
                raise ValueError(f"write-back for {role} needs field: value pairs")
        if self.after == "pass" and not self.when and self.ended is None:
            raise ValueError(
                "a write-back after each pass needs 'when' or 'ended' (else it never ends)"
            )
        _valid_placeholders(self.per_role, "write-back")
        return self


class ActionSpec(_Strict):
    """A connector operation on one role's document (``shipAndInvoice``, ``makeOrder``),
    run once per idempotency ``key``."""

    name: str = Field(pattern=NAME_PATTERN)
    role: str
    operation: str = Field(min_length=1)
    """The action bound to the role's document (``makeOrder``), or ``ENTITY/action`` for an
    action of another entity set keyed by the document's id (an operations page:
    ``salesQuoteOperations/archive``)."""
    run: ActionRun = "pass"
    """``create``: once the document is created; ``pass``: on a pass where ``when`` holds;
    ``demand``: only when asked (a command, or a revision's ``before_rebuild``)."""
    when: dict[str, Filter] = Field(default_factory=dict)
    key: str = Field(min_length=1)
    """Text with placeholders that names this run of the action (``${target.id}:ship``)."""
    couples_to: str | None = None
    """A document mapping whose coupling takes the record the action creates (a quote's
    ``makeOrder`` -> the order mapping)."""
    related: dict[str, RelatedSpec] = Field(default_factory=dict, max_length=1)
    """With ``couples_to``: role -> the record of that role that becomes the source of the
    created record's coupling (the Sales order made from the quote: ``{entity: salesorders,
    link: {_quoteid_value: quoteid}}``); the action waits until it exists."""
    waiting: list[str] = Field(default_factory=list)
    """Names of this mapping's ``run: demand`` actions run (once each) while this action
    waits for its ``related`` record (a won quote whose Sales order is not Submitted yet is
    released in BC)."""
    raise_: str | None = Field(default=None, alias="raise", pattern=NAME_PATTERN)
    """A business event raised once when the action has run (``order.released``)."""
    copy_: list[str] = Field(default_factory=list, alias="copy")
    """Fields the event carries, from the source document (then the target's)."""

    @model_validator(mode="after")
    def _check(self) -> ActionSpec:
        _valid_placeholders(self.key, f"action {self.name} key")
        if not any(p.startswith(("source.", "target.")) for p in placeholders(self.key)):
            raise ValueError(
                f"action {self.name}: 'key' must name the document, e.g. "
                "${target.id}:" + self.operation
            )
        if self.run == "pass" and not self.when:
            raise ValueError(f"action {self.name}: run on 'pass' needs 'when'")
        return self


class TimelineSpec(_PerRole):
    """One event, raised once per document (or once per related record, ``each``) whatever
    the retries: when ``when`` first holds, post a text on a role's timeline
    (``crm: "The order ..."``) and/or raise a business event carrying copied fields."""

    name: str = Field(pattern=NAME_PATTERN)
    when: dict[str, Filter] = Field(default_factory=dict)
    """Role -> a condition on that role's header (or on the related record, with ``each``)."""
    each: dict[str, RelatedSpec] = Field(default_factory=dict, max_length=1)
    raise_: str | None = Field(default=None, alias="raise", pattern=NAME_PATTERN)
    copy_: list[str] = Field(default_factory=list, alias="copy")

    @model_validator(mode="after")
    def _check(self) -> TimelineSpec:
        posts = self.per_role
        if not posts and self.raise_ is None:
            raise ValueError(f"event {self.name} neither posts (role: text) nor raises")
        if not self.when and not self.each:
            raise ValueError(f"event {self.name} needs 'when' (a condition) or 'each'")
        for role, text in posts.items():
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"event {self.name}: the post for {role} must be text")
        _valid_placeholders(posts, f"event {self.name}")
        return self


class PostSpec(_Strict):
    """Where a role's timeline posts go: the post entity (``posts``), its field that points
    at the document (``_regardingobjectid_value``), its text field and fixed values."""

    entity: str = Field(min_length=1)
    regarding: str = Field(min_length=1)
    text: str = Field(min_length=1)
    values: dict[str, Any] = Field(default_factory=dict)


class EventsSpec(_Strict):
    """Which status changes are recorded in the document's history (role -> fields), and
    the events raised or posted from them."""

    record: dict[str, list[str]] = Field(default_factory=dict)
    post: dict[str, PostSpec] = Field(default_factory=dict)
    """Role -> where its timeline posts go; the status pass refuses to post to a role
    without one."""
    timeline: list[TimelineSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> EventsSpec:
        names = [t.name for t in self.timeline]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"event names repeat: {', '.join(dupes)}")
        return self


class RevisionSpec(_PerRole):
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


class SettingSpec(_Strict):
    """A value the integration supplies (``write_in_item``); ``${setting.NAME}`` uses it."""

    description: str = ""
    required: bool = True
    default: Any = None


class DocumentMappingSpec(_PerRole):
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
