"""Credentials: named in the config, valued from environment variables or the secrets file.

A secret field never takes a literal value in ``listrak-sync.yml`` (the file is meant for git);
it is ``{env: NAME}`` or ``{secret: NAME}``. Non-secret fields (a client id, a user name) may be
literal too.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

__all__ = [
    "Credential",
    "EnvRef",
    "ListrakCredential",
    "SecretFileRef",
    "SecretValue",
    "SftpCredential",
    "Value",
]

_STRICT = ConfigDict(extra="forbid", frozen=True)


class EnvRef(BaseModel):
    """The value of an environment variable."""

    model_config = _STRICT

    env: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class SecretFileRef(BaseModel):
    """A key of the project's secrets file (YAML mapping, mode 0600)."""

    model_config = _STRICT

    secret: str = Field(min_length=1)


def _ref(value: Any, *, literal_ok: bool) -> Any:
    if isinstance(value, dict):
        if "env" in value:
            return EnvRef.model_validate(value)
        if "secret" in value:
            return SecretFileRef.model_validate(value)
        raise ValueError("a credential value is {env: VARIABLE} or {secret: NAME}")
    if literal_ok and isinstance(value, str | int):
        return str(value)
    if isinstance(value, str | int):
        raise ValueError(
            "secrets may not be written in the project file; use {env: VARIABLE} or "
            "{secret: NAME} (a key of the 0600 secrets file)"
        )
    raise ValueError("a credential value is text, {env: VARIABLE} or {secret: NAME}")


def _literal_or_ref(value: Any) -> Any:
    return _ref(value, literal_ok=True)


def _ref_only(value: Any) -> Any:
    return _ref(value, literal_ok=False)


# The validators do the whole job, so errors say one thing instead of one per union member.
Value = Annotated[str | EnvRef | SecretFileRef, BeforeValidator(_literal_or_ref)]
SecretValue = Annotated[EnvRef | SecretFileRef, BeforeValidator(_ref_only)]


class ListrakCredential(BaseModel):
    """A Listrak integration's client id and secret (email, SMS and data are separate)."""

    model_config = _STRICT

    type: Literal["listrak"]
    client_id: Value
    client_secret: SecretValue


class SftpCredential(BaseModel):
    """A login for Listrak's SFTP server: a private key (preferred) or a password."""

    model_config = _STRICT

    type: Literal["sftp"]
    username: Value
    password: SecretValue | None = None
    private_key: SecretValue | None = None  # the key text (PEM/OpenSSH)
    passphrase: SecretValue | None = None

    @model_validator(mode="after")
    def _some_secret(self) -> SftpCredential:
        if self.password is None and self.private_key is None:
            raise ValueError("an SFTP credential needs a private_key or a password")
        return self


Credential = Annotated[ListrakCredential | SftpCredential, Field(discriminator="type")]
