"""The adaptive concurrency gate: its rules, and Retry-After honoured for the whole connection
(measured at a limited sandbox, not with timers)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import respx

from accord.connectors.http import (
    AdaptiveConcurrency,
    ConcurrencySettings,
    HttpClient,
    RetryPolicy,
)
from accord.connectors.http.credentials import CredentialAuth, StaticBearer
from accord.errors import AuthError, ConfigError
from accord.sandboxes import SandboxHandle, run_sandboxes


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_starts_at_the_services_limit_and_grows_only_when_the_limit_is_used() -> None:
    gate = AdaptiveConcurrency(ConcurrencySettings(max_in_flight=4), clock=Clock())
    assert gate.slots == 4
    tickets = [gate.acquire() for _ in range(2)]
    for ticket in tickets:
        gate.release(ticket)
    assert gate.limit == 4.0  # never above the maximum


def test_a_throttled_round_cuts_once_and_pauses_everyone() -> None:
    clock = Clock()
    gate = AdaptiveConcurrency(ConcurrencySettings(max_in_flight=8, decrease=0.5), clock=clock)
    round_one = [gate.acquire() for _ in range(4)]
    clock.now += 0.1
    end = gate.release(round_one[0], 2.0)
    assert end == pytest.approx(102.1) and gate.slots == 4 and gate.cuts == 1
    for ticket in round_one[1:]:  # sent before the cut: they do not cut again
        gate.release(ticket, 2.0)
    assert gate.slots == 4 and gate.cuts == 1 and gate.throttled == 4
    clock.now = 102.2  # the pause is over
    later = gate.acquire()
    gate.release(later, 1.0)  # sent after the cut: cuts again
    assert gate.slots == 2 and gate.cuts == 2


def test_answers_while_others_wait_grow_the_limit_back() -> None:
    gate = AdaptiveConcurrency(ConcurrencySettings(max_in_flight=8, decrease=0.5))
    gate.release(gate.acquire(), 0.0)
    assert gate.slots == 4
    peak = 0

    def work() -> None:
        nonlocal peak
        for _ in range(30):
            ticket = gate.acquire()
            peak = max(peak, gate.in_flight)
            time.sleep(0.002)
            gate.release(ticket)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gate.slots == 8 and 4 < peak <= 8


def test_a_retry_waits_only_for_a_pause_extended_after_its_own() -> None:
    clock = Clock()
    gate = AdaptiveConcurrency(clock=clock)
    own = gate.release(gate.acquire(), 5.0)
    ticket = gate.acquire(own_pause=own)  # returns at once: it waited its own pause out
    gate.release(ticket)
    assert gate.paused_seconds == 0.0


def test_settings_are_checked_and_named() -> None:
    assert ConcurrencySettings.from_options(None, 5).max_in_flight == 5
    assert ConcurrencySettings.from_options({"decrease": "0.5"}, 52).decrease == 0.5
    with pytest.raises(ConfigError, match=r"unknown concurrency option\(s\) max;"):
        ConcurrencySettings.from_options({"max": 3})
    with pytest.raises(ConfigError, match="'decrease' must be a float in"):
        ConcurrencySettings.from_options({"decrease": 1.5})
    with pytest.raises(ConfigError, match="'min_in_flight' \\(4\\) exceeds 'max_in_flight'"):
        ConcurrencySettings.from_options({"min_in_flight": 4, "max_in_flight": 2})


@pytest.fixture(scope="module")
def limited_dv() -> Iterator[SandboxHandle]:
    with run_sandboxes(["dataverse"], records=5) as sx:
        yield sx["dataverse"]


class SandboxToken(CredentialAuth):
    def __init__(self, handle: SandboxHandle) -> None:
        super().__init__()
        self.handle = handle

    def fetch(self) -> tuple[str, float | None]:
        token, lifetime = self.handle.core.identity.issue(self.handle.client_id, self.handle.scope)
        return f"Bearer {token}", float(lifetime)


def _client(handle: SandboxHandle, gate: AdaptiveConcurrency | None) -> HttpClient:
    return HttpClient(
        handle.base_url,
        connection="dv",
        auth=SandboxToken(handle),
        ca_cert=handle.ca_cert,
        policy=RetryPolicy(max_attempts=3, max_throttled_attempts=50, jitter=0, base_delay=0.05),
        gate=gate,
    )


def _hammer(client: HttpClient, threads: int = 4, each: int = 4) -> list[int]:
    def work(_: int) -> list[int]:
        return [client.get("accounts", params={"$top": "1"}).status_code for _ in range(each)]

    with ThreadPoolExecutor(threads) as pool:
        return [s for batch in pool.map(work, range(threads)) for s in batch]


def test_no_request_of_the_connection_reaches_the_service_before_retry_after(
    limited_dv: SandboxHandle,
) -> None:
    """Four threads share one connection; when one is told to wait, all of them wait."""
    limited_dv.limits.switch_on(requests=4, window_seconds=1.0, latency_per_request=0.02)
    try:
        with _client(limited_dv, None) as client:
            statuses = _hammer(client)
        stats = limited_dv.limits.stats()
    finally:
        limited_dv.limits.configure(None)
    assert statuses == [200] * 16
    assert stats["throttled"].get("requests", 0) >= 1
    assert stats["early_requests"] == 0
    assert client.gate.throttled >= 1


def test_the_gate_keeps_requests_in_flight_within_the_services_concurrency(
    limited_dv: SandboxHandle,
) -> None:
    limited_dv.limits.switch_on(concurrent=3, latency_per_request=0.05, requests=10_000)
    try:
        gate = AdaptiveConcurrency(ConcurrencySettings(max_in_flight=3))
        with _client(limited_dv, gate) as client:
            statuses = _hammer(client, threads=8, each=3)
        stats = limited_dv.limits.stats()
    finally:
        limited_dv.limits.configure(None)
    assert statuses == [200] * 24
    assert stats["peak_concurrent"] == 3 and stats["throttled"] == {}


@respx.mock
def test_a_request_that_raises_gives_its_slot_back() -> None:
    respx.get("https://erp.example.test/api/x").mock(return_value=httpx.Response(401))
    gate = AdaptiveConcurrency(ConcurrencySettings(max_in_flight=1))
    client = HttpClient(
        "https://erp.example.test/api", connection="erp", auth=StaticBearer("t"), gate=gate
    )
    with pytest.raises(AuthError):
        client.get("x")
    assert gate.in_flight == 0
    errors: list[BaseException] = []
    second = threading.Thread(target=lambda: errors.append(_raised(lambda: client.get("x"))))
    second.start()
    second.join(10)  # a kept slot would make it wait forever
    assert not second.is_alive() and isinstance(errors[0], AuthError)


def _raised(call: Callable[[], object]) -> BaseException:
    try:
        call()
    except BaseException as exc:
        return exc
    raise AssertionError("no exception")
