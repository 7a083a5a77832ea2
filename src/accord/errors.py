"""One error tree for Accord: a phase (where it happened) crossed with a kind.

Kinds decide what the engine does next:

* :class:`TransientError` -- try again later (throttling, timeouts, 5xx, dropped connections).
* :class:`TerminalError` -- stop this unit of work and tell a person (bad credentials,
  invalid configuration, unknown entity).
* :class:`SkippableError` -- this one record is bad; log it, go on with the rest.
"""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    """Where in the flow an error arose."""

    CONFIG = "config"
    AUTH = "auth"
    CONNECT = "connect"
    READ = "read"
    MAP = "map"
    WRITE = "write"
    STATE = "state"
    SANDBOX = "sandbox"


class AccordError(Exception):
    """Base of every error Accord raises on purpose."""

    kind = "error"

    def __init__(self, message: str, *, phase: Phase = Phase.CONFIG, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.phase = phase
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class TransientError(AccordError):
    """Worth retrying: the same call may succeed later."""

    kind = "transient"

    def __init__(
        self,
        message: str,
        *,
        phase: Phase = Phase.CONNECT,
        detail: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, phase=phase, detail=detail)
        self.retry_after = retry_after


class TerminalError(AccordError):
    """Not worth retrying until a person changes something."""

    kind = "terminal"


class SkippableError(AccordError):
    """Concerns one record only; the rest of the work goes on."""

    kind = "skippable"


class ConfigError(TerminalError):
    """An invalid template, configuration file or setting.

    ``location`` names the file and the place inside it (``file.yaml: mappings[2].direction``).
    """

    def __init__(self, message: str, *, location: str | None = None, detail: str | None = None):
        full = f"{location}: {message}" if location else message
        super().__init__(full, phase=Phase.CONFIG, detail=detail)
        self.location = location


class AuthError(TerminalError):
    """Credentials were refused or a token could not be obtained or renewed."""

    def __init__(self, message: str, *, detail: str | None = None):
        super().__init__(message, phase=Phase.AUTH, detail=detail)


class UnknownEntityError(TerminalError):
    """A mapping names an entity or field the connected system does not have."""

    def __init__(self, message: str, *, detail: str | None = None):
        super().__init__(message, phase=Phase.CONFIG, detail=detail)


class ApiGroupMissingError(UnknownEntityError):
    """An entity served by an API group (an extension) the tenant has not installed."""

    def __init__(self, message: str, *, group: str, detail: str | None = None):
        super().__init__(message, detail=detail)
        self.group = group
