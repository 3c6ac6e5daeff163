"""How to open a DuckDB warehouse: a typed config, and its ``duckdb://`` URL form."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..base import WarehouseError

__all__ = ["MEMORY", "DuckDBConfig"]

MEMORY = ":memory:"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


DEFAULT_MEMORY_LIMIT = "512MB"


class DuckDBConfig(BaseModel):
    """An embedded DuckDB database: a file (created if missing) or ``:memory:``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    engine: Literal["duckdb"] = "duckdb"
    path: str = Field(MEMORY, description="Database file, or ':memory:'.")
    read_only: bool = Field(False, description="Open the file read-only (it must exist).")
    threads: int | None = Field(None, ge=1, description="Worker threads (default: one per core).")
    lock_wait: float = Field(
        10.0,
        ge=0,
        description="Seconds to wait for a file another process is writing (or, to write, "
        "reading) before giving up with WarehouseBusy.",
    )
    memory_limit: str | None = Field(
        None,
        pattern=r"^\s*\d+(\.\d+)?\s*[KMGT]i?B\s*$",
        description=f"e.g. '2GB', '512MiB' (default {DEFAULT_MEMORY_LIMIT}: larger sorts and "
        "joins spill to '<file>.tmp').",
    )

    @model_validator(mode="after")
    def _memory_is_writable(self) -> DuckDBConfig:
        if self.read_only and self.path == MEMORY:
            raise ValueError("an in-memory database cannot be opened read-only")
        return self

    @property
    def in_memory(self) -> bool:
        return self.path == MEMORY

    def resolved(self, base_dir: Path | None) -> DuckDBConfig:
        """This config with a relative file path made absolute against ``base_dir``."""
        if self.in_memory or base_dir is None or Path(self.path).is_absolute():
            return self
        return self.model_copy(update={"path": str(base_dir / self.path)})

    def duckdb_settings(self) -> dict[str, str | bool | int | float | list[str]]:
        """The settings passed to ``duckdb.connect(config=...)``.

        External access is off: a warehouse connection reads and writes its own database and
        Arrow data handed to it, never other files (a segment's ``read_csv('/etc/passwd')``
        fails here even if it got past ``validate``), and installs no extensions."""
        settings: dict[str, str | bool | int | float | list[str]] = {
            "enable_external_access": False
        }
        if self.threads is not None:
            settings["threads"] = self.threads
        # DuckDB's own default is 80% of the machine's memory: the audience query of a
        # 10-million-member sync (its dedupe window) then held 2 GB beside the planner's
        # budget (sync/plan.py). Bounded, a sync stays under 1.5 GB; past it DuckDB spills.
        limit = self.memory_limit if self.memory_limit is not None else DEFAULT_MEMORY_LIMIT
        settings["memory_limit"] = limit.replace(" ", "")
        return settings

    @classmethod
    def from_url(cls, url: str) -> DuckDBConfig:
        """Parse ``duckdb:///relative.duckdb``, ``duckdb:////abs/file.duckdb``, ``duckdb://``
        (in memory) or ``duckdb:///:memory:``; settings go in the query string
        (``?read_only=true&threads=2&memory_limit=2GB``).

        As in SQLAlchemy URLs, the path is what follows the third slash, so a fourth slash makes
        it absolute.
        """
        parts = urlsplit(url)
        if parts.scheme != "duckdb":
            raise WarehouseError(f"{url!r}: not a duckdb:// URL")
        if parts.netloc:
            raise WarehouseError(
                f"{url!r}: a DuckDB URL has no host; write duckdb:///relative/path.duckdb "
                "or duckdb:////absolute/path.duckdb"
            )
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path) or MEMORY
        fields: dict[str, object] = {"path": path}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key == "read_only":
                if value.lower() not in _TRUE | _FALSE:
                    raise WarehouseError(f"{url!r}: read_only must be true or false, not {value!r}")
                fields[key] = value.lower() in _TRUE
            elif key in ("threads", "memory_limit", "lock_wait"):
                fields[key] = value
            else:
                raise WarehouseError(
                    f"{url!r}: unknown setting {key!r} "
                    "(known: read_only, threads, memory_limit, lock_wait)"
                )
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'url'}: {err['msg']}"
                for err in exc.errors()
            )
            raise WarehouseError(f"{url!r}: {problems}") from None
