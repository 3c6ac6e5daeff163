"""SparkWarehouse: Apache Spark behind the Warehouse protocol, embedded or over Spark Connect.

Only the DataFrame and SQL APIs are used (no RDDs, no SparkContext), so the same code runs on an
embedded ``local[*]`` session, on a Spark Connect server and on Databricks.

Embedded Spark keeps each table as a folder of Parquet files under ``warehouse_dir`` and shows it
to SQL as a temporary view of that folder, registered when the warehouse opens: every process
sees the same tables without a metastore (Spark's embedded Hive metastore lets one process in at
a time), and each warehouse is a session of its own, so two warehouses in one process never see
each other's tables. Writes go straight from Arrow to Parquet (no JVM round trip); a replace
swaps the folder, so a failed write leaves the old table as it was. Over Spark Connect the
server's catalog holds the tables and writes go through ``saveAsTable``.

Results come back as Arrow record batches, one partition at a time (Spark's Arrow C stream:
``mapInArrow`` then ``toLocalIterator``), so the driver holds one partition, not the result.

The scratch catalog (``SCRATCH_CATALOG``: the phone normalisation cache) is held as Arrow in
this process and shown to SQL as session-scoped temporary views, so reading an audience never
writes the warehouse; statements naming ``listrak_sync_scratch.main.<table>`` are rewritten to
those views.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import sys
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from pyspark.errors import PySparkException
from pyspark.logger import PySparkLogger
from pyspark.sql import DataFrame, SparkSession
from sqlglot import exp

from ...state.private import private_file, private_folder
from ..base import SCRATCH_CATALOG, Column, TableNotFound, WarehouseError, WriteMode
from .configuration import SparkConfig
from .exceptions import translate, translating

__all__ = ["SparkWarehouse", "quote_table"]

log = logging.getLogger(__name__)
# Temporary views holding the scratch catalog's tables are named with this prefix.
_SCRATCH_VIEW = "listrak_sync_scratch__"
# Rows per Parquet file a write produces: several files let Spark read a table in parallel.
_ROWS_PER_FILE = 1_000_000
# Rows per DataFrame a Spark Connect write sends (each is one request to the server).
_ROWS_PER_UPLOAD = 250_000
_base_lock = threading.Lock()
_LOG_CONFIG = Path(__file__).with_name("log4j2.properties")
# PySpark logs every failed statement (message and JVM stack, as JSON) on these loggers before
# raising it; we raise it as a WarehouseError, which callers report once, in plain words.
for _logger in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
    PySparkLogger.getLogger(_logger).setLevel(logging.CRITICAL + 1)


def quote_table(name: str) -> str:
    """``schema.table`` as a quoted Spark identifier; each dot-separated part is quoted."""
    parts = name.split(".")
    if not all(parts) or len(parts) > 3:
        raise WarehouseError(f"{name!r} is not a table name (table or schema.table)")
    return ".".join("`" + part.replace("`", "``") + "`" for part in parts)


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _local_session(config: SparkConfig) -> SparkSession:
    """A new session of the process's embedded Spark (started on first use).

    Spark runs one engine per process: the first warehouse's ``master`` and memory win, later
    ones get sessions of it (their own temporary views and settings)."""
    with _base_lock:
        builder = (
            SparkSession.builder.master(str(config.master))
            .appName("listrak-sync")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.log.level", "ERROR")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        )
        if config.driver_memory is not None:
            builder = builder.config("spark.driver.memory", config.driver_memory)
        if not any(c.isspace() for c in str(_LOG_CONFIG)):  # JVM options split on spaces
            option = f"-Dlog4j2.configurationFile={_LOG_CONFIG}"
            builder = builder.config("spark.driver.extraJavaOptions", option)
        # Python workers (they stream results as Arrow) must run this interpreter, which has
        # pyarrow; PySpark reads the variable when the engine starts and defaults to python3.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        try:
            base = builder.getOrCreate()
        except Exception as exc:  # the JVM did not start: Java missing or too old
            raise WarehouseError(
                f"{config.display}: cannot start Spark: {exc} (embedded Spark needs Java 17 or "
                "later: `java -version`; on Debian `apt-get install default-jre-headless`)"
            ) from None
    return base.newSession()


def _reachable(config: SparkConfig, timeout: float = 10.0) -> None:
    """Refuse an unreachable server now: the Spark Connect client retries a refused connection
    with backoff for minutes before it gives up."""
    parts = urlsplit(str(config.remote).replace("/;", "/?", 1))
    host, port = parts.hostname or "", parts.port or 15002
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise WarehouseError(
            f"{config.display}: cannot reach Spark Connect at {host}:{port} "
            f"({exc.strerror or exc}); is the server running, and are the host and port right?"
        ) from None


def _remote_session(config: SparkConfig) -> SparkSession:
    _reachable(config)
    try:
        return SparkSession.builder.remote(config.remote_url()).create()
    except PySparkException as exc:
        raise translate(exc, config.display) from None
    except Exception as exc:  # gRPC or import errors carry no secret but may be long
        raise WarehouseError(f"{config.display}: cannot reach Spark Connect: {exc}") from None


class SparkWarehouse:
    """A Spark session behind the Warehouse protocol."""

    def __init__(self, config: SparkConfig) -> None:
        self.config = config
        self._lock = threading.RLock()
        self._scratch: dict[str, pa.Table] = {}
        self._scratch_dir: Path | None = None
        self._scratch_rows: dict[str, int] = {}
        self._closed = False
        if config.local:
            self._root: Path | None = Path(config.warehouse_dir)
            self._session = _local_session(config)
        else:
            self._root = None
            self._session = _remote_session(config)
        with translating(self.name):
            if config.local:  # a cluster's own setting fits the cluster: keep it
                partitions = str(config.shuffle_partitions)
                self._session.conf.set("spark.sql.shuffle.partitions", partitions)
            self._session.conf.set("spark.sql.session.timeZone", "UTC")
        if self._root is not None:
            for table in self._local_tables():
                self._register(table)

    @property
    def dialect(self) -> str:
        return "spark"

    @property
    def name(self) -> str:
        return self.config.display

    @property
    def session(self) -> SparkSession:
        """The Spark session, for work the protocol does not cover (benchmarks, planning)."""
        return self._session

    def __repr__(self) -> str:
        return f"SparkWarehouse({self.config.display!r})"

    # -- SQL -------------------------------------------------------------------------------

    def _sql(self, sql: str) -> DataFrame:
        """``sql`` as a DataFrame (analysed now: a wrong name raises here)."""
        with translating(self.name, sql):
            return self._session.sql(_scratch_views(sql))

    def frame(self, sql: str) -> DataFrame:
        """``sql`` as a DataFrame (scratch tables resolved), for planning inside Spark."""
        return self._sql(sql)

    def stream(self, sql: str, *, batch_size: int = 65_536) -> Iterator[pa.RecordBatch]:
        """Run ``sql`` now (errors in the statement raise here) and return an iterator over its
        record batches, each at most ``batch_size`` rows; the driver holds one partition."""
        frame = self._sql(sql)
        with translating(self.name, sql):
            schema = _arrow_schema(frame)
        return self._batches(frame, schema, sql, batch_size)

    def _batches(
        self, frame: DataFrame, schema: pa.Schema, sql: str, batch_size: int
    ) -> Iterator[pa.RecordBatch]:
        reader: pa.RecordBatchReader | None = None
        try:
            with translating(self.name, sql):
                reader = pa.RecordBatchReader.from_stream(frame)
            while True:
                try:
                    with translating(self.name, sql):
                        batch = reader.read_next_batch()
                except StopIteration:
                    return
                except (pa.ArrowException, OSError) as exc:
                    raise WarehouseError(f"{self.name}: {exc}", statement=sql) from None
                batch = _normalised(batch, schema)
                for offset in range(0, batch.num_rows, batch_size):
                    yield batch.slice(offset, batch_size)
        finally:
            if reader is not None:
                reader.close()

    def query(self, sql: str) -> pa.Table:
        """Run ``sql`` and return the whole result; for small results (counts, samples)."""
        frame = self._sql(sql)
        with translating(self.name, sql):
            table = frame.toArrow()
            schema = _arrow_schema(frame)
        return pa.Table.from_batches(
            [_normalised(b, schema) for b in table.to_batches()], schema=schema
        )

    def interrupt(self) -> None:
        """Stop the operations running in this warehouse's session now (from another thread):
        each raises ``WarehouseError`` where it runs. Other warehouses are sessions of their
        own and go on. The web console stops a live count no one waits for."""
        with contextlib.suppress(Exception):  # a session ending meanwhile has nothing to stop
            self._session.interruptAll()

    def execute(self, sql: str) -> None:
        """Run one or more statements that return nothing; ``CREATE TABLE IF NOT EXISTS`` of a
        scratch table creates it empty in this process."""
        try:
            statements = [s for s in sqlglot.parse(sql, read="spark") if s is not None]
        except sqlglot.errors.SqlglotError:
            statements = []  # Spark SQL sqlglot does not know: Spark judges it, as one statement
        if len(statements) <= 1:
            if not self._create_scratch(statements):
                self._sql(sql).collect()
            return
        for statement in statements:
            if not self._create_scratch([statement]):
                self._sql(statement.sql(dialect="spark")).collect()

    def _create_scratch(self, statements: list[exp.Expr]) -> bool:
        """Create the scratch table a ``CREATE TABLE`` names; False if it is not one."""
        if not statements or not isinstance(statements[0], exp.Create):
            return False
        create = statements[0]
        target = create.find(exp.Table)
        if target is None or target.catalog.lower() != SCRATCH_CATALOG:
            return False
        schema = create.this
        if not isinstance(schema, exp.Schema):
            raise WarehouseError(f"{self.name}: a scratch table is created with its columns")
        fields = []
        for column in schema.expressions:
            if isinstance(column, exp.ColumnDef):
                kind = column.args.get("kind")
                fields.append(pa.field(column.name, _arrow_type(kind)))
        with self._lock:
            if target.name in self._scratch and create.args.get("exists"):
                return True
            self._set_scratch(target.name, pa.schema(fields).empty_table())
        return True

    # -- catalog ---------------------------------------------------------------------------

    def tables(self) -> list[str]:
        """The tables (and views) the connection can see: bare names in the current database,
        ``schema.name`` in the others (Spark Connect); the scratch catalog left out."""
        if self._root is not None:
            return self._local_tables()
        with translating(self.name):
            current = self._session.catalog.currentDatabase()
            names = set()
            for database in self._session.catalog.listDatabases():
                for table in self._session.catalog.listTables(database.name):
                    if table.isTemporary:
                        continue
                    names.add(
                        table.name if database.name == current else f"{database.name}.{table.name}"
                    )
        return sorted(names)

    def describe(self, table: str) -> list[Column]:
        """The columns of ``table`` (types as SQL names: STRING, BIGINT, DECIMAL(12,2) ...);
        TableNotFound if it is missing."""
        target = self._view(table)
        try:
            with translating(self.name, f"DESCRIBE {target}"):
                schema = self._session.table(target).schema
        except TableNotFound:
            raise TableNotFound(f"{self.name}: no table or view named {table!r}") from None
        return [Column(f.name, _type_name(f.dataType.simpleString()), f.nullable) for f in schema]

    def exists(self, table: str) -> bool:
        try:
            self.describe(table)
        except TableNotFound:
            return False
        return True

    def _view(self, table: str) -> str:
        """The quoted name SQL uses for ``table`` (scratch tables are temporary views)."""
        parts = table.split(".")
        if len(parts) == 3 and parts[0].lower() == SCRATCH_CATALOG:
            return quote_table(_SCRATCH_VIEW + parts[2])
        return quote_table(table)

    # -- embedded tables -------------------------------------------------------------------

    def _local_tables(self) -> list[str]:
        assert self._root is not None
        if not self._root.is_dir():
            return []
        return sorted(
            entry.name
            for entry in self._root.iterdir()
            if entry.is_dir() and not entry.name.startswith(".") and any(entry.glob("*.parquet"))
        )

    def _folder(self, table: str) -> Path:
        assert self._root is not None
        if "." in table or "/" in table or table.startswith(".") or not table.strip():
            raise WarehouseError(
                f"{self.name}: {table!r}: an embedded Spark warehouse holds plain table names "
                "(no schema); use Spark Connect for a catalog with schemas"
            )
        return self._root / table

    def _register(self, table: str) -> None:
        """Show ``table``'s Parquet folder to SQL as a temporary view (lists its files now)."""
        folder = self._folder(table)
        sql = (
            f"CREATE OR REPLACE TEMPORARY VIEW {quote_table(table)} "
            f"USING parquet OPTIONS (path {_literal(str(folder))})"
        )
        with translating(self.name, sql):
            self._session.sql(sql)

    def _write_local(
        self, table: str, batches: Iterator[pa.RecordBatch], schema: pa.Schema, mode: WriteMode
    ) -> int:
        folder = self._folder(table)
        if mode == "append" and folder.is_dir() and any(folder.glob("*.parquet")):
            existing = pq.read_schema(next(iter(sorted(folder.glob("*.parquet")))))
            missing = [n for n in schema.names if n not in existing.names]
            if missing:
                raise WarehouseError(f"{self.name}: {table!r} has no column {missing[0]!r}")
            rows = _write_parquet(folder, _by_name(batches, existing), existing)
            self._register(table)
            return rows
        assert self._root is not None
        self._root.mkdir(parents=True, exist_ok=True)
        staged = self._root / f".{table}.{uuid.uuid4().hex}.staged"
        old = self._root / f".{table}.{uuid.uuid4().hex}.old"
        try:
            rows = _write_parquet(staged, batches, schema)
            if folder.exists():
                folder.rename(old)
            staged.rename(folder)
        finally:
            shutil.rmtree(staged, ignore_errors=True)
            shutil.rmtree(old, ignore_errors=True)
        self._register(table)
        return rows

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

        Batches are pulled one at a time, so an iterable of batches (another warehouse's
        ``stream()``) is never held whole. ``append`` matches columns by name and creates the
        table when it does not exist. ``schema`` casts the input to those types (and is needed to
        create a table from zero batches)."""
        if mode not in ("replace", "append"):
            raise WarehouseError(f"unknown write mode {mode!r} (replace or append)")
        batches, target = _input(data, schema)
        if target is None:
            if mode == "append":
                return 0
            raise WarehouseError(f"cannot create {table!r} from no batches without a schema")
        parts = table.split(".")
        if len(parts) == 3 and parts[0].lower() == SCRATCH_CATALOG:
            return self._write_scratch(parts[2], batches, target, mode)
        with self._lock:
            if self._root is not None:
                return self._write_local(table, batches, target, mode)
            return self._write_remote(table, batches, target, mode)

    def _write_remote(
        self, table: str, batches: Iterator[pa.RecordBatch], schema: pa.Schema, mode: WriteMode
    ) -> int:
        """Upload in slices (one DataFrame each) and ``saveAsTable``; not one transaction: a
        failure half-way leaves the slices already written."""
        name = quote_table(table)
        rows = 0
        first = True
        for chunk in _chunks(batches, schema, _ROWS_PER_UPLOAD, always_one=True):
            with translating(self.name, f"INSERT INTO {name}"):
                frame = self._session.createDataFrame(chunk)
                if mode == "append" and self.exists(table):
                    columns = [c.name for c in self.describe(table)]
                    missing = [n for n in frame.columns if n not in columns]
                    if missing:
                        raise WarehouseError(f"{self.name}: {table!r} has no column {missing[0]!r}")
                    frame.write.mode("append").option("mergeSchema", "false").saveAsTable(name)
                else:
                    frame.write.mode("overwrite" if first else "append").saveAsTable(name)
            rows += chunk.num_rows
            first = False
        return rows

    # -- scratch catalog -------------------------------------------------------------------

    def scratch_table(self, name: str) -> str:
        """``listrak_sync_scratch.main.<name>``: a table this adapter keeps as Arrow in this
        process and shows to SQL as a temporary view of the session (``CREATE TABLE`` of it
        creates it empty; other statements and ``write()`` name the view)."""
        return f"{SCRATCH_CATALOG}.main.{name}"

    def _write_scratch(
        self, name: str, batches: Iterator[pa.RecordBatch], schema: pa.Schema, mode: WriteMode
    ) -> int:
        with self._lock:
            current = self._scratch.get(name) if mode == "append" else None
            added = pa.Table.from_batches(list(batches), schema=schema)
            if current is not None:
                added = added.select(current.schema.names).cast(current.schema)
                self._set_scratch(name, pa.concat_tables([current, added]))
            else:
                self._set_scratch(name, added)
        return int(added.num_rows)

    def _set_scratch(self, name: str, table: pa.Table) -> None:
        self._scratch[name] = table
        frame = self._session.createDataFrame(table, schema=_spark_ddl(table.schema))
        with translating(self.name):
            frame.createOrReplaceTempView(_SCRATCH_VIEW + name)

    def keep_scratch(self, folder: Path) -> None:
        """Keep the scratch tables between connections as Parquet files in ``folder``
        (owner-only): loaded now, saved when the warehouse closes if they grew."""
        self._scratch_dir = folder
        self._scratch_rows = {}
        if not folder.exists():
            return
        for file in sorted(folder.glob("*.parquet")):
            if not file.stem.isidentifier():
                continue
            try:
                table = pq.read_table(file)
                self._set_scratch(file.stem, table)
            except (pa.ArrowException, OSError, WarehouseError):
                continue  # a cache: a damaged file is rebuilt, not an error
            self._scratch_rows[file.stem] = table.num_rows

    def _save_scratch(self) -> None:
        folder = self._scratch_dir
        if folder is None:
            return
        for name, data in self._scratch.items():
            if data.num_rows == self._scratch_rows.get(name, -1):
                continue
            private_folder(folder)
            target = folder / f"{name}.parquet"
            staged = private_file(target.with_name(target.name + f".{os.getpid()}.staged"))
            pq.write_table(data, staged)
            os.replace(staged, target)

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Save the scratch caches and end the session (Spark Connect: on the server too);
        safe to call twice. Embedded Spark itself stays up until the process ends."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._save_scratch()
            finally:
                if self._root is None:
                    with contextlib.suppress(Exception):
                        self._session.stop()
                else:
                    with contextlib.suppress(Exception):
                        for view in self._session.catalog.listTables():
                            if view.isTemporary:
                                self._session.catalog.dropTempView(view.name)

    def __enter__(self) -> SparkWarehouse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# -- SQL rewriting ---------------------------------------------------------------------------


def _scratch_views(sql: str) -> str:
    """``sql`` with tables of the scratch catalog replaced by their temporary views (Spark has
    no catalog by that name; the rewrite only runs when the statement names it)."""
    if SCRATCH_CATALOG not in sql.lower():
        return sql

    def view(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and node.catalog.lower() == SCRATCH_CATALOG:
            replaced = exp.Table(this=exp.to_identifier(_SCRATCH_VIEW + node.name, quoted=True))
            if node.alias:
                replaced.set("alias", node.args["alias"])
            return replaced
        return node

    parsed = sqlglot.parse_one(sql, read="spark")
    return parsed.transform(view).sql(dialect="spark")


# -- types -----------------------------------------------------------------------------------


def _type_name(spark_type: str) -> str:
    """A Spark type (``string``, ``decimal(12,2)``, ``timestamp_ntz``) in SQL spelling."""
    try:
        return exp.DataType.build(spark_type, dialect="spark").sql("spark")
    except (sqlglot.errors.ParseError, ValueError):
        return spark_type.upper()


def _arrow_type(kind: Any) -> pa.DataType:
    """The Arrow type of a column declared in a scratch table's CREATE TABLE."""
    if isinstance(kind, exp.DataType) and kind.this in (
        exp.DataType.Type.BIGINT,
        exp.DataType.Type.INT,
    ):
        return pa.int64()
    return pa.string()


