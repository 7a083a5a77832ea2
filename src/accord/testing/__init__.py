"""Test helpers shipped with Accord: the connector contract kit and sandbox settings."""

from accord.testing.sandbox import settings_from_sandbox, system_of

__all__ = ["settings_from_sandbox", "system_of"]
