"""Building blocks of the document mapping schema (:mod:`accord.config.documents`): the
kinds of values, placeholders (``${setting.NAME}``) and the two model bases (strict, and
per-role: extra keys name a role)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class PerRole(BaseModel):
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


def valid_placeholders(value: Any, what: str) -> None:
    bad = bad_placeholder(value)
    if bad:
        raise ValueError(f"{what}: {bad} is not a placeholder; valid forms: {PLACEHOLDER_FORMS}")