def _spark_ddl(schema: pa.Schema) -> str:
    """The Spark DDL schema of an Arrow schema, so an empty table keeps its column types."""
    names = {
        pa.string(): "STRING",
        pa.large_string(): "STRING",
        pa.int64(): "BIGINT",
        pa.int32(): "INT",
        pa.float64(): "DOUBLE",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
    }
    columns = []
    for field in schema:
        kind = names.get(field.type)
        if kind is None:
            raise WarehouseError(f"cannot keep column {field.name!r} of type {field.type} in Spark")
        columns.append(f"`{field.name}` {kind}")
    return ", ".join(columns)


def _arrow_schema(frame: DataFrame) -> pa.Schema:
    """The schema we hand out for ``frame``: Spark's Arrow schema with large types made plain."""
    from pyspark.sql.pandas.types import to_arrow_schema

    return _plain(to_arrow_schema(frame.schema))


def _plain(schema: pa.Schema) -> pa.Schema:
    fields = []
    for field in schema:
        kind = field.type
        if pa.types.is_large_string(kind):
            kind = pa.string()
        elif pa.types.is_large_binary(kind):
            kind = pa.binary()
        fields.append(pa.field(field.name, kind, field.nullable))
    return pa.schema(fields)


def _normalised(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    if batch.schema.equals(schema):
        return batch
    arrays = [
        column if column.type == field.type else column.cast(field.type)
        for column, field in zip(batch.columns, schema, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


# -- write input -----------------------------------------------------------------------------


def _input(
    data: pa.Table | Iterable[pa.RecordBatch], schema: pa.Schema | None
) -> tuple[Iterator[pa.RecordBatch], pa.Schema | None]:
    """The input as batches cast to ``schema`` (or the first batch's), and that schema (None
    when there are no batches and no schema)."""
    if isinstance(data, pa.Table):
        table = data.cast(schema) if schema is not None else data
        return iter(table.to_batches()), table.schema
    batches = iter(data)
    if schema is None:
        first = next(batches, None)
        if first is None:
            return iter(()), None
        schema = first.schema
        batches = _chain(first, batches)
    target = schema

    def cast() -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield batch if batch.schema.equals(target) else batch.cast(target)

    return cast(), target


def _by_name(batches: Iterator[pa.RecordBatch], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """Batches with the columns of ``schema`` in its order and types, missing ones as nulls."""
    for batch in batches:
        arrays = [
            batch.column(f.name).cast(f.type)
            if f.name in batch.schema.names
            else pa.nulls(batch.num_rows, f.type)
            for f in schema
        ]
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _write_parquet(folder: Path, batches: Iterator[pa.RecordBatch], schema: pa.Schema) -> int:
    """Write ``batches`` into new Parquet files in ``folder``; returns the rows written.

    An empty input still writes one file: Spark reads a table's columns from its files."""
    private_folder(folder)
    rows = 0
    for chunk in _chunks(batches, schema, _ROWS_PER_FILE, always_one=True):
        file = private_file(folder / f"part-{uuid.uuid4().hex}.parquet")
        pq.write_table(chunk, file)
        rows += chunk.num_rows
    return rows


def _chunks(
    batches: Iterator[pa.RecordBatch], schema: pa.Schema, rows: int, *, always_one: bool
) -> Iterator[pa.Table]:
    """Tables of about ``rows`` rows from ``batches``; one empty table for an empty input when
    ``always_one``."""
    pending: list[pa.RecordBatch] = []
    count = 0
    produced = False
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield pa.Table.from_batches(pending, schema=schema)
            produced = True
            pending, count = [], 0
    if pending or (always_one and not produced):
        yield pa.Table.from_batches(pending, schema=schema)


def _chain(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest
