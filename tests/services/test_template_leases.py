"""An upgrade refuses while a pass of the integration is running (it would go on with the
old template); a lease whose holder is gone or expired does not stop it."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path

import pytest

from accord.errors import ConfigError
from accord.services import templates
from accord.state.leases import boot_id
from accord.state.models import Lease
from accord.state.store import load_integration
from accord.state.types import utcnow
from tests.services.test_state_copy import _source


def test_upgrade_waits_for_running_passes(tmp_path: Path) -> None:
    hub = _source(tmp_path / "home")  # revision 2 lacks the last bc-sales mapping
    try:
        with hub.db.session() as session:
            mid = load_integration(session).mapping_ids["CUSTOMER"]
            session.add(
                Lease(
                    key=f"pass:{mid}:to_crm",
                    owner="other",
                    expires_at=utcnow() + timedelta(seconds=30),
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    boot_id=boot_id(),
                )
            )
        with pytest.raises(ConfigError, match="a pass of mapping CUSTOMER is running"):
            templates.upgrade(hub, "bc-sales")
        assert [r.revision for r in templates.history(hub)] == [1, 2]
        with hub.db.session() as session:
            lease = session.get(Lease, f"pass:{mid}:to_crm")
            assert lease is not None
            lease.expires_at = utcnow() - timedelta(seconds=1)
        assert templates.upgrade(hub, "bc-sales").revision == 3
    finally:
        hub.close()
