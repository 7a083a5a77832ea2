"""Transport-level cases a real server cannot easily produce (respx)."""

from __future__ import annotations

import threading

import httpx
import pytest
import respx

from accord.connectors.http import CredentialAuth, HttpClient, RateLimiter, RetryPolicy
from accord.errors import AuthError, TransientError

BASE = "https://erp.example.test/api/v2.0"


class CountingAuth(CredentialAuth):
    """Hands out t1, t2, ...: a new token each time one is fetched."""

    def __init__(self) -> None:
        super().__init__()
        self.token = 0

    def fetch(self) -> tuple[str, float | None]:
        self.token += 1
        return f"Bearer t{self.token}", None


def make(auth: CountingAuth | None = None, **policy: float) -> tuple[HttpClient, list[float]]:
    slept: list[float] = []
    client = HttpClient(
        BASE,
        connection="erp",
        auth=auth,
        sleep=slept.append,
        policy=RetryPolicy(**{"max_attempts": 4, "base_delay": 0.01, "jitter": 0, **policy}),
    )
    return client, slept


@respx.mock
def test_429_without_retry_after_backs_off_then_succeeds() -> None:
    route = respx.get(f"{BASE}/companies").mock(
        side_effect=[httpx.Response(429), httpx.Response(503), httpx.Response(200, json={})]
    )
    client, slept = make()
    assert client.get("companies").status_code == 200
    assert route.call_count == 3 and client.request_count == 3
    assert slept == [0.01, 0.02]


@respx.mock
def test_retry_after_is_honoured_and_capped() -> None:
    respx.get(f"{BASE}/x").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(503, headers={"Retry-After": "999"}),
            httpx.Response(200),
        ]
    )
    client, slept = make(max_retry_after=10)
    client.get("x")
    assert slept == [2.0, 10]


@respx.mock
def test_gives_up_with_transient_error_naming_the_url() -> None:
    respx.get(f"{BASE}/x").mock(return_value=httpx.Response(503))
    client, _ = make()
    with pytest.raises(TransientError, match=r"connection 'erp': GET .*/x still answered 503"):
        client.get("x")
    assert client.request_count == 4


@respx.mock
def test_connect_errors_are_retried_then_reported() -> None:
    respx.get(f"{BASE}/x").mock(side_effect=httpx.ConnectError("refused"))
    client, slept = make()
    with pytest.raises(TransientError, match="failed after 4 attempt"):
        client.get("x")
    assert len(slept) == 3


@respx.mock
def test_read_timeout_on_a_post_is_not_resent() -> None:
    route = respx.post(f"{BASE}/$batch").mock(side_effect=httpx.ReadTimeout("slow"))
    client, _ = make()
    with pytest.raises(TransientError):
        client.request("POST", "$batch", content=b"{}")
    assert route.call_count == 1


@respx.mock
def test_401_renews_the_token_once() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(401 if len(seen) == 1 else 200)

    respx.get(f"{BASE}/x").mock(side_effect=answer)
    auth = CountingAuth()
    client, _ = make(auth)
    assert client.get("x").status_code == 200
    assert seen == ["Bearer t1", "Bearer t2"] and auth.token == 2
    assert client.request_count == 2  # the renewal's resend is counted


@respx.mock
def test_second_401_raises_auth_error() -> None:
    respx.get(f"{BASE}/x").mock(
        return_value=httpx.Response(
            401, json={"error": {"code": "Authentication_InvalidCredentials", "message": "nope"}}
        )
    )
    client, _ = make(CountingAuth())
    with pytest.raises(AuthError, match="credentials for connection 'erp' were refused") as err:
        client.get("x")
    assert "Authentication_InvalidCredentials: nope" in str(err.value)
    assert client.request_count == 2


@respx.mock
def test_client_errors_are_returned_not_retried() -> None:
    route = respx.get(f"{BASE}/x").mock(return_value=httpx.Response(404))
    client, _ = make()
    assert client.get("x").status_code == 404
    assert route.call_count == 1


