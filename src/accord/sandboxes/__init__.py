"""Protocol-faithful sandboxes (emulators) of the connected systems.

``run_sandboxes([...])`` serves them on 127.0.0.1 over HTTPS for tests, the demo and
benchmarks; ``serve_forever`` backs ``accord sandbox up``. Sandboxes register their factories
in the ``accord.sandboxes`` entry-point group (``SANDBOXES`` reads it).
"""

from accord.sandboxes.runner import (
    ENTRY_POINT_GROUP,
    SANDBOXES,
    SandboxHandle,
    SandboxSet,
    run_sandboxes,
    serve_forever,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "SANDBOXES",
    "SandboxHandle",
    "SandboxSet",
    "run_sandboxes",
    "serve_forever",
]
