"""The warehouse adapter contract.

Every engine (DuckDB, PostgreSQL, Snowflake; Spark later) is one folder implementing this
protocol. Heavy work stays in the engine: callers send SQL and read Arrow record batches as a
stream, never a whole audience as Python objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Protocol, Self, runtime_checkable

from ..errors import ExitCode, ListrakSyncError

if TYPE_CHECKING:
    # Only named in annotations: the project's models import this module for its errors, and
    # a command that only reads the project (or stops at a bad one) never needs pyarrow.
    import pyarrow as pa

__all__ = [
    "SCRATCH_CATALOG",
    "Column",
    "TableNotFound",
    "Warehouse",
    "WarehouseBusy",
    "WarehouseError",
    "WriteMode",
]

WriteMode = Literal["replace", "append"]
# Every engine offers a writable place by this name for data derived from the warehouse (the
# phone normalisation cache), so reading audiences never writes the user's tables: DuckDB an
# in-memory catalog attached to the connection, PostgreSQL a schema, Snowflake the session's
# temporary tables. ``scratch_table()`` names a table in it.
SCRATCH_CATALOG = "listrak_sync_scratch"


class WarehouseError(ListrakSyncError):
    """A query or write the engine refused; the message names the statement's problem.

    ``statement`` is the SQL the engine refused (``None`` when the failure was not a statement,
    e.g. opening the database), so callers can show it next to the message.
    """

    def __init__(self, message: str, *, statement: str | None = None) -> None:
        super().__init__(message)
        self.statement = statement

    @classmethod
    def closed(cls, name: str, statement: str | None) -> WarehouseError:
        """What a call on a warehouse after its ``close()`` raises, alike on every engine:
        DuckDB's own "Connection already closed", where a server adapter's driver would raise
        its own exception or, for a stream on a connection of its own, quietly open a new one."""
        return cls(f"{name}: the warehouse connection is closed", statement=statement)


class WarehouseBusy(ListrakSyncError):
    """Another process holds the warehouse file the way this one needs it (DuckDB: one
    process writes a file, or any number read it). Nothing is wrong with the project or the
    warehouse, so this is not a WarehouseError: commands exit 5 (busy) and say who holds it."""

    exit_code = ExitCode.LOCK_HELD

    def __init__(self, path: str, holder: str, read_only: bool) -> None:
        wanted = "read" if read_only else "write"
        super().__init__(
            f"busy: the warehouse {path} is in use by {holder}, so this command cannot {wanted} it "
            "now. Commands that only read (sync, plan, validate, segments, campaigns preview) "
            "share the file; one that writes it (sample-data, pull, runs "
            "--export-outcomes) needs it alone. Run this again when the other one has finished."
        )
        self.path = path
        self.holder = holder


class TableNotFound(WarehouseError):
    """The statement or ``describe()`` named a table or view the warehouse does not have."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # the engine's type name, e.g. VARCHAR, BIGINT, DATE, TIMESTAMP
    nullable: bool = True


@runtime_checkable
class Warehouse(Protocol):
    """What listrak-sync needs from an engine."""

    @property
    def dialect(self) -> str:
        """The sqlglot dialect name of the engine's SQL (``duckdb``, ``postgres``,
        ``snowflake``)."""
        ...

    def stream(self, sql: str, *, batch_size: int = 65_536) -> Iterator[pa.RecordBatch]:
        """Run a query and yield its result as Arrow record batches."""
        ...

    def query(self, sql: str) -> pa.Table:
        """Run a query whose result is small (counts, samples, breakdowns)."""
        ...

    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing (DDL, INSERT ... SELECT)."""
        ...

    def tables(self) -> list[str]:
        """The tables and views the connection can see."""
        ...

    def describe(self, table: str) -> list[Column]:
        """The columns of a table or view; WarehouseError if it does not exist."""
        ...

    def write(
        self,
        table: str,
        data: pa.Table | Iterable[pa.RecordBatch],
        *,
        mode: WriteMode = "replace",
        schema: pa.Schema | None = None,
    ) -> int:
        """Write Arrow data into a table (streamed); returns the number of rows written."""
        ...

    def scratch_table(self, name: str) -> str:
        """The qualified name of table ``name`` in the scratch place (``SCRATCH_CATALOG``),
        which exists once this returns; for caches derived from the warehouse's data."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the warehouse."""
        ...