@respx.mock
def test_next_links_pass_through_unchanged() -> None:
    link = "https://erp.example.test/api/v2.0/customers?$skiptoken=a%27b"
    route = respx.get(link).mock(return_value=httpx.Response(200))
    client, _ = make()
    client.get(link)
    assert route.called


def test_rate_limiter_blocks_until_the_window_has_room() -> None:
    limiter = RateLimiter("2/second", "k")
    assert limiter.try_acquire() and limiter.try_acquire()
    assert not limiter.try_acquire()
    limiter.acquire()  # blocks until the moving window slides
    assert limiter.waited > 0


@respx.mock
def test_a_500_is_retried_for_a_get_but_returned_for_a_post() -> None:
    get = respx.get(f"{BASE}/x").mock(side_effect=[httpx.Response(500), httpx.Response(200)])
    post = respx.post(f"{BASE}/$batch").mock(return_value=httpx.Response(500))
    client, slept = make()
    assert client.get("x").status_code == 200 and get.call_count == 2
    assert client.request("POST", "$batch", content=b"{}").status_code == 500
    assert post.call_count == 1  # it may have been processed: not sent again
    assert client.request_count == 3 and client.retry_count == 1 and len(slept) == 1


@respx.mock
def test_a_post_is_resent_when_the_service_did_not_act_on_it() -> None:
    route = respx.post(f"{BASE}/$batch").mock(
        side_effect=[httpx.Response(503), httpx.Response(429), httpx.Response(200)]
    )
    client, _ = make()
    assert client.request("POST", "$batch", content=b"{}").status_code == 200
    assert route.call_count == 3 and client.retry_count == 2


@respx.mock
def test_a_system_row_decides_by_error_code() -> None:
    from accord.connectors.http import DEFAULT_ERRORS, Outcome, Rule

    busy = Rule(400, Outcome.THROTTLE, when=lambda f: f.code == "Busy", unsent=True)
    body = {"error": {"code": "Busy", "message": "try later"}}
    route = respx.get(f"{BASE}/x").mock(
        side_effect=[httpx.Response(400, json=body), httpx.Response(200)]
    )
    slept: list[float] = []
    client = HttpClient(
        BASE,
        connection="erp",
        errors=DEFAULT_ERRORS.with_rules("erp", busy),
        sleep=slept.append,
        policy=RetryPolicy(base_delay=0.01, jitter=0),
    )
    assert client.get("x").status_code == 200 and route.call_count == 2


@respx.mock
def test_the_last_failure_carries_the_capped_retry_after() -> None:
    respx.get(f"{BASE}/x").mock(
        return_value=httpx.Response(
            429, headers={"Retry-After": "60"}, json={"error": {"code": "TooMany", "message": "m"}}
        )
    )
    client, slept = make(max_retry_after=2)
    with pytest.raises(
        TransientError, match=r"still answered 429 after 4 attempt.*TooMany: m"
    ) as e:
        client.get("x")
    assert e.value.retry_after == 2 and slept == [2, 2, 2]


@respx.mock
def test_every_request_on_the_wire_takes_a_rate_limit_slot() -> None:
    respx.get(f"{BASE}/x").mock(side_effect=[httpx.Response(401), httpx.Response(200)])
    limiter = RateLimiter("100/second", "erp-test-slots")
    client = HttpClient(BASE, connection="erp", auth=CountingAuth(), limiter=limiter)
    client.get("x")
    assert client.request_count == 2
    assert sum(limiter.try_acquire() for _ in range(100)) == 98  # two slots were taken


def test_an_in_process_window_follows_the_limiters_clock_and_starts_no_thread() -> None:
    now = [1000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter("3/10 seconds", "local", clock=lambda: now[0], sleep=sleep)
    threads = threading.active_count()
    assert [limiter.try_acquire() for _ in range(4)] == [True, True, True, False]
    now[0] += 4.0
    limiter.acquire()  # the first hit leaves the window 10 s after it was taken
    assert sum(slept) == pytest.approx(6.0) and limiter.waited == pytest.approx(6.0)
    assert threading.active_count() == threads
