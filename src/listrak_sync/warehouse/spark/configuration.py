"""How to open a Spark warehouse: a typed config, and the connection strings that name one.

``local[*]`` / ``local[N]`` / ``local`` start Spark inside this process (the JVM it needs comes
with the machine's Java); tables are Parquet folders under ``warehouse_dir`` (default
``spark-warehouse`` in the project folder), so every process sees the same tables.
``sc://host:15002`` reaches a Spark Connect server, whose own catalog holds the tables; that is
also how Databricks is reached (``sc://<workspace>:443/;x-databricks-cluster-id=<id>``, the
access token from ``warehouse.password``). The URL never holds the token: project files are
meant for git.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ..base import WarehouseError

__all__ = ["SparkConfig", "is_spark_connection"]

_LOCAL = re.compile(r"^local(\[(\*|[1-9][0-9]*)\])?$")
# What is meant as a Spark master (then checked by _LOCAL): ``local[0]`` is a mistake to report,
# not a DuckDB file of that name.
_LOCAL_LIKE = re.compile(r"^local(\[[^\]]*\])?$")
_REMOTE = re.compile(r"^sc://", re.IGNORECASE)
# Settings a connection string may carry after ``?`` (local) or as ``;key=value`` (sc://).
_LOCAL_SETTINGS = ("warehouse_dir", "shuffle_partitions", "driver_memory")
_SECRET_PARAMS = ("token",)


def is_spark_connection(text: str) -> bool:
    """Whether ``text`` names a Spark warehouse (``local[*]``, ``local[4]``, ``sc://...``)."""
    return bool(_LOCAL_LIKE.match(text.split("?", 1)[0]) or _REMOTE.match(text))


class SparkConfig(BaseModel):
    """A Spark session: embedded (``master``) or on a Spark Connect server (``remote``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    engine: Literal["spark"] = "spark"
    master: str | None = Field(None, description="local, local[N] or local[*].")
    remote: str | None = Field(None, description="sc://host:port (Spark Connect), no token.")
    warehouse_dir: str = Field(
        "spark-warehouse",
        min_length=1,
        description="Embedded Spark: the folder holding the tables (one Parquet folder each).",
    )
    shuffle_partitions: int = Field(
        8,
        ge=1,
        description="Embedded Spark: spark.sql.shuffle.partitions (Spark's 200 suits clusters, "
        "not one machine; a Spark Connect server keeps its own).",
    )
    driver_memory: str | None = Field(None, pattern=r"^[1-9][0-9]*[kmgt]?$")
    # Never part of the URL, repr or errors; set from the project's secret reference.
    token: SecretStr | None = Field(None, exclude=True, repr=False)

    @property
    def local(self) -> bool:
        return self.master is not None

    @property
    def display(self) -> str:
        """The connection as people write it, without the token: names it in errors."""
        return self.master if self.master is not None else str(self.remote)

    def with_password(self, password: SecretStr | None) -> SparkConfig:
        """The Spark Connect access token (``warehouse.password``); embedded Spark has none."""
        if self.local and password is not None:
            raise WarehouseError(f"{self.display}: an embedded Spark takes no password")
        return self.model_copy(update={"token": password})

    def resolved(self, base_dir: Path | None) -> SparkConfig:
        """This config with a relative ``warehouse_dir`` made absolute against ``base_dir``."""
        if base_dir is None or Path(self.warehouse_dir).is_absolute():
            return self
        return self.model_copy(update={"warehouse_dir": str(base_dir / self.warehouse_dir)})

    def remote_url(self) -> str:
        """The Spark Connect URL handed to the client, token included: never log it."""
        assert self.remote is not None
        if self.token is None:
            return self.remote
        base = self.remote if "/;" in self.remote else self.remote + "/"
        return f"{base};token={quote(self.token.get_secret_value(), safe='')}"

    @classmethod
    def from_text(cls, text: str) -> SparkConfig:
        """Parse ``local[*]``, ``local[2]?warehouse_dir=data/spark&shuffle_partitions=4``, or
        ``sc://host:15002`` (with Spark Connect's own ``/;key=value`` parameters)."""
        if _REMOTE.match(text):
            return cls._remote(text)
        master, _, query = text.partition("?")
        if not _LOCAL.match(master):
            raise WarehouseError(
                f"{text!r}: not a Spark connection (local, local[N], local[*] or sc://host:port)"
            )
        fields: dict[str, object] = {"master": master}
        for item in filter(None, query.split("&")):
            key, _, value = item.partition("=")
            if key not in _LOCAL_SETTINGS:
                raise WarehouseError(
                    f"{text!r}: unknown setting {key!r} (known: {', '.join(_LOCAL_SETTINGS)})"
                )
            fields[key] = unquote(value)
        return cls._validated(text, fields)

    @classmethod
    def _remote(cls, text: str) -> SparkConfig:
        parts = urlsplit(text)
        try:
            port = parts.port
        except ValueError:
            raise WarehouseError(f"{text!r}: the port must be a number from 1 to 65535") from None
        if not parts.hostname:
            raise WarehouseError(f"{text!r}: name the Spark Connect server, e.g. sc://host:15002")
        params = parts.path.lstrip("/").lstrip(";")
        for item in filter(None, params.split(";")):
            key = item.partition("=")[0].strip().lower()
            if key in _SECRET_PARAMS:
                raise WarehouseError(
                    f"{_hidden(text)!r}: the URL may not hold the token; set warehouse.password "
                    "to {env: VARIABLE} or {secret: NAME}"
                )
        if parts.query:
            raise WarehouseError(
                f"{text!r}: Spark Connect settings follow '/;' (sc://host:port/;key=value), not '?'"
            )
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        remote = f"sc://{host}:{port or 15002}"
        if params:
            remote += "/;" + params
        return cls._validated(text, {"remote": remote})

    @classmethod
    def _validated(cls, text: str, fields: dict[str, object]) -> SparkConfig:
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'connection'}: {err['msg']}"
                for err in exc.errors()
            )
            raise WarehouseError(f"{text!r}: {problems}") from None


def _hidden(text: str) -> str:
    """``text`` with a ``token=...`` parameter's value replaced, for error messages."""
    return re.sub(r"(?i)(token=)[^;]*", r"\1***", text)
