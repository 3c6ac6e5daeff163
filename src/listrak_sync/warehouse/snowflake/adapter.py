"""SnowflakeWarehouse: a Snowflake database behind the Warehouse protocol.

Reads use the connector's Arrow result batches (``fetch_arrow_batches``): Snowflake sends a
result as Arrow chunks that the connector downloads as they are consumed, and each is sliced here
to at most ``batch_size`` rows, so memory stays bounded. ADBC's Snowflake driver (Go) was the
other candidate; it was not tried or measured: the connector already hands out Arrow, and it is
what fakesnow (the tests' emulator) is built against.

Writes are Snowflake's bulk path: Arrow batches written to Parquet files of bounded size, ``PUT``
to a temporary stage and loaded with one ``COPY INTO ... MATCH_BY_COLUMN_NAME``.

Identifier case: the session sets ``QUOTED_IDENTIFIERS_IGNORE_CASE``, so the quoted names the
audience SQL writes (``"customer_id"``) find the upper-case columns that unquoted DDL creates
(``CUSTOMER_ID``), and result columns that come back upper-case (Snowflake's folded form) are
handed out lower-case, as Snowflake's SQLAlchemy dialect does. See docs/guides/warehouse.md.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import snowflake.connector
from cryptography.hazmat.primitives import serialization
from snowflake.connector import errors
from snowflake.connector.constants import FIELD_ID_TO_NAME

from ..base import SCRATCH_CATALOG, Column, TableNotFound, WarehouseError, WriteMode
from ..write_input import check_append_columns, source_failure_first, write_input
from .configuration import SnowflakeConfig
from .exceptions import translating

__all__ = ["SnowflakeWarehouse", "normal_name", "quote_table"]

# Rows per Parquet file PUT to the stage: bounds the local file and the memory of one write.
_FILE_ROWS = 500_000
_STAGE = "LISTRAK_SYNC_LOAD"
# Rows per INSERT of scratch rows: server-side array binding (qmark), which the connector stages
# itself above CLIENT_STAGE_ARRAY_BINDING_THRESHOLD; bounded so one request stays small.
_INSERT_ROWS = 10_000
# Scratch tables (SCRATCH_CATALOG.main.<name>) are temporary tables of the session: they need no
# database of their own and vanish with the connection, as the contract says.
_SCRATCH = re.compile(rf"(?i)\b{SCRATCH_CATALOG}\.main\.")
_CREATE_SCRATCH = re.compile(
    rf"(?i)\bCREATE\s+TABLE(\s+IF\s+NOT\s+EXISTS)?\s+{SCRATCH_CATALOG}\.main\."
)

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def normal_name(name: str) -> str:
    """A Snowflake identifier as listrak-sync names it: Snowflake's upper-case folded form
    (``CUSTOMER_ID``) in lower case; names with lower-case letters are kept as they are."""
    return name.lower() if name.isupper() else name


def quote_table(name: str) -> str:
    """``schema.table`` as a quoted Snowflake identifier; each dot-separated part is quoted."""
    parts = name.split(".")
    if not all(parts) or len(parts) > 3:
        raise WarehouseError(
            f"{name!r} is not a table name (table, schema.table or db.schema.table)"
        )
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _scratch(sql: str) -> str:
    """``sql`` with scratch tables as the session's temporary tables."""
    sql = _CREATE_SCRATCH.sub(lambda m: f"CREATE TEMPORARY TABLE{m.group(1) or ''} ", sql)
    return _SCRATCH.sub("", sql)


