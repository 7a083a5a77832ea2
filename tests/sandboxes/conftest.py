"""A running pair of sandboxes shared by the sandbox tests, plus HTTP helpers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from accord.sandboxes import SandboxHandle, SandboxSet, run_sandboxes
from accord.testing.sandbox import api_client
from accord.testing.sandbox import sandbox_tls as tls
from accord.testing.sandbox import sandbox_token as token_for

__all__ = ["api_client", "tls", "token_for"]

RECORDS = 240


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
