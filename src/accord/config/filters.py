"""Typed table filters: conditions on fields, combined with ``all``, ``any`` and ``not``.

A template writes a condition as ``{field: blocked, op: eq, value: " "}`` and combines
conditions as ``{all: [...]}``, ``{any: [...]}`` or ``{not: {...}}``. Each connector renders a
filter into its own dialect (OData ``$filter``: :mod:`accord.connectors.odata.filters`);
:func:`matches` evaluates one in Python, for systems without server-side filtering.

Comparisons follow SQL, like the services behind the connectors: text compares
case-insensitively, and a condition on an empty (null) field is unknown, so neither it nor its
negation holds (only ``is_null`` and ``eq``/``ne`` with ``null`` test for emptiness).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from accord.connectors.base import EntityInfo, FieldType
from accord.errors import ConfigError

Operator = Literal[
    "eq", "ne", "gt", "ge", "lt", "le", "in", "contains", "startswith", "endswith", "is_null"
]
OPERATORS: tuple[str, ...] = get_args(Operator)
ORDERING = frozenset({"gt", "ge", "lt", "le"})
TEXT_MATCHES = frozenset({"contains", "startswith", "endswith"})
FORMS = "{field, op, value}, {all: [...]}, {any: [...]} or {not: {...}}"
EXAMPLE = (
    "{all: [{field: isdisabled, op: eq, value: false}, {field: accessmode, op: ne, value: 4}]}"
)


class Filter(BaseModel):
    """One condition (``field``, ``op``, ``value``) or one combination (``all``, ``any``,
    ``not``) of filters; exactly one of the four forms."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    field: str | None = Field(default=None, min_length=1)
    op: Operator | None = None
    value: Any = None
    all: tuple[Filter, ...] | None = None
    any: tuple[Filter, ...] | None = None
    not_: Filter | None = Field(default=None, alias="not")

    @model_validator(mode="before")
    @classmethod
    def _typed_form(cls, data: Any) -> Any:
        if isinstance(data, str):
            raise ValueError(
                f"a filter is typed, not OData text; instead of {data!r} write "
                + typed_hint(data.strip())
            )
        if isinstance(data, dict) and "value" in data:
            return {**data, "value": _exact(data["value"])}
        return data

    @model_validator(mode="after")
    def _one_form(self) -> Filter:
        forms = [
            name
            for name, part in (
                ("field", self.field),
                ("all", self.all),
                ("any", self.any),
                ("not", self.not_),
            )
            if part is not None
        ]
        if len(forms) != 1:
            got = ", ".join(forms) or "none of them"
            raise ValueError(f"a filter is exactly one of {FORMS}; got {got}")
        if self.field is None:
            if self.op is not None or self.value is not None:
                raise ValueError(f"'op' and 'value' belong to a condition with 'field': {FORMS}")
            if (self.all is not None and not self.all) or (self.any is not None and not self.any):
                raise ValueError(f"'{forms[0]}' needs at least one filter")
            return self
        if self.op is None:
            raise ValueError(
                f"the condition on {self.field!r} needs 'op'; valid operators: "
                + ", ".join(OPERATORS)
            )
        _check_value(self.field, self.op, self.value, "value" in self.model_fields_set)
        return self

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Only the keys of the filter's form, as a template writes them."""
        data: dict[str, Any] = handler(self)
        if self.field is not None:
            keys = ["field", "op"] + (
                [] if self.op == "is_null" and self.value is None else ["value"]
            )
            # a dump that leaves out None (exclude_none) still writes the condition whole
            return {k: data.get(k, getattr(self, k)) for k in keys}
        if self.not_ is not None:
            return {"not": data.get("not", data.get("not_"))}
        return {"all": data["all"]} if self.all is not None else {"any": data["any"]}

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if value is not None or (name == "value" and self.field is not None):
                yield name, value

    def conditions(self) -> Iterator[Filter]:
        """Every condition inside this filter (itself, when it is one)."""
        if self.field is not None:
            yield self
        for child in (*(self.all or ()), *(self.any or ()), *([self.not_] if self.not_ else [])):
            yield from child.conditions()


