"""Entities as the service's metadata describes them, overlaid on the static descriptors.

The static descriptors (``connectors/*/entities.py``) say what metadata cannot: natural keys,
change tracking, page and batch sizes, option-set columns, how lookups are written. The
metadata says which entities and fields exist on *this* tenant, with their types, lengths,
read-only flags and lookups, so a custom column (``cr3f2_loyaltytier``) or a custom table is
mappable without code, and a column the tenant lacks is reported when a template is loaded.

Documents are cached per connection and URL in this process (a long-running ``accord run``
sees a newly installed extension after a restart); nothing is stored in the state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from accord.connectors.base import ChangeTracking, EntityInfo, FieldInfo, FieldType
from accord.connectors.http import HttpClient
from accord.connectors.odata.csdl import Navigation, Property, ServiceModel, parse_csdl
from accord.connectors.odata.errors import call_error
from accord.errors import Phase

_CACHE: dict[tuple[str, str], ServiceModel | None] = {}
_LOCK = threading.Lock()


def forget_metadata() -> None:
    """Drop every cached document (the next description fetches them again)."""
    with _LOCK:
        _CACHE.clear()


def fetch_model(http: HttpClient, path: str) -> ServiceModel | None:
    """The parsed ``$metadata`` at ``path``; None when the route does not exist (404: an API
    group that is not installed). Cached per connection and URL for this process."""
    url = http.url(path)
    key = (http.connection, url)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    response = http.get(path, headers={"Accept": "application/xml"})
    if response.status_code == 404:
        model = None
    elif response.status_code != 200:
        prefix = f"connection {http.connection!r}: GET {url}"
        raise call_error(response, http.errors, prefix, Phase.CONNECT)
    else:
        model = parse_csdl(response.content, url)
    with _LOCK:
        _CACHE[key] = model
    return model


@dataclass(frozen=True)
class Defaults:
    """How a connector treats entities and lookups only the metadata knows."""

    change_tracking: ChangeTracking
    client_ids: bool
    max_page_size: int
    max_batch_size: int
    modified_fields: tuple[str, ...]
    bind_lookups: bool
    """True when a lookup is written through its navigation property (Dataverse)."""


@dataclass(frozen=True)
class Description:
    """A connector's entities on one tenant."""

    entities: dict[str, EntityInfo]
    missing_groups: dict[str, str]
    """Entity -> API group whose route the tenant does not serve."""


def _meta_fields(
    key: str | None,
    props: Mapping[str, Property],
    navs: list[Navigation],
    model: ServiceModel,
    bind: bool,
) -> dict[str, FieldInfo]:
    fields: dict[str, FieldInfo] = {}
    for prop in props.values():
        ftype = model.field_type(prop)
        if ftype is None:
            continue
        fields[prop.name] = FieldInfo(
            prop.name,
            ftype,
            read_only=prop.computed or prop.name == key,
            max_length=prop.max_length,
        )
    for nav in navs:
        found = fields.get(nav.column or "")
        if found is None or found.type is FieldType.LOOKUP:
            continue  # a polymorphic lookup keeps its first target
        fields[found.name] = replace(
            found,
            type=FieldType.LOOKUP,
            lookup_entity=model.set_of(nav.target),
            read_only=found.read_only and not bind,
            write_as=nav.name if bind else None,
        )
    return fields


def _merge(static: FieldInfo | None, meta: FieldInfo) -> FieldInfo:
    """Metadata says what exists; the static descriptor keeps what metadata cannot say."""
    if static is None:
        return meta
    return FieldInfo(
        meta.name,
        meta.type if static.type is FieldType.STRING else static.type,
        read_only=static.read_only or meta.read_only,
        max_length=meta.max_length or static.max_length,
        lookup_entity=static.lookup_entity or meta.lookup_entity,
        write_as=static.write_as or meta.write_as,
    )


def _entity(
    name: str, static: EntityInfo | None, model: ServiceModel, defaults: Defaults
) -> EntityInfo | None:
    key, props, navs = model.members(model.sets[name])
    meta = _meta_fields(key, props, navs, model, defaults.bind_lookups)
    if static is not None:
        fields = {n: _merge(static.fields.get(n), f) for n, f in meta.items()}
        return replace(static, fields=fields)
    if key is None or key not in meta:
        return None
    modified = next((m for m in defaults.modified_fields if m in meta), None)
    return EntityInfo(
        name=name,
        key=key,
        fields=meta,
        modified_field=modified,
        change_tracking=defaults.change_tracking if modified else ChangeTracking.SNAPSHOT,
        client_ids=defaults.client_ids,
        max_page_size=defaults.max_page_size,
        max_batch_size=defaults.max_batch_size,
    )


def describe(
    static: Mapping[str, EntityInfo],
    models: Mapping[str | None, ServiceModel | None],
    group_of: Callable[[EntityInfo], str | None],
    defaults: Defaults,
    *,
    keep: Mapping[str, tuple[str, str]] | None = None,
) -> Description:
    """Overlay ``models`` (API group -> document; None for the standard route) on ``static``.

    Static entities whose group's route is absent are listed in ``missing_groups``; those
    in ``keep`` (pseudo-entities such as option sets, each with the entity type and property
    that must exist) are kept as they are when the standard document has it; the others
    exist only when their document has their entity set. Entity sets only the standard
    route's document knows are added with ``defaults``.
    """
    entities: dict[str, EntityInfo] = {}
    missing: dict[str, str] = {}
    standard = models.get(None)
    for name, info in static.items():
        group = group_of(info)
        model = models.get(group)
        if keep and name in keep:
            type_name, prop = keep[name]
            if standard is not None and prop in standard.members(type_name)[1]:
                entities[name] = info
        elif model is None and group is not None:
            missing[name] = group
        elif model is not None and name in model.sets:
            described = _entity(name, info, model, defaults)
            if described is not None:
                entities[name] = described
    for name in standard.sets if standard else ():
        if name not in entities and name not in static and standard is not None:
            found = _entity(name, None, standard, defaults)
            if found is not None:
                entities[name] = found
    return Description(entities, missing)