class SnowflakeWarehouse:
    """A Snowflake database and schema behind the Warehouse protocol.

    One connection (one Snowflake session); statements are serialised by a lock. A stream's
    result is fetched by its query id, so other statements may run while a stream is open.
    """

    def __init__(self, config: SnowflakeConfig, base_dir: Path | None = None) -> None:
        self.config = config
        self._lock = threading.RLock()
        self._password = self._secret(config)
        self._key = self._private_key(base_dir)
        self._stage_ready = False
        self._con = self._connect()
        self._closed = False

    @property
    def dialect(self) -> str:
        return "snowflake"

    @property
    def name(self) -> str:
        return self.config.display

    def __repr__(self) -> str:
        return f"SnowflakeWarehouse({self.config.display!r})"

    @staticmethod
    def _secret(config: SnowflakeConfig) -> str | None:
        """The password (or key passphrase): the configured one, else the environment variable
        Snowflake's own CLI reads (``SNOWFLAKE_PASSWORD``, ``PRIVATE_KEY_PASSPHRASE``), as
        libpq reads ``PGPASSWORD``; so ``sample-data --warehouse snowflake://...`` can log in."""
        if config.password is not None:
            return config.password.get_secret_value()
        variable = "PRIVATE_KEY_PASSPHRASE" if config.private_key_file else "SNOWFLAKE_PASSWORD"
        return os.environ.get(variable) or None

    def _secrets(self) -> tuple[str, ...]:
        return (self._password,) if self._password else ()

    def _private_key(self, base_dir: Path | None) -> bytes | None:
        """The key-pair login's private key as DER, read (and decrypted) from the key file."""
        path = self.config.key_path(base_dir)
        if path is None:
            return None
        passphrase = self._password.encode() if self._password else None
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=passphrase)
        except OSError as exc:
            raise WarehouseError(
                f"{self.name}: cannot read the private key file {path}: {exc.strerror}"
            ) from None
        except (ValueError, TypeError) as exc:
            hint = (
                "the key is encrypted: set warehouse.password to its passphrase"
                if passphrase is None and "encrypted" in str(exc)
                else "it must be a PKCS#8 PEM private key (and warehouse.password its passphrase, "
                "if it is encrypted)"
            )
            raise WarehouseError(
                f"{self.name}: cannot load the private key file {path}\nHint: {hint}"
            ) from None
        return key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def _connection(self, sql: str | None) -> Any:
        """The session's connection, or a clear error once it is closed (the connector, on
        fakesnow at least, would run the statement)."""
        if self._closed:
            raise WarehouseError.closed(self.name, sql)
        return self._con

    def _connect(self) -> Any:
        config = self.config
        session: dict[str, object] = {
            "QUOTED_IDENTIFIERS_IGNORE_CASE": True,
            "TIMEZONE": "UTC",
            "CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False,
        }
        if config.statement_timeout is not None:
            session["STATEMENT_TIMEOUT_IN_SECONDS"] = config.statement_timeout
        options: dict[str, object] = {
            "account": config.account,
            "user": config.user,
            "database": config.database,
            "schema": config.schema_,
            "login_timeout": config.login_timeout,
            "session_parameters": session,
            "application": "listrak_sync",
            "paramstyle": "qmark",  # bound on the server (array binds), never pasted into SQL
            "arrow_number_to_decimal": True,  # NUMBER(p, s) as exact decimals, never floats
            "client_session_keep_alive": False,
            "validate_default_parameters": True,
        }
        for name in ("warehouse", "role", "host", "port", "network_timeout"):
            value = getattr(config, name)
            if value is not None:
                options[name] = value
        if config.protocol != "https":
            options["protocol"] = config.protocol
        if self._key is not None:
            options["private_key"] = self._key
        elif self._password:
            options["password"] = self._password
        else:
            raise WarehouseError(
                f"{self.name}: no login: set ?private_key_file=PATH in warehouse.connection "
                "(key-pair login, preferred) or warehouse.password (or SNOWFLAKE_PASSWORD)"
            )
        with translating(self.name, None, self._secrets()):
            return snowflake.connector.connect(**options)

    # -- reading ---------------------------------------------------------------------------

    def stream(self, sql: str, *, batch_size: int = 65_536) -> Iterator[pa.RecordBatch]:
        """Run ``sql`` now (errors raise here) and return an iterator over its record batches,
        each at most ``batch_size`` rows."""
        sql = _scratch(sql)
        cursor, chunks, schema = self._run(sql)
        return self._batches(cursor, chunks, schema, sql, batch_size)

    def _run(self, sql: str) -> tuple[Any, Iterator[pa.Table], pa.Schema]:
        """Execute ``sql``: its cursor, its result's Arrow chunks (downloaded as they are
        read) and the schema every chunk is cast to."""
        with self._lock, translating(self.name, sql, self._secrets()):
            cursor = self._connection(sql).cursor()
            try:
                cursor.execute(sql)
                return cursor, cursor.fetch_arrow_batches(), _schema(cursor.description)
            except BaseException:
                cursor.close()
                raise

    def _batches(
        self,
        cursor: Any,
        chunks: Iterator[pa.Table],
        schema: pa.Schema,
        sql: str,
        batch_size: int,
    ) -> Iterator[pa.RecordBatch]:
        try:
            while True:
                with translating(self.name, sql, self._secrets()):
                    chunk = next(chunks, None)
                if chunk is None:
                    return
                for batch in chunk.to_batches(max_chunksize=batch_size):
                    if batch.num_rows:
                        yield _convert(batch, schema, self.name, sql)
        finally:
            with contextlib.suppress(errors.Error):
                cursor.close()

    def query(self, sql: str) -> pa.Table:
        """Run ``sql`` and return the whole result; for small results (counts, samples)."""
        sql = _scratch(sql)
        with self._lock:
            cursor, chunks, schema = self._run(sql)
            batches = list(self._batches(cursor, chunks, schema, sql, 1 << 20))
        if batches:  # columns of types we do not map come as the driver gave them
            schema = batches[0].schema
        return pa.Table.from_batches(batches, schema=schema)

    def execute(self, sql: str) -> None:
        """Run one or more statements that return nothing (DDL, INSERT ... SELECT)."""
        sql = _scratch(sql)
        with self._lock, translating(self.name, sql, self._secrets()):
            if ";" in sql.strip().rstrip(";"):
                for cursor in self._connection(sql).execute_string(sql, remove_comments=False):
                    cursor.close()
            else:
                self._connection(sql).cursor().execute(sql).close()

    # -- catalog ---------------------------------------------------------------------------

    def tables(self) -> list[str]:
        """Tables and views of the database: bare names in the connection's schema,
        ``schema.name`` in the others; INFORMATION_SCHEMA left out."""
        # Snowflake lists views among the tables too; fakesnow only under views.
        rows = self.query(
            "SELECT table_schema AS s, table_name AS t FROM information_schema.tables"
            " WHERE table_schema <> 'INFORMATION_SCHEMA' AND table_type <> 'TEMPORARY TABLE' UNION"
            " SELECT table_schema AS s, table_name AS t FROM information_schema.views"
            " WHERE table_schema <> 'INFORMATION_SCHEMA'"
        ).to_pylist()
        here = self.config.schema_.upper()
        names = {
            normal_name(r["t"])
            if r["s"].upper() == here
            else f"{normal_name(r['s'])}.{normal_name(r['t'])}"
            for r in rows
        }
        return sorted(names)

    def describe(self, table: str) -> list[Column]:
        """The columns of ``table`` (types as SQL names: VARCHAR, NUMBER(12,2), BIGINT ...);
        TableNotFound if it is missing or not visible to the role."""
        quote_table(table)  # refuse a malformed name before asking
        parts = table.split(".")
        schema = parts[-2] if len(parts) > 1 else self.config.schema_
        sql = (
            "SELECT column_name AS name, data_type AS type, numeric_precision AS p,"
            " numeric_scale AS s, is_nullable AS nullable FROM information_schema.columns"
            f" WHERE upper(table_schema) = upper({_literal(schema)})"
            f" AND upper(table_name) = upper({_literal(parts[-1])})"
            " ORDER BY ordinal_position"
        )
        rows = self.query(sql).to_pylist()
        if not rows:
            raise TableNotFound(f"{self.name}: no table or view named {table!r}", statement=sql)
        return [
            Column(
                normal_name(r["name"]),
                _type_name(r["type"], r["p"], r["s"]),
                r["nullable"] == "YES",
            )
            for r in rows
        ]

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
        """Write Arrow data into ``table`` (Parquet files PUT to a temporary stage, then one
        ``COPY INTO``); returns the number of rows written.

        Batches are pulled one at a time. ``replace`` loads a new table and only then drops the
        old one and renames the new, so a source failing half-way leaves the old table as it
        was. ``append`` matches columns by name and creates the table when it does not exist.
        ``schema`` casts the input (and is needed to create a table from zero batches).
        """
        prepared = write_input(table, data, mode, schema)
        if prepared is None:
            return 0
        reader, source_error = prepared
        scratch = _SCRATCH.match(table) is not None
        bare = _SCRATCH.sub("", table)
        # A scratch table unquoted, as the SQL that reads it names it (one case on Snowflake
        # and on fakesnow).
        target = bare if scratch and _PLAIN.match(bare) else quote_table(bare)
        columns = _columns(reader.schema)
        with self._lock:
            if scratch:
                self.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {target} ({columns})")
                load = target
            elif mode == "append" and self.exists(table):
                present = [c.name for c in self.describe(table)]
                check_append_columns(self.name, table, reader.schema.names, present, fold_case=True)
                load = target
            else:
                parts = table.split(".")
                load = quote_table(".".join([*parts[:-1], f"{parts[-1]}__listrak_sync_load"]))
                self.execute(f"CREATE OR REPLACE TABLE {load} ({columns})")
            try:
                with source_failure_first(source_error):
                    # Scratch rows (phones to normalise) are few; fakesnow's COPY cannot see a
                    # temporary table, so they go by INSERT.
                    written = self._insert(load, reader) if scratch else self._load(load, reader)
            except BaseException:
                if load != target:
                    with contextlib.suppress(WarehouseError):
                        self.execute(f"DROP TABLE IF EXISTS {load}")
                raise
            if load != target:
                self.execute(f"DROP TABLE IF EXISTS {target}")
                self.execute(f"ALTER TABLE {load} RENAME TO {target}")
        return written

    def prepare_stage(self) -> None:
        """Create the session's load stage (once)."""
        if not self._stage_ready:
            self.execute(f"CREATE TEMPORARY STAGE IF NOT EXISTS {_STAGE}")
            self._stage_ready = True

    def _load(self, target: str, reader: pa.RecordBatchReader) -> int:
        """PUT the reader's rows as Parquet files and COPY them into ``target``."""
        self.prepare_stage()
        prefix = uuid.uuid4().hex
        schema = _parquet_schema(reader.schema)
        written = 0
        with tempfile.TemporaryDirectory(prefix="listrak-sync-load-") as folder:
            files = 0
            rows_in_file = 0
            writer: pq.ParquetWriter | None = None
            path = Path(folder)
            for batch in reader:
                if writer is None:
                    path = Path(folder) / f"part{files:05d}.parquet"
                    writer = pq.ParquetWriter(path, schema)
                writer.write_batch(_for_parquet(batch, schema))
                rows_in_file += batch.num_rows
                written += batch.num_rows
                if rows_in_file >= _FILE_ROWS:
                    writer.close()
                    self._put(path, prefix)
                    writer, rows_in_file, files = None, 0, files + 1
            if writer is not None:
                writer.close()
                self._put(path, prefix)
                files += 1
            if files:
                sql = (
                    # USE_LOGICAL_TYPE: Parquet's timestamp and decimal types as such (else
                    # Snowflake reads a microsecond timestamp as seconds).
                    f"COPY INTO {target} FROM @{_STAGE}/{prefix}/"
                    " FILE_FORMAT = (TYPE = PARQUET USE_LOGICAL_TYPE = TRUE)"
                    " MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE PURGE = TRUE"
                )
                self.execute(sql)
        return written

    def _insert(self, target: str, reader: pa.RecordBatchReader) -> int:
        """INSERT the reader's rows, a batch at a time (the connector binds them as arrays)."""
        names = ", ".join('"' + n.replace('"', '""') + '"' for n in reader.schema.names)
        marks = ", ".join(["?"] * len(reader.schema.names))
        sql = f"INSERT INTO {target} ({names}) VALUES ({marks})"
        written = 0
        for batch in reader:
            for offset in range(0, batch.num_rows, _INSERT_ROWS):
                part = batch.slice(offset, _INSERT_ROWS)
                rows = list(zip(*(column.to_pylist() for column in part.columns), strict=True))
                with translating(self.name, sql, self._secrets()):
                    self._connection(sql).cursor().executemany(sql, rows).close()
            written += batch.num_rows
        return written

    def _put(self, path: Path, prefix: str) -> None:
        sql = (
            f"PUT {_literal('file://' + path.as_posix())} @{_STAGE}/{prefix}/ AUTO_COMPRESS = FALSE"
        )
        with translating(self.name, sql, self._secrets()):
            self._connection(sql).cursor().execute(sql).close()
        path.unlink()

    def scratch_table(self, name: str) -> str:
        """``listrak_sync_scratch.main.<name>``: a name this adapter reads as the session's
        TEMPORARY table ``<name>`` (``CREATE TABLE`` of it creates a temporary table; other
        statements and ``write()`` drop the prefix). Temporary tables need no database or schema
        of their own, only CREATE TABLE on the connection's schema, and the session's cursors
        (streams included) all see them; they vanish when the connection closes."""
        return f"{SCRATCH_CATALOG}.main.{name}"

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (and with it the session's temporary tables); safe twice."""
        with self._lock, contextlib.suppress(errors.Error):
            self._closed = True
            self._con.close()

    def __enter__(self) -> SnowflakeWarehouse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# -- types -----------------------------------------------------------------------------------


def _arrow_type(type_name: str, precision: int | None, scale: int | None) -> pa.DataType | None:
    """The Arrow type handed out for a Snowflake result column (None: as the driver gives it)."""
    if type_name == "FIXED":
        if scale:
            return pa.decimal128(precision or 38, scale)
        return pa.int64()
    simple = {
        "REAL": pa.float64(),
        "TEXT": pa.string(),
        "BINARY": pa.binary(),
        "BOOLEAN": pa.bool_(),
        "DATE": pa.date32(),
        "TIME": pa.time64("us"),
        "TIMESTAMP_NTZ": pa.timestamp("us"),
        "TIMESTAMP_LTZ": pa.timestamp("us", tz="UTC"),
        "TIMESTAMP_TZ": pa.timestamp("us", tz="UTC"),
        "VARIANT": pa.string(),
        "OBJECT": pa.string(),
        "ARRAY": pa.string(),
    }
    return simple.get(type_name)


def _schema(description: Iterable[Any]) -> pa.Schema:
    """The schema we hand out, from the cursor's column descriptions: names normalised, one
    type per column (Snowflake sends each chunk's integers in the narrowest type that fits)."""
    fields = []
    for column in description:
        kind = _arrow_type(
            FIELD_ID_TO_NAME.get(column.type_code, ""), column.precision, column.scale
        )
        fields.append(pa.field(normal_name(column.name), kind or pa.null(), True))
    return pa.schema(fields)


def _convert(batch: pa.RecordBatch, schema: pa.Schema, name: str, sql: str) -> pa.RecordBatch:
    columns = []
    fields = []
    for index, target in enumerate(schema):
        column = batch.column(index)
        if pa.types.is_null(target.type):  # a type we do not map: as the driver gives it
            target = pa.field(target.name, column.type, True)
        elif column.type != target.type:
            try:
                column = pc.cast(column, target.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise WarehouseError(
                    f"{name}: column {target.name!r}: {exc} (values are read exactly as "
                    f"{target.type}; cast the column in SQL, e.g. to NUMBER(38, s) or "
                    "TIMESTAMP_NTZ(6))",
                    statement=sql,
                ) from None
        columns.append(column)
        fields.append(target)
    return pa.RecordBatch.from_arrays(columns, schema=pa.schema(fields))


def _type_name(data_type: str, precision: int | None, scale: int | None) -> str:
    """An information_schema type (``NUMBER`` with precision and scale, ``TEXT``) in the SQL
    spelling the audience checks know (DECIMAL(12, 2), BIGINT, VARCHAR, TIMESTAMP)."""
    kind = data_type.upper()
    if kind == "NUMBER":
        if scale:
            return f"DECIMAL({precision}, {scale})"
        return "BIGINT"
    if kind == "TEXT":
        return "VARCHAR"
    if kind == "FLOAT":
        return "DOUBLE"
    if kind == "TIMESTAMP_NTZ":
        return "TIMESTAMP"
    if kind in ("TIMESTAMP_LTZ", "TIMESTAMP_TZ"):
        return "TIMESTAMPTZ"
    return kind


def _sf_type(field: pa.Field) -> str:
    """The column type a load of ``field`` goes into."""
    kind = field.type
    if pa.types.is_decimal(kind):
        if kind.precision > 38:
            raise WarehouseError(
                f"cannot write column {field.name!r} of Arrow type {kind} to Snowflake "
                "(NUMBER holds at most 38 digits)"
            )
        return f"NUMBER({kind.precision}, {kind.scale})"
    if pa.types.is_timestamp(kind):
        digits = {"s": 0, "ms": 3, "us": 6, "ns": 9}[kind.unit]
        return f"TIMESTAMP_TZ({digits})" if kind.tz else f"TIMESTAMP_NTZ({digits})"
    for test, name in _ARROW_TYPES:
        if test(kind):
            return name
    raise WarehouseError(f"cannot write column {field.name!r} of Arrow type {kind} to Snowflake")


_ARROW_TYPES = (
    (pa.types.is_integer, "BIGINT"),
    (pa.types.is_floating, "DOUBLE"),
    (pa.types.is_boolean, "BOOLEAN"),
    (pa.types.is_string, "VARCHAR"),
    (pa.types.is_large_string, "VARCHAR"),
    (pa.types.is_binary, "BINARY"),
    (pa.types.is_large_binary, "BINARY"),
    (pa.types.is_date32, "DATE"),
    (pa.types.is_null, "VARCHAR"),
)


def _columns(schema: pa.Schema) -> str:
    if not schema.names:
        raise WarehouseError("cannot create a table without columns")
    return ", ".join('"' + f.name.replace('"', '""') + '" ' + _sf_type(f) for f in schema)


def _parquet_schema(schema: pa.Schema) -> pa.Schema:
    """The Parquet files' schema: columns of no type (all null) as strings."""
    return pa.schema(
        [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in schema]
    )


def _for_parquet(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    return batch if batch.schema.equals(schema) else batch.cast(schema)