def where(field: str, op: Operator, value: Any = None) -> Filter:
    """A condition; ``value`` is left out for ``is_null`` (meaning: is empty)."""
    if op == "is_null" and value is None:
        return Filter(field=field, op=op)
    return Filter(field=field, op=op, value=value)


def all_of(*filters: Filter) -> Filter:
    return Filter(all=filters)


def any_of(*filters: Filter) -> Filter:
    return Filter(any=filters)


def negate(inner: Filter) -> Filter:
    return Filter.model_validate({"not": inner})


def _exact(value: Any) -> Any:
    """YAML floats as exact decimals (``0.1`` -> ``Decimal("0.1")``); lists as tuples."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, list | tuple):
        return tuple(_exact(v) for v in value)
    return value


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | Decimal | date)


def _check_value(field: str, op: str, value: Any, given: bool) -> None:
    label = f"the condition {field} {op}"
    if op == "in":
        if not isinstance(value, tuple) or not value:
            raise ValueError(f"{label} needs a non-empty list as 'value', got {value!r}")
        bad = [v for v in value if v is None or not _is_scalar(v)]
        if bad:
            raise ValueError(f"{label} lists values that are not plain values: {bad!r}")
    elif op == "is_null":
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"{label} takes 'value' true (empty) or false (not empty)")
    elif op in TEXT_MATCHES:
        if not isinstance(value, str):
            raise ValueError(f"{label} needs text as 'value', got {value!r}")
    elif op in ORDERING:
        if not given or value is None or isinstance(value, bool) or not _is_scalar(value):
            raise ValueError(f"{label} needs a number, text or date as 'value', got {value!r}")
    elif not _is_scalar(value):
        raise ValueError(f"{label} needs a single value (use op 'in' for a list)")
    elif not given:
        raise ValueError(f"{label} needs 'value' (write null to test for an empty field)")


# -- OData text -> a hint at the typed form ----------------------------------------------------
_ODATA_CONDITION = re.compile(
    r"^\s*([A-Za-z_][\w/]*)\s+(eq|ne|gt|ge|lt|le)\s+('(?:[^']|'')*'|[^\s()]+)\s*$", re.I
)


def typed_hint(text: str) -> str:
    """The typed form of a simple OData expression (conditions joined by one of ``and`` or
    ``or``), else a general example."""
    for joiner, form in ((" and ", "all"), (" or ", "any")):
        parts = re.split(joiner, text, flags=re.I)
        conditions = [_ODATA_CONDITION.match(p) for p in parts]
        if all(conditions) and (len(parts) > 1 or form == "all"):
            items = [_yaml_condition(m) for m in conditions if m]
            return items[0] if len(items) == 1 else f"{{{form}: [{', '.join(items)}]}}"
    return f"a typed expression, e.g. {EXAMPLE}"


def _yaml_condition(match: re.Match[str]) -> str:
    name, op, raw = match.group(1), match.group(2).lower(), match.group(3)
    if raw.startswith("'"):
        value = json.dumps(raw[1:-1].replace("''", "'"))
    else:
        value = raw.lower() if raw.lower() in ("true", "false", "null") else raw
    return f"{{field: {name}, op: {op}, value: {value}}}"


# -- checking against an entity ----------------------------------------------------------------
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_TEXT_TYPES = frozenset({FieldType.STRING, FieldType.OPTION})


def check_filter(filter: Filter, entity: EntityInfo, location: str) -> None:
    """Raise :class:`ConfigError` at ``location`` for a condition on a field ``entity`` lacks,
    or with a value or operator its field type cannot take."""
    for condition in filter.conditions():
        name, op = str(condition.field), str(condition.op)
        info = entity.fields.get(name)
        if info is None:
            raise ConfigError(
                f"filter field {name!r} is not a field of {entity.name!r}; valid fields: "
                + ", ".join(sorted(entity.fields)),
                location=location,
            )
        problem = _type_problem(info.type, op, condition.value)
        if problem:
            raise ConfigError(
                f"filter condition {name} {op}: {problem} (field {name!r} is {info.type})",
                location=location,
            )


def _type_problem(kind: FieldType, op: str, value: Any) -> str | None:
    if op in TEXT_MATCHES and kind not in _TEXT_TYPES:
        return f"'{op}' works on text fields only"
    if op in ORDERING and kind in (FieldType.BOOLEAN, FieldType.GUID, FieldType.LOOKUP):
        return f"'{op}' cannot order {kind} values"
    if op == "is_null":
        return None
    from accord.config.company import COMPANY  # a row id once resolved

    values = value if isinstance(value, tuple) else (value,)
    for item in values:
        if item == COMPANY and kind in (FieldType.GUID, FieldType.LOOKUP, FieldType.STRING):
            continue
        if item is not None and not _fits(kind, item):
            return f"value {item!r} is not a {kind}"
    return None


def _fits(kind: FieldType, value: Any) -> bool:
    number = isinstance(value, int | Decimal) and not isinstance(value, bool)
    if kind in (FieldType.GUID, FieldType.LOOKUP):
        return isinstance(value, str) and bool(_GUID.match(value))
    if kind == FieldType.STRING:
        return isinstance(value, str)
    if kind == FieldType.OPTION:
        return isinstance(value, str) or number
    if kind == FieldType.INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == FieldType.DECIMAL:  # stored specs (JSON) carry decimals as text
        return number or (isinstance(value, str) and _as_decimal(value) is not None)
    if kind == FieldType.BOOLEAN:
        return isinstance(value, bool)
    if kind == FieldType.DATE:
        return _as_date(value) is not None
    if kind == FieldType.DATETIME:
        return _as_datetime(value) is not None
    return True


def _as_decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _as_datetime(value: Any) -> datetime | None:
    """An aware datetime (naive ones taken as UTC), or None when ``value`` is not one."""
    moment: datetime
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- evaluating in Python ------------------------------------------------------------------------
def matches(filter: Filter, values: Mapping[str, Any]) -> bool:
    """Whether a record with ``values`` passes ``filter`` (missing fields count as null)."""
    return _truth(filter, values) is True


def _truth(node: Filter, values: Mapping[str, Any]) -> bool | None:
    """SQL's three-valued logic: True, False or None (unknown)."""
    if node.all is not None:
        parts = [_truth(child, values) for child in node.all]
        return False if False in parts else (None if None in parts else True)
    if node.any is not None:
        parts = [_truth(child, values) for child in node.any]
        return True if True in parts else (None if None in parts else False)
    if node.not_ is not None:
        inner = _truth(node.not_, values)
        return None if inner is None else not inner
    return _condition(str(node.op), values.get(str(node.field)), node.value)


