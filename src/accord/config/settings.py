"""Process-wide settings from the environment (``ACCORD_*``) with sensible local defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where Accord keeps its state and how it reaches shared services."""

    model_config = SettingsConfigDict(env_prefix="ACCORD_", extra="ignore")

    home: Path = Path(".accord")
    """Folder for the embedded database, the secret key and sandbox certificates."""
    database_url: str | None = None
    """Any SQLAlchemy URL; default ``sqlite:///<home>/accord.db``."""
    secret_key: str | None = None
    """Fernet key for secrets at rest; default: a key file made once in ``home``."""
    retention_days: int = 90
    """Job logs, error rows and resolved conflicts older than this are pruned (0: keep all)."""
    rate_limit_storage: str = "memory://"
    """Storage for shared rate limits (``redis://127.0.0.1:6379`` across workers)."""

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'accord.db').resolve()}"
