"""Lookups of a document through the table mappings' couplings, with its dependencies:
a customer or item not coupled yet is exported first by the table engine (or waited for,
or held, as the mapping says); one the table mapping filters out is always held, with an
error that says which record and which filter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from accord.config.documents import DocumentMappingSpec
from accord.config.filters import matches
from accord.documents.values import Lookups, lookup_refs, roles
from accord.mapping.fields import is_blank
from accord.state.couplings import by_ids, translate
from accord.sync.context import SyncContext
from accord.sync.passes import PassOptions, run_pass


def resolve_for(
    ctx: SyncContext,
    doc: DocumentMappingSpec,
    headers: Sequence[Mapping[str, Any]],
    source_lines: Sequence[Mapping[str, Any]],
) -> Lookups:
    """The lookup tables of documents ``headers`` with their ``source_lines`` (one
    translation per table for all of them)."""
    refs = lookup_refs(doc, doc.header, headers)
    if doc.lines:
        for key, values in lookup_refs(doc, doc.lines.fields, source_lines).items():
            refs.setdefault(key, set()).update(values)
    return resolve(ctx, doc, refs) if refs else Lookups()


def resolve(ctx: SyncContext, doc: DocumentMappingSpec, refs: Mapping[str, set[str]]) -> Lookups:
    """Lookup tables for ``refs`` (table key -> source values), exporting what is missing
    first when the mapping says ``export_first``."""
    source, target = roles(doc)
    found = Lookups()
    for key, values in refs.items():
        name, source_by, target_by, *then = key.split("|")
        table = _translate(ctx, name, (source, source_by), (target, target_by), values)
        missing = sorted(set(values) - set(table))
        reasons: dict[str, str] = {}
        if missing and source_by == "id" and name in ctx.mappings:  # a document: no export
            reasons = _dependencies(ctx, doc, name, missing)
            exported = [v for v in missing if v not in reasons]
            if exported:
                table |= _translate(ctx, name, (source, source_by), (target, target_by), exported)
                for value in exported:
                    if value not in table:
                        reasons[value] = _export_failed(ctx, name, source, value)
        if then:
            table = _fields_of(ctx, name, target, then[0], table, reasons)
        found.tables[key] = table
        found.reasons[key] = reasons
    return found


def _fields_of(
    ctx: SyncContext,
    mapping: str,
    role: str,
    field: str,
    table: dict[str, str],
    reasons: dict[str, str],
) -> dict[str, str]:
    """``table`` (source value -> record id) made source value -> that record's ``field``
    ('' when blank); a coupled record that is gone gets a reason instead."""
    documents = {d.name: d for d in ctx.config.template.documents}
    spec = documents[mapping] if mapping in documents else ctx.mapping(mapping).spec
    entity = spec.entity(role)
    records = {r.id: r.values for r in ctx.connector(role).get(entity, sorted(set(table.values())))}
    taken: dict[str, str] = {}
    for value, rid in table.items():
        if rid in records:
            taken[value] = "" if is_blank(records[rid].get(field)) else str(records[rid][field])
        else:
            reasons[value] = f"{entity} {rid}, coupled to {value} in {mapping}, is gone from {role}"
    return taken


def _translate(
    ctx: SyncContext,
    mapping: str,
    source: tuple[str, str],
    target: tuple[str, str],
    values: set[str] | list[str],
) -> dict[str, str]:
    with ctx.db.session() as session:
        return translate(session, ctx.mapping_id(mapping), source, target, values)


def _dependencies(
    ctx: SyncContext, doc: DocumentMappingSpec, mapping: str, missing: list[str]
) -> dict[str, str]:
    """Export the ``missing`` source records of ``mapping`` (when the document mapping
    says so); return why each one that cannot come is missing."""
    source, target = roles(doc)
    table = ctx.mapping(mapping)
    entity = table.spec.entity(source)
    what = f"{entity} {{}} is not coupled in mapping {mapping}"
    records = {r.id: r for r in ctx.connector(source).get(entity, missing)}
    condition = table.spec.filters.get(source)
    reasons: dict[str, str] = {}
    exportable: list[str] = []
    for value in missing:
        record = records.get(value)
        if record is None:
            reasons[value] = f"{entity} {value} does not exist in {source}"
        elif condition is not None and not matches(condition, record.values):
            reasons[value] = (
                f"{what.format(value)}: it is filtered out of that mapping (its {source} "
                f"filter); change the record so it passes the filter, or the filter"
            )
        elif doc.missing_dependency != "export_first":
            reasons[value] = (
                f"{what.format(value)} yet; synchronize {mapping} first (the document "
                f"{'waits' if doc.missing_dependency == 'wait' else 'is held'})"
            )
        elif f"to_{target}" not in table.directions() or not table.spec.enabled:
            reasons[value] = (
                f"{what.format(value)}, and that mapping does not run to {target}; couple it"
            )
        else:
            exportable.append(value)
    if exportable:
        run_pass(
            ctx,
            mapping,
            f"to_{target}",
            PassOptions(kind="records", record_ids=exportable, create_uncoupled=True),
        )
    return reasons


def _export_failed(ctx: SyncContext, mapping: str, source: str, value: str) -> str:
    with ctx.db.session() as session:
        coupling = by_ids(session, ctx.mapping_id(mapping), source, [value]).get(value)
        error = coupling.links[source].last_error if coupling is not None else None
    return f"exporting it by mapping {mapping} failed: {error or 'no coupling was made'}"
