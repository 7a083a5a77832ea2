"""The archived versions of a document in its target system (``accord quotes history``):
every version the target keeps of the documents a source document's revisions were
transferred to, read where the mapping's ``revision.archives`` says."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accord.config.filters import where
from accord.connectors.base import ChangeQuery
from accord.documents.outcomes import document_spec
from accord.documents.values import roles
from accord.errors import ConfigError
from accord.services.hub import Hub
from accord.state import documents as state


@dataclass
class ArchivedVersions:
    mapping: str
    key: str
    documents: list[str] = field(default_factory=list)
    """The target documents (ids) the key's revisions were transferred to."""
    versions: list[dict[str, Any]] = field(default_factory=list)
    """The archived versions as the target lists them, oldest first."""


def archived_versions(
    hub: Hub, mapping: str, key: str, *, integration: str | None = None
) -> ArchivedVersions:
    """The archived versions of the target documents of ``key`` (identity or id)."""
    with hub.context(integration) as ctx:
        doc = document_spec(ctx, mapping)
        if doc.revision is None or not doc.revision.archives:
            raise ConfigError(f"document mapping {mapping} names no revision.archives")
        _, target = roles(doc)
        [(role, archives)] = doc.revision.archives.items()
        with ctx.db.session() as session:
            mid = state.mapping_row_id(session, ctx.config.name, mapping)
            ids: list[str] = []
            for coupling, events in state.history(session, mid, key):
                found = [coupling.links[target].record_id if target in coupling.links else None]
                found += [e.detail.get("target") for e in events if e.name == "revision"]
                for found_id in found:  # the link and the revision event name it twice
                    if found_id and str(found_id) not in ids:
                        ids.append(str(found_id))
        result = ArchivedVersions(mapping, key, ids)
        connector = ctx.connector(role)
        [(their, mine)] = archives.link.items()
        if mine != "id":
            raise ConfigError(f"{mapping}: revision.archives links by the document's id only")
        for target_id in ids:
            query = ChangeQuery(filter=where(their, "eq", target_id))
            for page in connector.read_changes(archives.entity, query):
                result.versions += [dict(r.values) for r in page.records]
        modified = connector.entity(archives.entity).modified_field
        if modified:  # oldest first (a stable sort keeps the target's order on ties)
            result.versions.sort(key=lambda v: str(v.get(modified) or ""))
        return result
