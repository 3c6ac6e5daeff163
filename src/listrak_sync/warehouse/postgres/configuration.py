"""How to open a PostgreSQL warehouse: a typed config, and its ``postgresql://`` URL form.

The URL never carries the password (project files are meant for git): it comes from the project's
``warehouse.password`` reference (``{env: NAME}`` or ``{secret: NAME}``), or else from libpq's own
``PGPASSWORD`` / ``~/.pgpass``. Client certificates go in the query string like libpq's
(``sslcert``, ``sslkey``, ``sslrootcert``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ..base import WarehouseError
from ..urls import settings_problems, shown

__all__ = ["SCHEMES", "PostgresConfig"]

SCHEMES = ("postgresql", "postgres")
SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
_SETTINGS = (
    "sslmode",
    "sslcert",
    "sslkey",
    "sslrootcert",
    "connect_timeout",
    "statement_timeout",
    "schema",
    "application_name",
)


class PostgresConfig(BaseModel):
    """A PostgreSQL database on a server, with libpq's connection settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    engine: Literal["postgres"] = "postgres"
    host: str = Field("localhost", min_length=1)
    port: int = Field(5432, ge=1, le=65535)
    database: str = Field(min_length=1)
    user: str | None = None
    # Never part of the URL, repr or errors; set from the project's secret reference.
    password: SecretStr | None = Field(None, exclude=True, repr=False)
    sslmode: SslMode = "prefer"
    sslcert: str | None = None
    sslkey: str | None = None
    sslrootcert: str | None = None
    connect_timeout: int = Field(10, ge=1, description="Seconds to wait for the server.")
    statement_timeout: float | None = Field(
        None, gt=0, description="Seconds a statement may run before the server cancels it."
    )
    schema_: str | None = Field(None, alias="schema", description="Schema searched first.")
    application_name: str = "listrak-sync"

    @property
    def display(self) -> str:
        """The connection as people write it, without the password: names it in errors."""
        user = f"{quote(self.user, safe='')}@" if self.user else ""
        return f"postgresql://{user}{self.host}:{self.port}/{quote(self.database, safe='')}"

    def with_password(self, password: SecretStr | None) -> PostgresConfig:
        return self.model_copy(update={"password": password})

    def with_base_dir(self, base_dir: Path | None) -> PostgresConfig:
        """The config with relative ``sslcert``, ``sslkey`` and ``sslrootcert`` paths resolved
        against ``base_dir`` (the project folder; libpq would take the working directory)."""
        if base_dir is None:
            return self
        update: dict[str, str] = {}
        for name in ("sslcert", "sslkey", "sslrootcert"):
            value = getattr(self, name)
            if value is not None and not Path(value).expanduser().is_absolute():
                update[name] = str(base_dir / value)
        return self.model_copy(update=update) if update else self

    def libpq_uri(self) -> str:
        """The URI handed to libpq (through ADBC), password included: never log it."""
        user = quote(self.user, safe="") if self.user else ""
        if self.password is not None:
            user += ":" + quote(self.password.get_secret_value(), safe="")
        params: dict[str, str] = {
            "sslmode": self.sslmode,
            "connect_timeout": str(self.connect_timeout),
            "application_name": self.application_name,
        }
        for name in ("sslcert", "sslkey", "sslrootcert"):
            value = getattr(self, name)
            if value is not None:
                params[name] = value
        options = []
        if self.statement_timeout is not None:
            options.append(f"-c statement_timeout={round(self.statement_timeout * 1000)}")
        if self.schema_ is not None:
            options.append(f"-c search_path={self.schema_},public")
        if options:
            params["options"] = " ".join(options)
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = f"{user}@{host}:{self.port}" if user else f"{host}:{self.port}"
        query = urlencode(params, quote_via=quote)
        return f"postgresql://{netloc}/{quote(self.database, safe='')}?{query}"

    @classmethod
    def from_url(cls, url: str) -> PostgresConfig:
        """Parse ``postgresql://user@host:5432/db?sslmode=require&statement_timeout=30``.

        A password in the URL is refused: project files are committed, secrets are not.
        """
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise WarehouseError(f"{shown(url)!r}: not a postgresql:// URL")
        if parts.password is not None:
            raise WarehouseError(
                f"{shown(url)!r}: the URL may not hold the password; set warehouse.password "
                "to {env: VARIABLE} or {secret: NAME} (or use PGPASSWORD / ~/.pgpass)"
            )
        database = unquote(parts.path.lstrip("/"))
        if not database or "/" in database:
            raise WarehouseError(f"{url!r}: name one database, e.g. postgresql://host:5432/shop")
        fields: dict[str, object] = {"database": database, "host": parts.hostname or "localhost"}
        try:
            if parts.port is not None:
                fields["port"] = parts.port
        except ValueError:
            raise WarehouseError(f"{url!r}: the port must be a number from 1 to 65535") from None
        if parts.username:
            fields["user"] = unquote(parts.username)
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
