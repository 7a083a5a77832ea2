"""A connector plugin installed only for a test: a dist-info folder on ``sys.path`` whose
``entry_points.txt`` registers it, exactly as a separately installed package would."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

SYSTEM = "echo-erp"

MODULE = '''
"""A test-only connector: API-key auth and an ``account`` field; check() does no I/O."""

from typing import Any, ClassVar

from accord.connectors.registry import ConnectorPlugin
from accord.connectors.settings import ConnectionSettings

CHECKED: list[str] = []


class EchoSettings(ConnectionSettings):
    accepted_auth: ClassVar[tuple[str, ...]] = ("api_key", "basic")
    system: str = "echo-erp"
    account: str


class EchoConnector:
    def __init__(self, settings: EchoSettings) -> None:
        self.settings = settings
        self.name = settings.name

    def check(self) -> None:
        CHECKED.append(self.settings.account)

    def close(self) -> None:
        return None


def build(settings: Any) -> EchoConnector:
    return EchoConnector(settings)


PLUGIN = ConnectorPlugin("echo-erp", EchoSettings, build)
NOT_A_PLUGIN = object()
'''


def install_plugin(
    root: Path, monkeypatch: pytest.MonkeyPatch, entry: str = f"{SYSTEM} = echo_plugin:PLUGIN"
) -> Path:
    """Write the module and a dist-info registering ``entry``; put ``root`` on sys.path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "echo_plugin.py").write_text(MODULE)
    info = root / "accord_echo_plugin-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: accord-echo-plugin\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            f"""\
            [accord.connectors]
            {entry}
            """
        )
    )
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delitem(sys.modules, "echo_plugin", raising=False)
    return root
