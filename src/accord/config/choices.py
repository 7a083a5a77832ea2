"""Name the valid choices for a name that is not one of them, closest first."""

from __future__ import annotations

import difflib
from collections.abc import Collection

SHOWN = 25
"""Valid names listed in a message at most (the rest are counted)."""


def choices(name: str, valid: Collection[str]) -> str:
    """``did you mean 'x'? valid: a, b, …`` for a name that is not among ``valid``."""
    ordered = sorted(valid)
    lowered = {v.lower(): v for v in ordered}
    close = [lowered[name.lower()]] if name.lower() in lowered else []
    close += [
        c for c in difflib.get_close_matches(name, ordered, n=3, cutoff=0.6) if c not in close
    ]
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    shown = ", ".join(ordered[:SHOWN])
    more = f", … ({len(ordered) - SHOWN} more)" if len(ordered) > SHOWN else ""
    return f"{hint}valid: {shown or '(none)'}{more}"
