"""What a document mapping does besides writing the document (:mod:`accord.config.documents`):
write-backs, actions, timeline events and business events, and the related records they test."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from accord.config.document_base import (
    NAME_PATTERN,
    ActionRun,
    PerRole,
    Strict,
    WriteBackAfter,
    placeholders,
    valid_placeholders,
)
from accord.config.filters import Filter


class RelatedSpec(Strict):
    """Records of another entity that belong to the document (each shipment of an order):
    ``link`` pairs a field of the related record with the document's field."""

    entity: str = Field(min_length=1)
    link: dict[str, str] = Field(min_length=1)
    when: Filter | None = None
    """A condition the related record must meet to count (an action's ``related`` waits
    until it holds: the Sales order made from a won quote is Submitted)."""


class WriteBackSpec(PerRole):
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
    entity: dict[str, str] = Field(default_factory=dict)
    """Role -> another entity of that role that holds the document under the same id (a
    custom API page over the same header: Work Description), written instead of the
    document's own entity."""

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
        valid_placeholders(self.per_role, "write-back")
        return self


class ActionSpec(Strict):
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
        valid_placeholders(self.key, f"action {self.name} key")
        if not any(p.startswith(("source.", "target.")) for p in placeholders(self.key)):
            raise ValueError(
                f"action {self.name}: 'key' must name the document, e.g. "
                "${target.id}:" + self.operation
            )
        if self.run == "pass" and not self.when:
            raise ValueError(f"action {self.name}: run on 'pass' needs 'when'")
        return self


class RegardingSpec(Strict):
    """A post on another record than the document: the one its header's ``field`` names,
    of ``entity`` (the order's account: ``{field: _customerid_value, entity: accounts}``)."""

    field: str = Field(min_length=1)
    entity: str = Field(min_length=1)


class TimelineSpec(PerRole):
    """One event, raised once per document (or once per related record, ``each``) whatever
    the retries: when ``when`` first holds, post a text on a role's timeline
    (``crm: "The order ..."``) and/or raise a business event carrying copied fields."""

    name: str = Field(pattern=NAME_PATTERN)
    when: dict[str, Filter] = Field(default_factory=dict)
    """Role -> a condition on that role's header (or on the related record, with ``each``)."""
    each: dict[str, RelatedSpec] = Field(default_factory=dict, max_length=1)
    raise_: str | None = Field(default=None, alias="raise", pattern=NAME_PATTERN)
    copy_: list[str] = Field(default_factory=list, alias="copy")
    regarding: dict[str, RegardingSpec] = Field(default_factory=dict)
    """Role -> post on the record the document's header names there, not the document."""

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
        valid_placeholders(posts, f"event {self.name}")
        return self


class PostSpec(Strict):
    """Where a role's timeline posts go: the post entity (``posts``), its field that points
    at the document (``_regardingobjectid_value``), its text field and fixed values."""

    entity: str = Field(min_length=1)
    regarding: str = Field(min_length=1)
    text: str = Field(min_length=1)
    values: dict[str, Any] = Field(default_factory=dict)


class EventsSpec(Strict):
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
