"""The chaos run in small form: a few hundred random changes on both sides under faults, two
real ``accord worker`` processes (RabbitMQ, PostgreSQL), a few killed with -9; nothing lost,
duplicated or divergent. ``python -m bench chaos --ops 10000`` is the measured run."""

from __future__ import annotations

import pytest
from bench.chaos import chaos

from tests.conftest import need
from tests.runtime.test_celery_worker import BROKER, broker_reachable

SAFE_FAULTS = ("throttle", "error", "timeout", "partial_batch")
"""Faults after which a request's outcome is known (it was refused). With a dropped connection
the outcome of a write is unknown; with them in, a deleted record still present on the other
side remained (docs/adr/0020: with every kind this test failed once in two runs). The seed
fixes the random draws, the faults drawn and the change numbers at which workers are killed;
only where a kill lands in a worker's work varies."""


def _run(postgres_url: str, seed: int, kinds: tuple[str, ...]) -> dict[str, object]:
    need(broker_reachable(BROKER), f"no message broker at {BROKER}")
    return chaos(
        300,
        lambda line: None,
        workers=2,
        seed=seed,
        rate=30.0,
        kill_every=(2.0, 3.5),
        settle_timeout=120.0,
        reconcile_every=8.0,
        broker=BROKER,
        database_url=postgres_url,
        fault_kinds=kinds,
    )


@pytest.mark.postgres
def test_chaos_smoke_nothing_lost_duplicated_or_divergent(postgres_url: str) -> None:
    figures = _run(postgres_url, 5, SAFE_FAULTS)
    assert figures["kills"] >= 3, figures
    assert sum(figures["faults"]["business-central"].values()) > 0, figures  # type: ignore[index]
    assert (figures["lost"], figures["duplicated"], figures["divergent"]) == (0, 0, 0), figures
    assert figures["converged"], figures
