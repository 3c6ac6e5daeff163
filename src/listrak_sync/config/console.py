"""The ``console:`` section of ``listrak-sync.yml``: who may use the web console, and as what.

Only argon2 hashes are stored (``listrak-sync ui hash-password`` prints one); the file may be in
git. The section is read again on every request, so removing a user or changing a role in a text
editor takes effect at once.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

__all__ = ["ROLES", "ConsoleConfig", "ConsoleUser", "Role"]

Role = Literal["viewer", "marketer", "admin"]
# Each role can do what the roles before it can.
ROLES: tuple[Role, ...] = ("viewer", "marketer", "admin")

_STRICT = ConfigDict(extra="forbid", frozen=True)
UserName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@\-]*$", max_length=100)
]


class ConsoleUser(BaseModel):
    """One person: an argon2 password hash and a role."""

    model_config = _STRICT

    password_hash: str
    role: Role = "viewer"

    @field_validator("password_hash")
    @classmethod
    def _argon2(cls, value: str) -> str:
        # A plain password pasted here by mistake must not be accepted (nor shown back).
        if not value.startswith("$argon2"):
            raise ValueError("not an argon2 hash: print one with `listrak-sync ui hash-password`")
        return value


class ConsoleConfig(BaseModel):
    """``console:``: the users of ``listrak-sync ui`` (none: nobody can log in)."""

    model_config = _STRICT

    users: dict[UserName, ConsoleUser] = Field(default_factory=dict)
    session_hours: float = Field(default=8.0, gt=0, le=24 * 30)
