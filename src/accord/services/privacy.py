"""Personal data: prune old job logs, error rows and resolved conflicts; forget a record's
stored values without uncoupling it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import or_, select

from accord.errors import ConfigError, TerminalError
from accord.services.hub import Hub
from accord.state import retention
from accord.state.models import CouplingLink
from accord.state.store import load_integration
from accord.state.types import utcnow


def prune(hub: Hub, days: int | None = None) -> Counter[str]:
    """Apply the retention setting (``ACCORD_RETENTION_DAYS``, or ``days``); 0 keeps all."""
    keep = hub.settings.retention_days if days is None else days
    if keep < 0:
        raise ConfigError(f"retention days must be 0 (keep all) or more, not {keep}")
    if keep == 0:
        return Counter()
    with hub.db.session() as session:
        counts = retention.prune(session, utcnow() - timedelta(days=keep))
        session.commit()
    return counts


def forget(
    hub: Hub,
    mapping: str,
    records: Sequence[str],
    *,
    keys: bool = False,
    integration: str | None = None,
) -> Counter[str]:
    """Erase what the state stores of these records (ids of any role, or natural keys) in
    ``mapping``; their couplings stay, and the next pass re-baselines them as at first
    sight. A record the mapping has not coupled is an error naming it; nothing is erased."""
    if not records:
        raise ConfigError("name at least one record (an id of any role or a natural key)")
    with hub.db.session() as session:
        config = load_integration(session, integration)
        if mapping not in config.mapping_ids:
            valid = ", ".join(config.mapping_ids)
            raise ConfigError(f"no mapping {mapping!r} in {config.name}; valid: {valid}")
        mapping_id = config.mapping_ids[mapping]
        found = session.execute(
            select(
                CouplingLink.coupling_id, CouplingLink.record_id, CouplingLink.natural_key
            ).where(
                CouplingLink.mapping_id == mapping_id,
                or_(
                    CouplingLink.record_id.in_(records),
                    CouplingLink.natural_key.in_(records),
                ),
            )
        ).all()
        known = {value for row in found for value in (row.record_id, row.natural_key)}
        missing = [r for r in records if r not in known]
        if missing:
            raise TerminalError(
                f"{mapping} has no coupled record with id or key {', '.join(missing)}"
            )
        counts = retention.forget(
            session, mapping_id, sorted({row.coupling_id for row in found}), keys=keys
        )
        session.commit()
    counts["couplings"] = len({row.coupling_id for row in found})
    return counts
