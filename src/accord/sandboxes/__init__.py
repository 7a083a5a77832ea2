"""Protocol-faithful sandboxes (emulators) of the connected systems.

``run_sandboxes([...])`` serves them on 127.0.0.1 over HTTPS for tests, the demo and
benchmarks; ``serve_forever`` backs ``accord sandbox up``.
"""

from accord.sandboxes.runner import (
    SANDBOXES,
    SandboxHandle,
    SandboxSet,
    run_sandboxes,
    serve_forever,
)

__all__ = ["SANDBOXES", "SandboxHandle", "SandboxSet", "run_sandboxes", "serve_forever"]
