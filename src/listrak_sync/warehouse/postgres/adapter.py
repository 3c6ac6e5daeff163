"""PostgresWarehouse: a PostgreSQL server behind the Warehouse protocol.

Reads go through ADBC's PostgreSQL driver, which fetches with binary ``COPY ... TO STDOUT`` and
builds Arrow batches in C: measured on 1M rows (int, text, numeric, timestamp) it was 3x faster
than psycopg 3's server-side cursor turned into Arrow, at two thirds of the peak memory (see
docs/guides/warehouse.md). Writes go through ADBC's bulk ingest, which is binary ``COPY FROM``.

NUMERIC arrives from ADBC as text (an opaque extension type); it is cast here, explicitly and
strictly, to ``decimal128(p, s)`` from the column's declared precision and scale, so a value is
either exact or an error, never silently changed (the driver has had NUMERIC corruption bugs).
An unconstrained NUMERIC (no precision) has no fixed Arrow type: it becomes float64, as in
DuckDB's postgres scanner; declare ``numeric(p, s)`` or cast in SQL to keep it exact.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterable, Iterator
from types import TracebackType

import adbc_driver_manager
import adbc_driver_postgresql.dbapi as pg
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from ..base import SCRATCH_CATALOG, Column, TableNotFound, WarehouseError, WriteMode
from ..write_input import check_append_columns, reordered, source_failure_first, write_input
from .configuration import PostgresConfig
from .exceptions import translate, translating

__all__ = ["PostgresWarehouse", "quote_table"]

# Bytes ADBC buffers per batch it reads; our own batch_size (rows) then slices those batches.
_BATCH_BYTES = 16 << 20


def quote_table(name: str) -> str:
    """``schema.table`` as a quoted PostgreSQL identifier; each dot-separated part is quoted."""
    parts = name.split(".")
    if not all(parts) or len(parts) > 2:
        raise WarehouseError(f"{name!r} is not a table name (table or schema.table)")
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class PostgresWarehouse:
    """A PostgreSQL database behind the Warehouse protocol.

    Statements run on one connection guarded by a lock, each in its own transaction. Every
    ``stream()`` opens its own connection (a COPY occupies a connection until it ends), so other
    calls may run while a stream is open.
    """

    def __init__(self, config: PostgresConfig) -> None:
        self.config = config
        self._lock = threading.RLock()
        self._streams: weakref.WeakSet[_Stream] = weakref.WeakSet()
        self._con = self._connect()
        self._closed = False
        self._scratch_ready = False

    @property
    def dialect(self) -> str:
        return "postgres"

    @property
    def name(self) -> str:
        return self.config.display

    def __repr__(self) -> str:
        return f"PostgresWarehouse({self.config.display!r})"

    def _secrets(self) -> tuple[str, ...]:
        if self.config.password is None:
            return ()
        return (self.config.password.get_secret_value(),)

    def _connection(self, sql: str | None) -> pg.Connection:
        """The warehouse's connection, or a clear error once it is closed."""
        if self._closed:
            raise WarehouseError.closed(self.name, sql)
        return self._con

    def _connect(self) -> pg.Connection:
        with translating(self.config.display, None, self._secrets()):
            return pg.connect(self.config.libpq_uri())

    # -- reading ---------------------------------------------------------------------------

    def stream(self, sql: str, *, batch_size: int = 65_536) -> Iterator[pa.RecordBatch]:
        """Run ``sql`` now (errors raise here) and return an iterator over its record batches,
        each at most ``batch_size`` rows; memory stays bounded whatever the size of the result."""
        self._connection(sql)  # closed: no new connection for the stream either
        con = self._connect()
        try:
            with translating(self.config.display, sql, self._secrets()):
                cursor = con.cursor()
                cursor.adbc_statement.set_options(
                    **{"adbc.postgresql.batch_size_hint_bytes": str(_BATCH_BYTES)}
                )
                cursor.execute(sql)
                reader = cursor.fetch_record_batch()
        except BaseException:
            con.close()
            raise
        stream = _Stream(con, cursor, reader)
        self._streams.add(stream)
        return self._batches(stream, sql, batch_size)

    def _batches(self, stream: _Stream, sql: str, batch_size: int) -> Iterator[pa.RecordBatch]:
        try:
            schema = _schema(stream.reader.schema)
            while True:
                try:
                    with translating(self.config.display, sql, self._secrets()):
                        batch = stream.reader.read_next_batch()
                except StopIteration:
                    return
                except (pa.ArrowException, OSError) as exc:
                    raise WarehouseError(f"{self.name}: {exc}", statement=sql) from None
                converted = _convert(batch, schema, self.name, sql)
                for offset in range(0, converted.num_rows, batch_size):
                    yield converted.slice(offset, batch_size)
        finally:
            stream.close()

    def query(self, sql: str) -> pa.Table:
        """Run ``sql`` and return the whole result; for small results (counts, samples)."""
        with self._lock, self._transaction(sql) as cursor:
            cursor.execute(sql)
            table = cursor.fetch_arrow_table()
        schema = _schema(table.schema)
        batches = [_convert(b, schema, self.name, sql) for b in table.to_batches()]
        return pa.Table.from_batches(batches, schema=schema)

    def interrupt(self) -> None:
        """Stop the statements running on this warehouse now (from another thread): each raises
        ``WarehouseError`` where it runs ("canceling statement due to user request"). This is
        libpq's cancel request, what ``pg_cancel_backend`` does, sent to the server on a new
        connection; a connection with nothing running ignores it. The web console stops a live
        count no one waits for."""
        connections = [self._con, *(stream.con for stream in list(self._streams))]
        for con in connections:
            with contextlib.suppress(adbc_driver_manager.Error):
                con.adbc_cancel()

    def execute(self, sql: str) -> None:
        """Run one or more statements that return nothing (DDL, INSERT ... SELECT), together in
        one transaction."""
        with self._lock, self._transaction(sql) as cursor:
            cursor.executescript(sql) if ";" in sql.strip().rstrip(";") else cursor.execute(sql)

    def _transaction(self, sql: str | None) -> _Transaction:
        return _Transaction(self, sql)

    # -- catalog ---------------------------------------------------------------------------

    def tables(self) -> list[str]:
        """Tables and views the user can see: bare names for the schemas on the search path
        (first match wins), ``schema.name`` for the others; system schemas left out."""
        sql = """
            SELECT n.nspname AS schema_name, c.relname AS table_name,
                   coalesce(array_position(current_schemas(false), n.nspname), 0) AS searched
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
              AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'
        """
        rows = self.query(sql).to_pylist()
        names: set[str] = set()
        for row in rows:
            searched = row["searched"] > 0
            names.add(
                row["table_name"] if searched else f"{row['schema_name']}.{row['table_name']}"
            )
        return sorted(names)

    def describe(self, table: str) -> list[Column]:
        """The columns of ``table`` (types as SQL names: VARCHAR, BIGINT, DECIMAL(12,2) ...);
        TableNotFound if it is missing or not visible to the user."""
        quote_table(table)  # refuse a malformed name before asking
        sql = f"""
            SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
                   NOT a.attnotnull AS nullable
            FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = to_regclass({_literal(quote_table(table))})
              AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
        """
        rows = self.query(sql).to_pylist()
        if not rows:
            raise TableNotFound(f"{self.name}: no table or view named {table!r}", statement=sql)
        return [Column(r["name"], _type_name(r["type"]), bool(r["nullable"])) for r in rows]

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
        """Write Arrow data into ``table`` with binary COPY; returns the number of rows written.

        Batches are pulled one at a time, so an iterable of batches (another warehouse's
        ``stream()``) is never held whole. The write is one transaction: ``replace`` drops and
        recreates the table, and if the source fails half-way the old table is left as it was.
        ``append`` matches columns by name and creates the table when it does not exist.
        ``schema`` casts the input to those types (and is needed to create a table from zero
        batches).
        """
        prepared = write_input(table, data, mode, schema)
        if prepared is None:
            return 0
        reader, source_error = prepared
        target = quote_table(table)
        parts = table.split(".")
        create: str | None = None
        if mode == "append" and self.exists(table):
            columns = [c.name for c in self.describe(table)]
            check_append_columns(self.name, table, reader.schema.names, columns)
            reader = reordered(reader, columns)
        else:
            # Our own CREATE TABLE, so decimals keep their precision and scale (the driver
            # would create an unconstrained NUMERIC, read back as float64).
            create = (
                f"DROP TABLE IF EXISTS {target}; CREATE TABLE {target} ({_columns(reader.schema)})"
            )
        statement = f"COPY {target} FROM STDIN (FORMAT binary)"
        with (
            self._lock,
            source_failure_first(source_error),
            self._transaction(create or statement) as cursor,
        ):
            if create is not None:
                cursor.executescript(create)
            written = cursor.adbc_ingest(
                parts[-1],
                reader,
                mode="append",
                db_schema_name=parts[0] if len(parts) == 2 else None,
            )
            # Fresh statistics: without them the planner guesses a just-loaded table is tiny
            # and picks nested loops that take minutes instead of milliseconds.
            cursor.execute(f"ANALYZE {target}")
        return int(written) if written is not None and written >= 0 else 0

    def scratch_table(self, name: str) -> str:
        """``listrak_sync_scratch.<name>``, a schema created on first use. A real schema, not
        temporary tables: every ``stream()`` has its own connection and must see the cache. So
        the role needs CREATE on the database once, or an admin creates the schema for it (see
        docs/guides/warehouse.md); the user's own schemas are never written."""
        if not self._scratch_ready:
            self.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_table(SCRATCH_CATALOG)}")
            self._scratch_ready = True
        return f"{SCRATCH_CATALOG}.{name}"

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Close open streams and the connection; safe to call twice."""
        with self._lock:
            for stream in list(self._streams):
                stream.close()
            self._closed = True
            with contextlib.suppress(adbc_driver_manager.Error):
                self._con.close()

    def __enter__(self) -> PostgresWarehouse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Transaction:
    """A cursor on the warehouse's connection; commit on success, roll back (and translate the
    error) on failure."""

    def __init__(self, warehouse: PostgresWarehouse, sql: str | None) -> None:
        self._warehouse = warehouse
        self._sql = sql
        self._cursor: pg.Cursor | None = None

    def __enter__(self) -> pg.Cursor:
        con = self._warehouse._connection(self._sql)
        with translating(self._warehouse.name, self._sql, self._warehouse._secrets()):
            self._cursor = con.cursor()
        return self._cursor

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        warehouse = self._warehouse
        with translating(warehouse.name, self._sql, warehouse._secrets()):
            try:
                if exc is None:
                    warehouse._con.commit()
                else:
                    warehouse._con.rollback()
            finally:
                assert self._cursor is not None
                self._cursor.close()
        if isinstance(exc, adbc_driver_manager.Error):
            raise translate(exc, warehouse.name, self._sql, warehouse._secrets()) from None


class _Stream:
    """The connection, cursor and reader of one open stream."""

    def __init__(self, con: pg.Connection, cursor: pg.Cursor, reader: pa.RecordBatchReader) -> None:
        self.con = con
        self.cursor = cursor
        self.reader = reader
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for closing in (self.reader.close, self.cursor.close, self.con.close):
            with contextlib.suppress(adbc_driver_manager.Error, pa.ArrowException, OSError):
                closing()


# -- types -----------------------------------------------------------------------------------


def _numeric(field: pa.Field) -> pa.DataType | None:
    """The Arrow type for a NUMERIC column (None when ``field`` is not one)."""
    metadata = field.metadata or {}
    if metadata.get(b"ADBC:postgresql:typname") != b"numeric":
        return None
    typmod = int(metadata.get(b"POSTGRESQL:typmod", b"-1"))
    if typmod < 4:
        return pa.float64()
    precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
    if scale > precision:  # PostgreSQL 15 allows it (numeric(2, 5)); Arrow does not
        precision = scale
    return pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(precision, scale)


def _schema(source: pa.Schema) -> pa.Schema:
    """The schema we hand out: NUMERIC as decimal, driver metadata dropped."""
    fields = []
    for field in source:
        numeric = _numeric(field)
        fields.append(pa.field(field.name, numeric or field.type, field.nullable))
    return pa.schema(fields)


def _convert(batch: pa.RecordBatch, schema: pa.Schema, name: str, sql: str) -> pa.RecordBatch:
    columns = []
    for index, target in enumerate(schema):
        column = batch.column(index)
        if column.type != target.type:
            storage = column.storage if isinstance(column, pa.ExtensionArray) else column
            try:
                column = pc.cast(storage, target.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise WarehouseError(
                    f"{name}: column {target.name!r}: {exc} (NUMERIC values are read exactly "
                    f"as {target.type}; cast the column in SQL to another numeric(p, s) or to "
                    "double precision)",
                    statement=sql,
                ) from None
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _type_name(pg_type: str) -> str:
    """A PostgreSQL type name (``character varying(80)``, ``timestamp without time zone``) in
    the SQL spelling the audience checks know (VARCHAR(80), TIMESTAMP)."""
    try:
        return exp.DataType.build(pg_type, dialect="postgres").sql("postgres")
    except (sqlglot.errors.ParseError, ValueError):
        return pg_type.upper()


def _pg_type(field: pa.Field) -> str:
    """The column type a COPY of ``field`` goes into."""
    kind = field.type
    if pa.types.is_decimal(kind):
        return f"numeric({kind.precision}, {kind.scale})"
    if pa.types.is_timestamp(kind):
        return "timestamptz" if kind.tz else "timestamp"
    for test, name in _ARROW_TYPES:
        if test(kind):
            return name
    raise WarehouseError(f"cannot write column {field.name!r} of Arrow type {kind} to PostgreSQL")


_ARROW_TYPES = (
    (pa.types.is_int8, "smallint"),
    (pa.types.is_int16, "smallint"),
    (pa.types.is_int32, "integer"),
    (pa.types.is_int64, "bigint"),
    (pa.types.is_uint8, "smallint"),
    (pa.types.is_uint16, "integer"),
    (pa.types.is_uint32, "bigint"),
    (pa.types.is_float16, "real"),
    (pa.types.is_float32, "real"),
    (pa.types.is_float64, "double precision"),
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_string, "text"),
    (pa.types.is_large_string, "text"),
    (pa.types.is_binary, "bytea"),
    (pa.types.is_large_binary, "bytea"),
    (pa.types.is_date32, "date"),
    (pa.types.is_null, "text"),
)


def _columns(schema: pa.Schema) -> str:
    if not schema.names:
        raise WarehouseError("cannot create a table without columns")
    return ", ".join('"' + f.name.replace('"', '""') + '" ' + _pg_type(f) for f in schema)
