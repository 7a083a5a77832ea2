"""Transport-level cases a real server cannot easily produce (respx)."""

from __future__ import annotations

import httpx
import pytest
import respx

from accord.connectors.http import HttpClient, RateLimiter, RetryPolicy
from accord.errors import AuthError, TransientError

BASE = "https://erp.example.test/api/v2.0"


class CountingAuth:
    def __init__(self) -> None:
        self.token = 1
        self.invalidated = 0

    def authorization(self) -> str | None:
        return f"Bearer t{self.token}"

    def invalidate(self) -> None:
        self.invalidated += 1
        self.token += 1


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
    assert seen == ["Bearer t1", "Bearer t2"] and auth.invalidated == 1


@respx.mock
def test_second_401_raises_auth_error() -> None:
    respx.get(f"{BASE}/x").mock(
        return_value=httpx.Response(
            401, json={"error": {"code": "Authentication_InvalidCredentials", "message": "nope"}}
        )
    )
    client, _ = make(CountingAuth())
    with pytest.raises(AuthError, match="credentials for connection 'erp' were refused"):
        client.get("x")


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