def _condition(op: str, actual: Any, expected: Any) -> bool | None:
    if op == "is_null":
        return (actual is None) == (expected is None or expected is True)
    if expected is None and op in ("eq", "ne"):
        return (actual is None) == (op == "eq")
    if actual is None:
        return None
    if op == "in":
        return any(_compare(actual, item) == 0 for item in expected)
    if op in TEXT_MATCHES:
        text, part = str(actual).lower(), str(expected).lower()
        return {
            "contains": part in text,
            "startswith": text.startswith(part),
            "endswith": text.endswith(part),
        }[op]
    order = _compare(actual, expected)
    if order is None:
        return None
    return {
        "eq": order == 0,
        "ne": order != 0,
        "gt": order > 0,
        "ge": order >= 0,
        "lt": order < 0,
        "le": order <= 0,
    }[op]


def _compare(actual: Any, expected: Any) -> int | None:
    """-1, 0 or 1, or None when the two cannot be compared."""
    left, right = _comparable(actual, expected), _comparable(expected, actual)
    try:
        return int(left > right) - int(left < right)
    except TypeError:
        return None


def _comparable(value: Any, other: Any) -> Any:
    if isinstance(value, bool) or isinstance(other, bool):
        return value
    if isinstance(value, datetime):
        return _as_datetime(value)
    if isinstance(value, int | float | Decimal):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if isinstance(value, str):
        if isinstance(other, datetime):
            return _as_datetime(value)
        if isinstance(other, date):
            return _as_date(value)
        if isinstance(other, int | float | Decimal):
            return _as_decimal(value)
        return value.lower()
    return value
