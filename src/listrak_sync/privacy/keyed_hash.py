"""Keyed hashes of forgotten email addresses and phone numbers, and the salt behind them.

What listrak-sync keeps about a forgotten person is ``HMAC-SHA256(salt, "email:" + address)``
(or ``"phone:" + E.164``), never the address or number: enough to recognise them in a later
audience, not enough to recover them (without the salt a dictionary of likely addresses cannot
be hashed). The salt is 32 random bytes in ``forget.salt`` in the project's state folder,
created on first use with mode 0600 and never printed. Losing it makes the stored hashes
useless (forgotten people could be re-added): back it up with the state folder.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

__all__ = ["SALT_FILE", "KeyedHasher", "load_salt"]

SALT_FILE = "forget.salt"
_SALT_BYTES = 32


def load_salt(state_folder: Path, *, create: bool) -> bytes | None:
    """The project's salt; created (0600) when ``create`` and missing, else None when missing."""
    path = state_folder / SALT_FILE
    try:
        salt = path.read_bytes()
    except FileNotFoundError:
        if not create:
            return None
        state_folder.mkdir(parents=True, exist_ok=True)
        salt = secrets.token_bytes(_SALT_BYTES)
        # O_EXCL: two runs creating the salt at once must not end with two different salts.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(fd, "wb") as out:
            out.write(salt)
            out.flush()
            os.fsync(out.fileno())
        return salt
    if len(salt) < 16:
        raise ValueError(f"{path} is damaged ({len(salt)} bytes); restore it from a backup")
    return salt


class KeyedHasher:
    """Hashes normalised identifiers with the project's salt."""

    def __init__(self, salt: bytes) -> None:
        self._salt = salt

    def __repr__(self) -> str:
        return "KeyedHasher(salt=<hidden>)"

    def email(self, address: str) -> str:
        """For a normalised (trimmed, lower-cased) address."""
        return self._digest("email:" + address)

    def phone(self, e164: str) -> str:
        """For an E.164 number (``+12155550101``)."""
        return self._digest("phone:" + e164)

    def request(self, email: str | None, phone: str | None) -> str:
        """One deletion request: the pair of identifiers it names."""
        return self._digest(f"request:{email or ''}|{phone or ''}")

    def _digest(self, text: str) -> str:
        return hmac.new(self._salt, text.encode("utf-8"), hashlib.sha256).hexdigest()
