"""The numbers of Business Central's webhook behaviour (api-protocols.md §1 "Webhooks")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass
class WebhookOptions:
    """The numbers of BC's webhook behaviour; tests shorten the times."""

    delay: float = 30.0
    """Seconds from the first change to the notification (changes meanwhile coalesce)."""
    max_changes: int = 1000
    """More changes than this in one window become one ``collection`` notification."""
    lifetime: timedelta = timedelta(days=3)
    max_subscriptions: int = 200
    retry_base: float = 30.0
    """First retry delay after a 408, 429 or 5xx (doubling); retries stop after ``retry_for``."""
    retry_for: timedelta = timedelta(hours=36)
    poll: float = 0.05
    """How often the notifier looks for changes."""
