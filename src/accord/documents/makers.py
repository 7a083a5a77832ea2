"""Documents another mapping's action makes: before documents are taken on demand, the
mapping whose action ``couples_to`` theirs runs for the documents they relate to (a won
quote makes the BC order of its Sales order with ``makeOrder``; intake asked for that
order by name then finds it coupled instead of making a second BC order), as Microsoft's
intake does for an order made from a quote coupled to a BC quote."""

from __future__ import annotations

from collections.abc import Sequence

from accord.config.documents import DocumentMappingSpec
from accord.connectors.base import Record
from accord.documents.values import roles
from accord.state import documents as state
from accord.state.couplings import record_id
from accord.sync.context import SyncContext


def related_sources(
    ctx: SyncContext,
    maker: DocumentMappingSpec,
    made: DocumentMappingSpec,
    records: Sequence[Record],
) -> list[str]:
    """Ids of ``maker``'s source documents, already transferred, that the ``made`` source
    ``records`` relate to through an action that couples to ``made``."""
    source = roles(made)[0]
    entity = made.entity(source)
    ids: set[str] = set()
    for action in maker.actions:
        related = action.related.get(source)
        if action.couples_to != made.name or related is None or related.entity != entity:
            continue
        for own_field, maker_field in related.link.items():
            values = [r.values.get(own_field) for r in records]
            wanted = [v for v in values if v is not None]
            if wanted:
                maker_entity = maker.entity(roles(maker)[0])
                found = ctx.connector(roles(maker)[0]).find_any(maker_entity, maker_field, wanted)
                ids.update(r.id for r in found)
    if not ids:
        return []
    with ctx.db.session() as session:
        mapping_id = state.mapping_row_id(session, ctx.config.name, maker.name)
        coupled = state.documents(session, mapping_id, roles(maker)[0], sorted(ids))
        target = roles(maker)[1]
        return sorted(i for i, c in coupled.items() if record_id(c, target) is not None)


def makers_first(
    ctx: SyncContext, made: DocumentMappingSpec, records: Sequence[Record]
) -> list[tuple[str, list[str]]]:
    """(maker mapping, its source ids) to run before ``made`` takes ``records`` on demand."""
    out: list[tuple[str, list[str]]] = []
    for maker in ctx.config.template.documents:
        if maker.enabled and any(a.couples_to == made.name for a in maker.actions):
            ids = related_sources(ctx, maker, made, records)
            if ids:
                out.append((maker.name, ids))
    return out
