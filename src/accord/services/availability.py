"""Item availability on demand (``accord items availability ITEM``): synchronize one item's
availability to its Sales product now, through the template's ``ITEM AVAILABILITY`` mapping
(bc-sales: Business Central's custom API ``itemAvailabilities`` -> product ``quantityonhand``),
and say what it is. The scheduled pass of the same mapping covers "on a schedule"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from accord.errors import ConfigError
from accord.services.hub import Hub
from accord.services.operations import sync_now
from accord.state.models import CouplingLink
from accord.sync.context import SyncContext
from accord.sync.passes import PassResult

MAPPING = "ITEM AVAILABILITY"
PRODUCTS = "ITEM-PRODUCT"
"""The mapping that gives an item its Sales product."""


@dataclass(frozen=True)
class ItemAvailability:
    """An item's availability as read from the ERP, where it went, and the pass that took it."""

    item: str
    values: Mapping[str, Any]
    """The availability record's fields (itemNumber, inventory, availableQuantity, ...)."""
    product_id: str | None
    result: PassResult = field(repr=False)


def item_availability(hub: Hub, item: str, *, integration: str | None = None) -> ItemAvailability:
    """Synchronize ``item``'s availability (its number or record id) to Sales now."""
    with hub.context(integration) as ctx:
        if MAPPING not in ctx.mappings:
            raise ConfigError(
                f"the integration has no {MAPPING} mapping (bc-sales has it; "
                "`accord template upgrade` brings it)"
            )
        compiled = ctx.mapping(MAPPING)
        entity = compiled.entity("erp")
        connector = ctx.connector("erp")
        info = connector.entity(entity)
        found = connector.find(entity, {info.natural_key or info.key: item}, limit=2)
        if not found and len(item) >= 32:
            found = connector.find(entity, {info.key: item}, limit=2)
        if len(found) != 1:
            what = "names no item" if not found else "names several items"
            raise ConfigError(f"{item!r} {what} in {entity} ({MAPPING}, erp)")
        record = found[0]
        _require_product(ctx, record.id, item)
    result = sync_now(hub, MAPPING, [record.id], "to_crm", integration=integration)
    with hub.context(integration) as ctx:
        mapping_id = ctx.mapping_id(MAPPING)
        with ctx.db.session() as session:
            link = session.scalars(
                select(CouplingLink).where(
                    CouplingLink.mapping_id == mapping_id,
                    CouplingLink.role == "erp",
                    CouplingLink.record_id == record.id,
                )
            ).first()
            product = None
            if link is not None:
                other = session.scalars(
                    select(CouplingLink).where(
                        CouplingLink.coupling_id == link.coupling_id, CouplingLink.role == "crm"
                    )
                ).first()
                product = other.record_id if other is not None else None
    return ItemAvailability(item, dict(record.values), product, result)


def _require_product(ctx: SyncContext, item_id: str, item: str) -> None:
    """The item has a Sales product (ITEM-PRODUCT coupled it): availability never creates
    a bare product of its own."""
    mapping_id = ctx.mapping_id(PRODUCTS)
    with ctx.db.session() as session:
        coupled = session.scalars(
            select(CouplingLink.coupling_id).where(
                CouplingLink.mapping_id == mapping_id,
                CouplingLink.role == "erp",
                CouplingLink.record_id == item_id,
            )
        ).first()
    if coupled is None:
        raise ConfigError(
            f"item {item!r} has no Sales product yet: {PRODUCTS} couples it "
            f"(`accord sync --mapping {PRODUCTS}`), then its availability can follow"
        )
