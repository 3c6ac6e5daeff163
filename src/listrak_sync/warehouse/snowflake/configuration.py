"""How to open a Snowflake warehouse: a typed config, and its ``snowflake://`` URL form.

``snowflake://USER@ACCOUNT/DATABASE/SCHEMA?warehouse=WH&role=ROLE``, as in Snowflake's own
SQLAlchemy URLs. The URL never carries a secret (project files are meant for git). Key-pair
login is preferred: ``private_key_file=PATH`` names the PKCS#8 key file (relative to the
project folder), and ``warehouse.password`` (``{env: NAME}`` or ``{secret: NAME}``) is then the
key's passphrase when it is encrypted. Without a key file, ``warehouse.password`` is the login
password.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ..base import WarehouseError
from ..urls import settings_problems, shown

__all__ = ["SCHEMES", "SnowflakeConfig"]

SCHEMES = ("snowflake",)
_SETTINGS = (
    "warehouse",
    "role",
    "private_key_file",
    "login_timeout",
    "network_timeout",
    "statement_timeout",
    "lock_lease",
    "host",
    "port",
    "protocol",
)


class SnowflakeConfig(BaseModel):
    """A Snowflake database and schema, with the account, login and session settings."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    engine: Literal["snowflake"] = "snowflake"
    # The account identifier: ``orgname-accountname`` or ``locator.region`` (``xy12345.eu-west-1``).
    account: str = Field(min_length=1)
    user: str = Field(min_length=1)
    database: str = Field(min_length=1)
    schema_: str = Field("PUBLIC", alias="schema", min_length=1)
    warehouse: str | None = Field(None, description="The virtual warehouse that runs queries.")
    role: str | None = None
    private_key_file: str | None = Field(
        None, description="PKCS#8 private key (PEM) for key-pair login; relative to the project."
    )
    # The login password, or the private key's passphrase when private_key_file is set. Never
    # part of the URL, repr or errors; set from the project's secret reference.
    password: SecretStr | None = Field(None, exclude=True, repr=False)
    login_timeout: int = Field(30, ge=1, description="Seconds to wait for the login.")
    network_timeout: int | None = Field(
        None, ge=1, description="Seconds one request may take, retries included."
    )
    statement_timeout: int | None = Field(
        None, ge=1, description="Seconds a statement may run before Snowflake cancels it."
    )
    lock_lease: int | None = Field(
        None,
        ge=5,
        description="Seconds a sync's lock row outlives its last renewal, with the state in "
        "Snowflake (default 120): how long a crashed runner blocks the next.",
    )
    # Another endpoint than ACCOUNT.snowflakecomputing.com:443 (PrivateLink, a proxy, an emulator).
    host: str | None = None
    port: int | None = Field(None, ge=1, le=65535)
    protocol: Literal["https", "http"] = "https"

    @property
    def display(self) -> str:
        """The connection as people write it, without secrets: names it in errors."""
        return (
            f"snowflake://{quote(self.user, safe='')}@{self.account}/"
            f"{quote(self.database, safe='')}/{quote(self.schema_, safe='')}"
        )

    def with_password(self, password: SecretStr | None) -> SnowflakeConfig:
        return self.model_copy(update={"password": password})

    def key_path(self, base_dir: Path | None) -> Path | None:
        """The private key file, a relative path resolved against ``base_dir``."""
        if self.private_key_file is None:
            return None
        path = Path(self.private_key_file).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return path

    @classmethod
    def from_url(cls, url: str) -> SnowflakeConfig:
        """Parse ``snowflake://user@account/db/schema?warehouse=WH&role=ROLE``; a password in
        the URL is refused."""
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise WarehouseError(f"{shown(url)!r}: not a snowflake:// URL")
        if parts.password is not None:
            raise WarehouseError(
                f"{shown(url)!r}: the URL may not hold the password; set warehouse.password "
                "to {env: VARIABLE} or {secret: NAME}, or log in with a key pair "
                "(?private_key_file=PATH)"
            )
        example = "e.g. snowflake://LISTRAK_SYNC@myorg-myaccount/SHOP/PUBLIC?warehouse=WH"
        if not parts.username:
            raise WarehouseError(f"{url!r}: name the user before the account, {example}")
        account = parts.netloc.rsplit("@", 1)[-1]
        if not account or ":" in account:
            raise WarehouseError(f"{url!r}: name the account identifier (no port), {example}")
        path = [unquote(p) for p in parts.path.strip("/").split("/") if p]
        if not 1 <= len(path) <= 2:
            raise WarehouseError(f"{url!r}: name the database and schema, {example}")
        fields: dict[str, object] = {
            "account": account,
            "user": unquote(parts.username),
            "database": path[0],
        }
        if len(path) == 2:
            fields["schema"] = path[1]
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key not in _SETTINGS:
                raise WarehouseError(
                    f"{url!r}: unknown setting {key!r} (known: {', '.join(_SETTINGS)})"
                )
            fields[key] = value
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            raise WarehouseError(f"{url!r}: {settings_problems(exc)}") from None
