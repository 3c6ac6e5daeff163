"""Passwords, roles and login throttling for the web console.

Passwords are checked against argon2 hashes from the project file's ``console.users``. A login
with an unknown user still spends the time of one hash check, so response times do not tell
which user names exist. Repeated failures for one user name, or from one address, lock further
attempts for a while (in memory: a restart forgets them, which an attacker cannot trigger).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..config.console import ROLES, ConsoleConfig, Role

__all__ = ["LoginThrottle", "allows", "hash_password", "verify_login"]

_HASHER = PasswordHasher()
# Checked against when the user name is unknown, so both paths cost one argon2 verification.
_DUMMY_HASH = _HASHER.hash("listrak-sync console: no such user")


def hash_password(password: str) -> str:
    """The argon2id hash to put in ``console.users.NAME.password_hash``."""
    if len(password) < 12:
        raise ValueError("a console password has at least 12 characters")
    return _HASHER.hash(password)


def verify_login(console: ConsoleConfig, user: str, password: str) -> Role | None:
    """The user's role when ``password`` is theirs, else None."""
    found = console.users.get(user)
    try:
        _HASHER.verify(found.password_hash if found else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return found.role if found else None


def allows(role: str | None, needed: Role) -> bool:
    """Whether ``role`` may do what ``needed`` may (admin > marketer > viewer)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


@dataclass
class LoginThrottle:
    """Failed logins per user name and per client address within a window.

    After ``per_user`` failures for a user name (or ``per_address`` from one address) within
    ``window`` seconds, further attempts are refused until the window has passed since the last
    failure, even with the right password."""

    per_user: int = 5
    per_address: int = 20
    window: float = 900.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, user: str, address: str) -> float:
        """Seconds until ``user`` may try again from ``address`` (0: now)."""
        with self._lock:
            now = self.clock()
            waits = [
                self._wait(f"user:{user.lower()}", self.per_user, now),
                self._wait(f"address:{address}", self.per_address, now),
            ]
        return max(waits)

    def failed(self, user: str, address: str) -> None:
        with self._lock:
            now = self.clock()
            for key in (f"user:{user.lower()}", f"address:{address}"):
                recent = [t for t in self._failures.get(key, []) if now - t < self.window]
                self._failures[key] = [*recent, now]

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{user.lower()}", None)

    def _wait(self, key: str, limit: int, now: float) -> float:
        recent = [t for t in self._failures.get(key, []) if now - t < self.window]
        if len(recent) < limit:
            return 0.0
        return max(0.0, self.window - (now - recent[-1]))
