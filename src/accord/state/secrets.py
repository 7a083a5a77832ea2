"""Encryption of connection secrets at rest (Fernet: AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from accord.errors import ConfigError


class SecretBox:
    """Encrypts and decrypts secrets with one key."""

    def __init__(self, key: str | bytes):
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                "the secret key is not a valid Fernet key (32 url-safe base64 bytes)",
                location="ACCORD_SECRET_KEY",
            ) from exc

    @classmethod
    def from_settings(cls, key: str | None, home: Path) -> SecretBox:
        """Use ``key`` if given, else the key file in ``home`` (made once, mode 0600)."""
        if key:
            return cls(key)
        path = home / "secret.key"
        if not path.exists():
            home.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
        return cls(path.read_bytes().strip())

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ConfigError(
                "a stored secret cannot be decrypted with the current key "
                "(was ACCORD_SECRET_KEY or the key file changed?)",
                location="connections",
            ) from exc
