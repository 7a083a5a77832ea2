"""Each test configures logging for itself; afterwards the defaults come back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accord.observability import configure_logging


@pytest.fixture(autouse=True)
def default_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("ACCORD_LOG_LEVEL", raising=False)
    yield
    configure_logging("WARNING")
