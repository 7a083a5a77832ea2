"""A write call's batches go out in parallel through the connection's concurrency gate; while
the service pushes back, a call is split so the writes in flight can use what it allows."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from accord.connectors.base import WriteOp, WriteResult
from accord.connectors.http import AdaptiveConcurrency, ConcurrencySettings, RetryPolicy
from accord.connectors.odata.writes import Indexed, run_batches

OPS = [WriteOp(kind="create", ref=f"r{i}", values={"n": i}) for i in range(100)]


class Recorder:
    """A ``send`` that takes a gate slot, as the HTTP client does, and records what it saw."""

    def __init__(self, gate: AdaptiveConcurrency) -> None:
        self.gate = gate
        self.sizes: list[int] = []
        self.peak = 0
        self._lock = threading.Lock()

    def __call__(self, pending: Indexed) -> tuple[Mapping[int, WriteResult], str | None]:
        ticket = self.gate.acquire()
        with self._lock:
            self.sizes.append(len(pending))
            self.peak = max(self.peak, self.gate.in_flight)
        time.sleep(0.02)
        self.gate.release(ticket)
        return {i: WriteResult(ref=op.ref, ok=True) for i, op in pending}, None


def _run(gate: AdaptiveConcurrency | None, send: Recorder) -> list[WriteResult]:
    return run_batches(OPS, 30, send, RetryPolicy(), entity="things", connection="erp", gate=gate)


def test_batches_of_one_call_go_out_together_up_to_the_gate() -> None:
    gate = AdaptiveConcurrency(ConcurrencySettings(max_in_flight=3))
    send = Recorder(gate)
    results = _run(gate, send)
    assert sorted(send.sizes) == [10, 30, 30, 30]  # the configured batch size: not split
    assert send.peak == 3
    assert [r.ref for r in results] == [op.ref for op in OPS] and all(r.ok for r in results)


def test_while_the_gate_is_cut_a_call_is_split_into_at_least_its_slots() -> None:
    gate = AdaptiveConcurrency(ConcurrencySettings(max_in_flight=8, decrease=0.5))
    gate.release(gate.acquire(), 0.0)  # the service pushed back: 4 slots
    send = Recorder(gate)
    _run(gate, send)
    assert sorted(send.sizes) == [25, 25, 25, 25]
    assert send.peak <= 4


def test_without_a_gate_batches_go_one_after_another() -> None:
    gate = AdaptiveConcurrency(ConcurrencySettings(max_in_flight=3))
    send = Recorder(gate)
    _run(None, send)
    assert send.sizes == [30, 30, 30, 10] and send.peak == 1
