"""A running pair of sandboxes shared by the sandbox tests, plus HTTP helpers."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from accord.sandboxes import SandboxHandle, SandboxSet, run_sandboxes

RECORDS = 240


def tls(handle: SandboxHandle) -> ssl.SSLContext:
    """An SSL context trusting the sandbox CA."""
    return ssl.create_default_context(cafile=handle.ca_cert)


def token_for(handle: SandboxHandle) -> str:
    """Client-credentials token from the sandbox's own token endpoint."""
    resp = httpx.post(
        handle.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": handle.client_id,
            "client_secret": handle.client_secret,
            "scope": handle.scope,
        },
        verify=tls(handle),
    )
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def api_client(handle: SandboxHandle) -> httpx.Client:
    """An httpx client with a bearer token, trusting the sandbox CA."""
    return httpx.Client(
        base_url=handle.base_url + "/",
        verify=tls(handle),
        headers={"Authorization": f"Bearer {token_for(handle)}", "Accept": "application/json"},
        timeout=30,
    )


@pytest.fixture(scope="session")
def sandboxes() -> Iterator[SandboxSet]:
    with run_sandboxes(["business-central", "dataverse"], records=RECORDS, seed=7) as sx:
        yield sx


@pytest.fixture(scope="session")
def bc(sandboxes: SandboxSet) -> SandboxHandle:
    return sandboxes["business-central"]


@pytest.fixture(scope="session")
def dv(sandboxes: SandboxSet) -> SandboxHandle:
    return sandboxes["dataverse"]


@pytest.fixture()
def bc_http(bc: SandboxHandle) -> Iterator[httpx.Client]:
    bc.faults.clear()
    with api_client(bc) as client:
        yield client
    bc.faults.clear()
    bc.store.clear_rejects()


@pytest.fixture()
def dv_http(dv: SandboxHandle) -> Iterator[httpx.Client]:
    dv.faults.clear()
    with api_client(dv) as client:
        yield client
    dv.faults.clear()
    dv.store.clear_rejects()
