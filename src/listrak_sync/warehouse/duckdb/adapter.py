"""DuckDBWarehouse: the embedded default warehouse, one DuckDB file (or memory) per project."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ...state.private import private_file, private_folder, restrict
from ..base import SCRATCH_CATALOG, Column, TableNotFound, WarehouseBusy, WarehouseError, WriteMode
from .configuration import MEMORY, DuckDBConfig
from .exceptions import translate, translating

__all__ = ["SCRATCH", "DuckDBWarehouse", "quote_table"]

log = logging.getLogger(__name__)
# The in-memory catalog holding derived data (e.g. the phone normalisation cache).
SCRATCH = SCRATCH_CATALOG
_RESERVED_CATALOGS = {"memory", "system", "temp", "main", SCRATCH}
_HOLDER = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _lock_holder(message: str) -> str | None:
    """Who holds the file, from DuckDB's lock error (None: not a lock error)."""
    if "Could not set lock on file" not in message:
        return None
    found = _HOLDER.search(message)
    return f"process {found.group(2)} ({found.group(1)})" if found else "another process"


def quote_table(name: str) -> str:
    """``schema.table`` as a quoted DuckDB identifier; each dot-separated part is quoted."""
    parts = name.split(".")
    if not all(parts):
        raise WarehouseError(f"{name!r} is not a table name")
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


