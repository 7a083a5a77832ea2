"""State schema, time zones, secrets, leases and coupling queries on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from accord.config.loader import load_template
from accord.connectors.business_central.connector import BusinessCentralSettings
from accord.connectors.settings import ClientCredentials
from accord.errors import ConfigError
from accord.services.connections import load_connection, save_connection
from accord.state import couplings, leases
from accord.state.db import Database
from accord.state.models import Watermark
from accord.state.secrets import SecretBox
from accord.state.store import load_integration, save_integration


@pytest.fixture
def db(database_url: str) -> Database:
    return Database(database_url)


def test_migrations_create_every_table(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "connections",
        "integrations",
        "table_mappings",
        "couplings",
        "watermarks",
        "jobs",
        "job_errors",
        "conflicts",
        "leases",
    } <= tables
    assert "field_mappings" not in tables  # the spec is one document since revision 0003
    Database(db.url)  # migrating again is a no-op


def test_times_come_back_in_utc_whatever_zone_went_in(db: Database) -> None:
    integration = _integration(db)
    oslo = timezone(timedelta(hours=1))
    local_time = datetime(2026, 6, 1, 12, 0, 0, 123000, tzinfo=oslo)
    with db.session() as s:
        s.add(
            Watermark(mapping_id=integration.mapping_ids["CUSTOMER"], role="erp", since=local_time)
        )
    with db.session() as s:
        mark = s.get(Watermark, (integration.mapping_ids["CUSTOMER"], "erp"))
        assert mark is not None and mark.since == local_time
        assert mark.since.tzinfo is UTC and mark.since.hour == 11


def test_naive_datetimes_are_refused(db: Database) -> None:
    integration = _integration(db)
    with pytest.raises(Exception, match="aware"), db.session() as s:
        s.add(
            Watermark(
                mapping_id=integration.mapping_ids["CUSTOMER"],
                role="erp",
                since=datetime(2026, 1, 1),
            )
        )
        s.flush()


def test_secrets_are_encrypted_at_rest(db: Database, tmp_path: Path) -> None:
    box = SecretBox.from_settings(None, tmp_path)
    settings = BusinessCentralSettings(
        name="bc",
        base_url="https://x/api/v2.0",
        auth=ClientCredentials(
            token_url="https://x/t/oauth2/v2.0/token",
            client_id="id",
            client_secret=SecretStr("s3cr3t-value"),
        ),
    )
    with db.session() as s:
        save_connection(s, box, settings)
    with db.engine.connect() as conn:
        raw = conn.exec_driver_sql("select settings from connections").scalar_one()
    assert "s3cr3t-value" not in str(raw)
    with db.session() as s:
        auth = load_connection(s, box, "bc").auth
        assert isinstance(auth, ClientCredentials)
        assert auth.client_secret.get_secret_value() == "s3cr3t-value"
    other = SecretBox.from_settings(None, tmp_path / "elsewhere")
    with pytest.raises(ConfigError, match="cannot be decrypted"), db.session() as s:
        load_connection(s, other, "bc")


def _integration(db: Database):  # type: ignore[no-untyped-def]
    with db.session() as s:
        save_integration(s, "main", load_template("bc-sales"), {"erp": "bc", "crm": "dv"})
    with db.session() as s:
        return load_integration(s)


def test_integration_round_trips_its_template(db: Database) -> None:
    stored = _integration(db)
    original = load_template("bc-sales")
    assert [m.name for m in stored.template.mappings] == [m.name for m in original.mappings]
    # stored once with every field mapping's id filled in
    assert stored.template.mapping("CUSTOMER") == original.with_field_ids().mapping("CUSTOMER")
    assert all(f.id for m in stored.template.mappings for f in m.fields)


def test_a_record_couples_once_per_mapping(db: Database) -> None:
    mid = _integration(db).mapping_ids["CUSTOMER"]
    with db.session() as s:
        s.add(couplings.new_coupling(mid, erp="L1", crm="R1"))
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(couplings.new_coupling(mid, erp="L1", crm="R2"))
    with db.session() as s:  # several intents without a crm id yet are fine
        s.add(couplings.new_coupling(mid, "creating", erp="L2"))
        s.add(couplings.new_coupling(mid, "creating", erp="L3"))
    with db.session() as s:
        found = couplings.by_ids(s, mid, "crm", ["R1"])
        assert couplings.record_id(found["R1"], "erp") == "L1"
        assert set(couplings.by_ids(s, mid, "erp", ["L1", "L2", "L9"])) == {"L1", "L2"}


def test_translate_and_retry_queries(db: Database) -> None:
    ids = _integration(db).mapping_ids
    with db.session() as s:
        person = couplings.new_coupling(ids["SALESPEOPLE"], erp="sp1", crm="u1")
        person.links["erp"].natural_key = "JO"
        s.add(person)
        failed = couplings.new_coupling(ids["CUSTOMER"], erp="c1", crm="a1")
        failed.links["erp"].last_result = "failure"
        skipped = couplings.new_coupling(ids["CUSTOMER"], erp="c2", crm="a2")
        skipped.links["erp"].last_result = "failure"
        skipped.skipped = True
        s.add_all([failed, skipped])
    with db.session() as s:
        by_key = couplings.translate(
            s, ids["SALESPEOPLE"], ("erp", "key"), ("crm", "id"), ["JO", "XX"]
        )
        assert by_key == {"JO": "u1"}
        back = couplings.translate(s, ids["SALESPEOPLE"], ("crm", "id"), ("erp", "key"), ["u1"])
        assert back == {"u1": "JO"}
        assert couplings.retry_first(s, ids["CUSTOMER"], "erp") == ["c1"]
        assert couplings.retry_first(s, ids["CUSTOMER"], "crm") == []


def test_only_one_worker_gets_a_lease(db: Database) -> None:
    winners: list[str] = []
    barrier = threading.Barrier(4)

    def worker(name: str) -> None:
        barrier.wait()
        with db.session() as s:
            if leases.acquire(s, "pass:1:to_remote", name, 60):
                winners.append(name)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    with db.session() as s:
        assert leases.acquire(s, "pass:1:to_remote", winners[0], 60)  # renewal
        leases.release(s, "pass:1:to_remote", winners[0])
    with db.session() as s:
        assert leases.acquire(s, "pass:1:to_remote", "someone-else", 60)


def test_expired_lease_can_be_taken_over(db: Database) -> None:
    with db.session() as s:
        assert leases.acquire(s, "k", "a", -1)
    with db.session() as s:
        assert leases.acquire(s, "k", "b", 60)
