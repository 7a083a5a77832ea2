"""Shared fixtures: state databases on SQLite and PostgreSQL, services that may be missing.

A test that needs a service or ``../shared`` skips with a reason on a user's machine, and
fails instead when ``CI=true``: CI never skips silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("ACCORD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ACCORD_SHARED_DIR", REPO.parent / "shared"))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def need(ok: bool, reason: str) -> None:
    """Skip (or, in CI, fail) when a prerequisite is missing."""
    if ok:
        return
    if in_ci():
        pytest.fail(f"CI requires it: {reason}")
    pytest.skip(reason)


def _pg_connect(dbname: str = "postgres"):  # type: ignore[no-untyped-def]
    import psycopg

    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(f"{base}/{dbname}", autocommit=True, connect_timeout=3)


def pg_available() -> bool:
    try:
        with _pg_connect():
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    need(SHARED.is_dir(), f"{SHARED} (the shared spec files) is not beside this checkout")
    return SHARED


@contextmanager
def fresh_postgres(prefix: str = "accord_test", template: str | None = None) -> Iterator[str]:
    """The URL of a fresh PostgreSQL database, dropped afterwards: empty, or a copy of the
    database ``template`` (which nobody may be connected to)."""
    need(pg_available(), "PostgreSQL is not reachable at " + PG_ADMIN_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with _pg_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
        # test databases only: a commit does not wait for its WAL flush (a crash of the
        # PostgreSQL server, never of Accord, could lose the last commits; tests kill only
        # Accord). The product's databases keep PostgreSQL's default.
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        with _pg_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    with fresh_postgres() as url:
        yield url


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[str]:
    """The name of a PostgreSQL database migrated to the newest revision, made once per
    process (xdist worker), for tests to start from copies of it."""
    from accord.state.db import make_engine, migrate

    with fresh_postgres("accord_template") as url:
        engine = make_engine(url)
        try:
            migrate(engine)
        finally:
            engine.dispose()  # a database being copied may have no connections
        yield url.rsplit("/", 1)[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every state and integration test runs on both databases. A world (``make_world``)
    migrates its database first thing, so its PostgreSQL database starts as a copy of one
    already migrated (the same schema, without running the migrations per test); the other
    tests get an empty database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
    elif "make_world" in request.fixturenames:
        with fresh_postgres(template=request.getfixturevalue("migrated_postgres")) as url:
            yield url
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.fixture(autouse=True)
def fresh_metadata() -> Iterator[None]:
    """Metadata documents are cached per connection and URL in a process; a test's sandboxes
    may reuse a port an earlier test's had, so each test starts without them."""
    from accord.connectors.odata.described import forget_metadata

    forget_metadata()
    yield


from tests.worlds import make_world  # noqa: E402,F401  (fixture used across folders)