class DuckDBWarehouse:
    """A DuckDB database behind the Warehouse protocol.

    Statements run on one connection guarded by a lock, so a warehouse can be shared by threads.
    ``stream()`` reads through its own cursor, so other calls may run while a stream is open;
    a cursor does not see TEMP tables, so stream from regular tables or views.

    A database file is attached to an in-memory database (read-only when the config says so)
    and made the current catalog, so queries see it exactly as if it had been opened directly.
    The in-memory side holds the scratch catalog (``SCRATCH_CATALOG``): caches derived from the
    warehouse live there, so reading an audience never writes the file and any number of
    read-only processes (syncs, plans, previews) share it. DuckDB lets one process write a file
    at a time; a file another process holds raises :class:`WarehouseBusy` after ``lock_wait``.
    """

    def __init__(self, config: DuckDBConfig | None = None) -> None:
        self.config = config or DuckDBConfig()
        file = None if self.config.in_memory else Path(self.config.path)
        created = False
        if file is not None and not self.config.read_only:
            file.parent.mkdir(parents=True, exist_ok=True)
            created = not file.exists()
        self._catalog: str | None = None
        self._scratch_dir: Path | None = None
        self._closed = False
        self._scratch_rows: dict[str, int] = {}
        self._con = self._connect(file)
        if created and file is not None:
            # A new database holds customer data: owner-only (DuckDB cannot open a file made
            # empty beforehand, so the mode is set right after it creates it).
            restrict(file)
        self._lock = threading.RLock()
        self._cursors: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()

    def _connect(self, file: Path | None) -> duckdb.DuckDBPyConnection:
        settings = self.config.duckdb_settings()
        if file is None:
            with translating():
                con = duckdb.connect(MEMORY, config=settings)
                con.execute(f"ATTACH ':memory:' AS {SCRATCH}")
            return con
        # External access is needed to attach the file; it is turned off right after.
        external = settings.pop("enable_external_access", False)
        alias = file.stem if file.stem.isidentifier() else "warehouse"
        if alias.lower() in _RESERVED_CATALOGS:
            alias = "warehouse"
        self._catalog = '"' + alias.replace('"', '""') + '"'
        mode = " (READ_ONLY)" if self.config.read_only else ""
        deadline = time.monotonic() + self.config.lock_wait
        waited = False
        with translating():
            con = duckdb.connect(MEMORY, config=settings)
        try:
            with translating():
                con.execute(f"SET temp_directory = {_literal(str(file) + '.tmp')}")
            while True:
                try:
                    con.execute(f"ATTACH {_literal(str(file))} AS {self._catalog}{mode}")
                    break
                except duckdb.IOException as exc:
                    holder = _lock_holder(str(exc))
                    if holder is None:
                        raise translate(exc) from exc
                    if time.monotonic() >= deadline:
                        raise WarehouseBusy(str(file), holder, self.config.read_only) from None
                    if not waited:
                        # One line while waiting (a warning: shown even without logging set up).
                        log.warning(
                            "waiting up to %.0f s for the warehouse %s: %s holds it",
                            self.config.lock_wait,
                            file,
                            holder,
                        )
                        waited = True
                    time.sleep(0.2)
                except duckdb.Error as exc:
                    raise translate(exc) from exc
            with translating():
                con.execute(f"ATTACH ':memory:' AS {SCRATCH}")
                if not external:
                    con.execute("SET enable_external_access = false")
                con.execute(f"USE {self._catalog}")
        except BaseException:
            con.close()
            raise
        return con

    def scratch_table(self, name: str) -> str:
        """``listrak_sync_scratch.main.<name>``: the in-memory catalog attached to every
        connection (kept as Parquet between connections by ``keep_scratch``)."""
        return f"{SCRATCH}.main.{name}"

    def keep_scratch(self, folder: Path) -> None:
        """Keep the scratch catalog's tables between connections as Parquet files in
        ``folder`` (owner-only): loaded now, saved when the warehouse closes if they grew.
        Caches are append-only, so when two processes save, the last file is still valid."""
        self._scratch_dir = folder
        self._scratch_rows = {}
        if not folder.exists():
            return
        for file in sorted(folder.glob("*.parquet")):
            if not file.stem.isidentifier():
                continue
            try:
                table = pq.read_table(file)
                self.write(f"{SCRATCH}.main.{file.stem}", table, mode="replace")
            except (pa.ArrowException, OSError, WarehouseError):
                continue  # a cache: a damaged file is rebuilt, not an error
            self._scratch_rows[file.stem] = table.num_rows

    def _save_scratch(self) -> None:
        folder = self._scratch_dir
        if folder is None:
            return
        sql = (
            "SELECT table_name, estimated_size FROM duckdb_tables() "
            f"WHERE database_name = '{SCRATCH}' AND NOT temporary"
        )
        for name, _ in self._con.execute(sql).fetchall():
            source = quote_table(f"{SCRATCH}.main.{name}")
            data = self._con.sql(f"SELECT * FROM {source}").to_arrow_table()
            if data.num_rows == self._scratch_rows.get(name, -1):
                continue
            private_folder(folder)
            target = folder / f"{name}.parquet"
            # Per process and thread: warehouses closed at once in one process (the console's
            # requests) must not move each other's staged file.
            staged_name = f"{target.name}.{os.getpid()}.{threading.get_ident()}.staged"
            staged = private_file(target.with_name(staged_name))
            pq.write_table(data, staged)
            os.replace(staged, target)

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor on the warehouse's catalog (a cursor starts on the in-memory one)."""
        cursor = self._con.cursor()
        if self._catalog is not None:
            cursor.execute(f"USE {self._catalog}")
        return cursor

    @classmethod
    def open(cls, path: str | Path = ":memory:", **settings: object) -> DuckDBWarehouse:
        """Open a file (or ``:memory:``) with optional settings (read_only, threads, ...)."""
        return cls(DuckDBConfig.model_validate({"path": str(path), **settings}))

    @property
    def dialect(self) -> str:
        return "duckdb"

    def __repr__(self) -> str:
        return f"DuckDBWarehouse({self.config.path!r}, read_only={self.config.read_only})"

    # -- reading ---------------------------------------------------------------------------

    def stream(self, sql: str, *, batch_size: int = 65_536) -> Iterator[pa.RecordBatch]:
        """Run ``sql`` now (errors raise here) and return an iterator over its record batches.

        DuckDB produces batches as they are read, so memory stays bounded by ``batch_size``
        whatever the size of the result.
        """
        with self._lock, translating(sql):
            cursor = self._cursor()
        self._cursors.add(cursor)
        try:
            with translating(sql):
                reader = cursor.sql(sql).to_arrow_reader(batch_size)
        except BaseException:
            cursor.close()
            raise
        return self._batches(cursor, reader, sql)

    @staticmethod
    def _batches(
        cursor: duckdb.DuckDBPyConnection, reader: pa.RecordBatchReader, sql: str
    ) -> Iterator[pa.RecordBatch]:
        try:
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                except (pa.ArrowException, OSError) as exc:
                    # Errors met while producing rows (casts, error()) surface from the reader.
                    raise WarehouseError(str(exc), statement=sql) from exc
                yield batch
        finally:
            reader.close()
            cursor.close()

    def query(self, sql: str) -> pa.Table:
        """Run ``sql`` and return the whole result; for small results (counts, samples)."""
        with self._lock, translating(sql):
            return self._con.sql(sql).to_arrow_table()

    def interrupt(self) -> None:
        """Stop the query running on this warehouse now (from another thread): it raises
        ``WarehouseError`` where it runs. The web console stops a live count no one waits for."""
        self._con.interrupt()

    def execute(self, sql: str) -> None:
        """Run one or more statements that return nothing (DDL, INSERT ... SELECT)."""
        with self._lock, translating(sql):
            self._con.execute(sql)
            self._con.complete()

    # -- catalog ---------------------------------------------------------------------------

    def tables(self) -> list[str]:
        """Tables and views of the open database, ``schema.name`` outside the ``main`` schema."""
        sql = """
            SELECT schema_name, table_name FROM duckdb_tables()
            WHERE database_name = current_database() AND NOT temporary
            UNION ALL
            SELECT schema_name, view_name FROM duckdb_views()
            WHERE database_name = current_database() AND NOT internal AND NOT temporary
        """
        with self._lock, translating(sql):
            rows = self._con.execute(sql).fetchall()
        return sorted(name if schema == "main" else f"{schema}.{name}" for schema, name in rows)

    def describe(self, table: str) -> list[Column]:
        """The columns of ``table`` with DuckDB type names; TableNotFound if it is missing."""
        sql = f"DESCRIBE {quote_table(table)}"
        try:
            with self._lock, translating(sql):
                rows = self._con.execute(sql).fetchall()
        except TableNotFound:
            raise TableNotFound(f"no table or view named {table!r}", statement=sql) from None
        return [Column(name=row[0], type=row[1], nullable=row[2] != "NO") for row in rows]

    def exists(self, table: str) -> bool:
        try:
            self.describe(table)
        except TableNotFound:
            return False
        return True

    # -- writing ---------------------------------------------------------------------------

    def write(
        self,
        table: str,
        data: pa.Table | Iterable[pa.RecordBatch],
        *,
        mode: WriteMode = "replace",
        schema: pa.Schema | None = None,
    ) -> int:
        """Write Arrow data into ``table``; returns the number of rows written.

        Batches are pulled by DuckDB one at a time, so an iterable of batches (for example another
        warehouse's ``stream()``) is never held in memory whole. ``replace`` swaps the table in
        one statement: if the source fails half-way, the old table is left as it was. ``append``
        matches columns by name and creates the table when it does not exist. ``schema`` casts
        the input to those types (and is needed to create a table from zero batches).
        """
        if mode not in ("replace", "append"):
            raise WarehouseError(f"unknown write mode {mode!r} (replace or append)")
        source = _Source(data, schema)
        if source.empty_without_schema:
            if mode == "append":
                return 0
            raise WarehouseError(f"cannot create {table!r} from no batches without a schema")
        target = quote_table(table)
        view = f"__listrak_write_{uuid.uuid4().hex}"
        if mode == "append" and self.exists(table):
            sql = f'INSERT INTO {target} BY NAME SELECT * FROM "{view}"'
        else:
            sql = f'CREATE OR REPLACE TABLE {target} AS SELECT * FROM "{view}"'
        with self._lock:
            try:
                with translating(sql):
                    self._con.register(view, source.arrow())
                try:
                    result = self._con.execute(sql).fetchall()
                except duckdb.Error as exc:
                    if source.error is not None:  # the input failed, not DuckDB: raise that
                        raise source.error from None
                    raise translate(exc, sql) from exc
            finally:
                self._con.unregister(view)
        return int(result[0][0]) if result else 0

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Close open streams and the connection; safe to call twice."""
        with self._lock:
            for cursor in list(self._cursors):
                cursor.close()
            try:
                if not self._closed:
                    self._save_scratch()
            finally:
                self._closed = True
                self._con.close()

    def __enter__(self) -> DuckDBWarehouse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Source:
    """Arrow input for write(): a table as is, or batches behind a reader that remembers the
    exception the caller's iterator raised (DuckDB reports it only as text)."""

    def __init__(self, data: pa.Table | Iterable[pa.RecordBatch], schema: pa.Schema | None) -> None:
        self.error: BaseException | None = None
        self.empty_without_schema = False
        self._table: pa.Table | None = None
        self._batches: Iterator[pa.RecordBatch] = iter(())
        if isinstance(data, pa.Table):
            self._table = data.cast(schema) if schema is not None else data
            self.schema = self._table.schema
            return
        batches = iter(data)
        if schema is None:
            first = next(batches, None)
            if first is None:
                self.empty_without_schema = True
                self.schema = pa.schema([])
                return
            schema = first.schema
            batches = _chain(first, batches)
        self.schema = schema
        self._batches = batches

    def arrow(self) -> pa.Table | pa.RecordBatchReader:
        if self._table is not None:
            return self._table
        return pa.RecordBatchReader.from_batches(self.schema, self._checked())

    def _checked(self) -> Iterator[pa.RecordBatch]:
        try:
            for batch in self._batches:
                yield batch if batch.schema.equals(self.schema) else batch.cast(self.schema)
        except BaseException as exc:
            self.error = exc
            raise


def _chain(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest
