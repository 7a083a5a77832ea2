"""Encryption of connection secrets at rest (Fernet: AES-128-CBC + HMAC-SHA256).

The key lives with the state it opens (ADR 0009): beside a SQLite database file as
``secret.key`` in the same folder; for PostgreSQL in ``<home>/secret.key`` unless
``ACCORD_SECRET_KEY`` gives it. An older layout (the key in ``<home>`` while the SQLite file
lives elsewhere) is still read.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from accord.errors import ConfigError

KEY_FILE = "secret.key"


class SecretBox:
    """Encrypts and decrypts secrets with one key, read (or made) when first needed."""

    def __init__(
        self,
        key: str | bytes | None = None,
        *,
        path: Path | None = None,
        fallbacks: Sequence[Path] = (),
    ):
        self._fernet: Fernet | MultiFernet | None = None
        self._source = "ACCORD_SECRET_KEY"
        self.path = path
        self.fallbacks = [p for p in fallbacks if p != path]
        if key:
            self._fernet = self._make(key, "ACCORD_SECRET_KEY")
        elif path is None:
            raise ConfigError("no secret key: give ACCORD_SECRET_KEY or a key file")

    @staticmethod
    def _make(key: str | bytes, source: str) -> Fernet:
        try:
            return Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                "the secret key is not a valid Fernet key (32 url-safe base64 bytes)",
                location=source,
            ) from exc

    @classmethod
    def from_settings(cls, key: str | None, home: Path) -> SecretBox:
        """Use ``key`` if given, else the key file in ``home`` (made now, mode 0600)."""
        box = cls(key, path=home / KEY_FILE)
        box._key(create=True)
        return box

    @property
    def location(self) -> str:
        """Where the key in use comes from (a file path or ``ACCORD_SECRET_KEY``)."""
        return self._source

    @property
    def can_open(self) -> bool:
        """Whether a key is at hand (given, or a key file exists) without making one."""
        return self._fernet is not None or self.existing_file() is not None

    def existing_file(self) -> Path | None:
        """The key file that would be read: the primary path, else an older layout's."""
        for candidate in [p for p in (self.path, *self.fallbacks) if p is not None]:
            if candidate.exists():
                return candidate
        return None

    def _key(self, *, create: bool) -> Fernet | MultiFernet:
        if self._fernet is not None:
            return self._fernet
        found = self.existing_file()
        if found is None:
            assert self.path is not None
            if not create:
                raise ConfigError(
                    f"no secret key at {self.path}: stored secrets cannot be opened "
                    "(restore the key file beside the state, or set ACCORD_SECRET_KEY)",
                    location="secret key",
                )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
            found = self.path
        self._source = str(found)
        keys = [self._make(found.read_bytes().strip(), str(found))]
        for other in self.fallbacks:  # an older layout's key still opens what it sealed
            if other != found and other.exists():
                with contextlib.suppress(ConfigError):
                    keys.append(self._make(other.read_bytes().strip(), str(other)))
        self._fernet = keys[0] if len(keys) == 1 else MultiFernet(keys)
        return self._fernet

    def encrypt(self, plain: str) -> str:
        return self._key(create=True).encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        fernet = self._key(create=False)
        try:
            return fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ConfigError(
                f"a stored secret cannot be decrypted with the key from {self._source} "
                "(was ACCORD_SECRET_KEY or the key file changed?)",
                location="connections",
            ) from exc
