"""Personal data in the state: forget a record's stored values, prune old logs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from accord.errors import TerminalError
from accord.services import operations, privacy
from accord.state.models import Conflict, CouplingLink, Job, JobError
from accord.state.types import utcnow
from tests.worlds import World, WorldFactory


def _synced(make_world: WorldFactory) -> World:
    world = make_world(records=10, create_unmatched=True)
    operations.sync_full(world.hub)
    for held in operations.conflicts(world.hub):
        operations.resolve(world.hub, held.id, "erp")
    operations.sync_incremental(world.hub)
    return world


def test_forget_erases_stored_values_and_the_pair_stays_coupled(
    make_world: WorldFactory,
) -> None:
    world = _synced(make_world)
    erp_id, crm_id = sorted(world.coupled_pairs("CONTACT"))[0]
    contact = world.bc.store.get("contacts", erp_id)
    assert contact is not None
    # a conflict held for this pair, and an error row naming it
    world.bc.store.update("contacts", erp_id, {"jobTitle": "Buyer"})
    world.dv.store.update("contacts", crm_id, {"jobtitle": "Head buyer"})
    with world.hub.db.session() as session:
        mapping_id = session.scalar(
            select(CouplingLink.mapping_id).where(CouplingLink.record_id == erp_id)
        )
        session.add(Job(id="old-job", mapping_id=mapping_id, direction="to_crm", kind="full"))
        session.add(
            JobError(
                job_id="old-job",
                mapping_id=mapping_id,
                source_id=erp_id,
                message=f"rejected e-mail {contact['email']}",
            )
        )
        session.commit()

    counts = privacy.forget(world.hub, "CONTACT", [contact["email"]], keys=True)

    assert counts["couplings"] == 1 and counts["errors"] == 1
    with world.hub.db.session() as session:
        links = session.scalars(
            select(CouplingLink).where(CouplingLink.record_id.in_([erp_id, crm_id]))
        ).all()
        assert len(links) == 2
        assert all(link.synced == {} and link.natural_key is None for link in links)
        assert all(link.content_hash is None for link in links)
        assert session.scalar(select(func.count()).select_from(JobError)) == 0
    assert (erp_id, crm_id) in world.coupled_pairs("CONTACT")

    # the next pass re-baselines at first sight: equal values settle, the differing job
    # title is held (or decided by the mapping's policy), nothing is blanked
    operations.sync_incremental(world.hub, ["CONTACT"])
    after = world.dv.store.get("contacts", crm_id)
    assert after is not None and after["emailaddress1"] == contact["email"]
    with world.hub.db.session() as session:
        link = session.scalars(select(CouplingLink).where(CouplingLink.record_id == erp_id)).one()
        assert link.synced  # baselines are back
    settled = operations.sync_incremental(world.hub, ["CONTACT"])
    assert sum(r.counts["modified"] + r.counts["inserted"] for r in settled) == 0


def test_forget_of_an_unknown_record_is_an_error_and_erases_nothing(
    make_world: WorldFactory,
) -> None:
    world = _synced(make_world)
    erp_id, _ = sorted(world.coupled_pairs("CUSTOMER"))[0]
    with pytest.raises(TerminalError, match="no-such-record"):
        privacy.forget(world.hub, "CUSTOMER", [erp_id, "no-such-record"])
    with world.hub.db.session() as session:
        link = session.scalars(select(CouplingLink).where(CouplingLink.record_id == erp_id)).one()
        assert link.synced
    with pytest.raises(Exception, match="NOPE"):
        privacy.forget(world.hub, "NOPE", [erp_id])


def test_prune_keeps_the_newest_job_per_direction_and_recent_rows(
    make_world: WorldFactory,
) -> None:
    world = _synced(make_world)
    long_ago = utcnow() - timedelta(days=200)
    with world.hub.db.session() as session:
        total = session.scalar(select(func.count()).select_from(Job))
        newest = session.execute(
            select(Job.mapping_id, Job.direction, func.count()).group_by(
                Job.mapping_id, Job.direction
            )
        ).all()
        for n, job in enumerate(session.scalars(select(Job).order_by(Job.started_at))):
            job.started_at = long_ago + timedelta(seconds=n)
        session.execute(update(Conflict).values(resolved_at=long_ago))
        session.commit()
    assert total and total > len(newest)

    counts = privacy.prune(world.hub)

    with world.hub.db.session() as session:
        left = session.scalar(select(func.count()).select_from(Job))
        assert session.scalar(select(func.count()).select_from(Conflict)) == 0
    assert left == len(newest)
    assert counts["jobs"] == total - len(newest)
    assert privacy.prune(world.hub, 0) == {}  # 0 keeps everything
    with pytest.raises(Exception, match="retention days"):
        privacy.prune(world.hub, -1)
