"""Planning inside Spark: the audience diffed against the previous snapshot where the data is.

When the warehouse is an embedded Spark, the sync engine plans here (``plan_in_spark``) instead
of streaming the audience into DuckDB. The audience query runs in Spark; each row's attributes
are normalised to the text sent to Listrak by the destination's own ``normalize``, run on
Spark's Python workers (``mapInArrow``); the attribute hashes, the previous snapshot (the run
folder's ``previous.parquet``, read by Spark in place), the full outer join that classifies
every key, the step group each row falls in and the counts all run in Spark. Only the rows the
plan keeps (every row a step takes, and every ``enter``/``change``/``leave``) come back to the
driver, streamed in Arrow batches (one partition at a time) into ``PlanFiles.build_from_diff``,
which cuts them into parts and writes ``plan.parquet`` exactly as the DuckDB plan does. From
there on — journal, resume, results, the next snapshot and its commit — nothing differs.

The classification, hashes and group conditions are the DuckDB plan's SQL transpiled by sqlglot,
so a key gets the same change, hash and step on both engines. ``diff_in_spark`` is the
classification alone (tests and the benchmark compare it with DuckDB's). See
docs/explanation/spark.md.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlglot

from ..audiences.campaigns import GROUP_COLUMN, AudienceUnit
from ..privacy.suppression import ForgottenSet
from ..warehouse import Warehouse, WarehouseError
from .plan import (
    CHANGES,
    PLANNED,
    PlanFiles,
    PlanSummary,
    as_audience,
    audience_schema,
    classify_sql,
    counts_sql,
    empty_snapshot_sql,
    group_sql,
)
from .steps import StepGroup

if TYPE_CHECKING:
    from ..warehouse.spark import SparkWarehouse
    from .destination import SyncDestination
    from .target import SyncTarget

__all__ = [
    "SENT_BACK",
    "SparkDiff",
    "diff_in_spark",
    "plan_in_spark",
    "plans_in_spark",
    "without_forgotten",
]

# What comes back to the driver: every change a step may act on.
SENT_BACK = ("enter", "change", "leave")
_FORMAT = re.compile(r"^[a-z][a-z0-9_]*$")


def _spark(duckdb_sql: str) -> str:
    return sqlglot.transpile(duckdb_sql, read="duckdb", write="spark")[0]


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass
class SparkDiff:
    """A diff computed in Spark: counts per change, and the changed rows on demand."""

    warehouse: Warehouse
    view: str
    counts: dict[str, int] = field(default_factory=dict)
    members: int = 0  # previous members (member and not declined), as the plan counts them

    def rows(self, batch_size: int = 65_536) -> Iterator[pa.RecordBatch]:
        """The ``enter``, ``change`` and ``leave`` rows as Arrow batches, in no set order (a
        global sort would cost Spark another pass; the plan sorts each part by key)."""
        changes = ", ".join(f"'{c}'" for c in SENT_BACK)
        return self.warehouse.stream(
            f"SELECT * FROM {self.view} WHERE change IN ({changes})", batch_size=batch_size
        )

    def close(self) -> None:
        """Drop the cached diff and the temporary views."""
        self.warehouse.execute(f"UNCACHE TABLE IF EXISTS {self.view}")
        for view in (self.view, f"{self.view}_audience", f"{self.view}_previous"):
            self.warehouse.execute(f"DROP VIEW IF EXISTS {view}")


def diff_in_spark(
    warehouse: Warehouse,
    audience_sql: str,
    attributes: int,
    previous: str | None,
    *,
    previous_format: str = "parquet",
) -> SparkDiff:
    """Diff ``audience_sql`` (Spark SQL giving ``audience_schema`` columns) against the snapshot
    at ``previous`` (a location Spark reads, in ``previous_format``; None on a first run)."""
    if warehouse.dialect != "spark":
        raise WarehouseError(f"planning inside the engine needs Spark, not {warehouse.dialect}")
    if not _FORMAT.match(previous_format):
        raise WarehouseError(f"{previous_format!r} is not a Spark data source name")
    view = f"listrak_sync_diff_{uuid.uuid4().hex[:12]}"
    audience, snapshot = f"{view}_audience", f"{view}_previous"
    warehouse.execute(f"CREATE OR REPLACE TEMPORARY VIEW {audience} AS {audience_sql}")
    if previous is None:
        warehouse.execute(
            f"CREATE OR REPLACE TEMPORARY VIEW {snapshot} AS {_spark(empty_snapshot_sql())}"
        )
    else:
        warehouse.execute(
            f"CREATE OR REPLACE TEMPORARY VIEW {snapshot} USING {previous_format} "
            f"OPTIONS (path {_literal(previous)})"
        )
    classify = _spark(classify_sql(attributes, audience, snapshot))
    warehouse.execute(f"CREATE OR REPLACE TEMPORARY VIEW {view} AS {classify}")
    # The join runs once: its result is kept on the executors' disks (not in their heap) for
    # the counts and the changed rows, instead of joining again for each.
    warehouse.execute(f"CACHE TABLE {view} OPTIONS ('storageLevel' 'DISK_ONLY')")
    diff = SparkDiff(warehouse, view)
    counted = warehouse.query(
        f"SELECT change, count(*) AS n, "
        f"count_if(prev_member AND NOT prev_declined) AS members FROM {view} GROUP BY change"
    )
    counts = dict.fromkeys(CHANGES, 0)
    for row in counted.to_pylist():
        counts[str(row["change"])] += int(row["n"])
        diff.members += int(row["members"])
    diff.counts = counts
    return diff


# --- the sync engine's plan ----------------------------------------------------------------


def plans_in_spark(warehouse: object) -> bool:
    """Whether a sync on ``warehouse`` plans inside Spark against the run folder's
    ``previous.parquet``: an embedded Spark, whose workers read it in place. Over Spark Connect
    the server cannot read the run folder: it plans inside Spark only against a snapshot kept
    in its catalog (``spark_snapshots``), else in DuckDB from the streamed audience."""
    # A Spark warehouse was opened only if its module is loaded: looking it up otherwise would
    # import pyspark and pandas (about half a second) into every DuckDB or PostgreSQL sync.
    adapter = sys.modules.get("listrak_sync.warehouse.spark.adapter")
    if adapter is None:
        return False
    return isinstance(warehouse, adapter.SparkWarehouse) and warehouse.config.local


_STATUS = "_status"
_COUNTED = "_counted"


class _Shape:
    """What Spark's Python workers run on each audience batch (``mapInArrow``): forgotten
    people marked, deliverable rows shaped and normalised as the DuckDB plan shapes them, and
    the rest kept only as (group, status) for the audience report. Pickled to the workers, so
    it holds plain values and a copy of the destination without its audience unit."""

    def __init__(
        self,
        destination: SyncDestination[Any, Any],
        target: SyncTarget,
        columns: list[str],
        key_name: str,
        forgotten: ForgottenSet | None,
        attributes: int,
    ) -> None:
        shaper = copy.copy(destination)
        shaper.unit = None  # type: ignore[assignment]  # normalize() reads the target only
        self.destination = shaper
        self.target = target
        self.columns = columns
        self.key_name = key_name
        self.forgotten = forgotten
        self.schema = audience_schema(attributes)

    def output_schema(self) -> pa.Schema:
        return self.schema.append(pa.field(_STATUS, pa.string())).append(
            pa.field(_COUNTED, pa.string())
        )

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        out = self.output_schema()
        ctx = SimpleNamespace(target=self.target)
        for batch in batches:
            if batch.num_rows == 0:
                continue
            status = batch.column(_STATUS).cast(pa.string())
            if self.forgotten is not None:
                hit = pc.and_(
                    pc.equal(status, "ok"),
                    self.forgotten.mask(batch.column(self.key_name), self.key_name),
                )
                status = pc.if_else(hit, "forgotten", status)
            ok = pc.fill_null(pc.equal(status, "ok"), False)
            good = batch.filter(ok).select(self.columns)
            if good.num_rows:
                # Counters a destination keeps while normalising (values a field refuses):
                # this batch's, sent back with its first row and summed by the driver.
                counter = getattr(self.destination, "invalid_values", None)
                if isinstance(counter, Counter):
                    counter.clear()
                shaped = as_audience(good, self.schema, lambda b: self._normalize(ctx, b))
                counted: list[str | None] = [None] * shaped.num_rows
                if isinstance(counter, Counter) and counter:
                    counted[0] = json.dumps(dict(counter))
                yield pa.RecordBatch.from_arrays(
                    [
                        *shaped.columns,
                        pa.repeat("ok", shaped.num_rows).cast(pa.string()),
                        pa.array(counted, pa.string()),
                    ],
                    schema=out,
                )
            rest = batch.filter(pc.invert(ok))
            if rest.num_rows:
                size = rest.num_rows
                arrays = [pa.nulls(size, pa.string()) for _ in out.names]
                arrays[1] = rest.column(GROUP_COLUMN).cast(pa.string())
                arrays[out.get_field_index(_STATUS)] = pc.filter(status, pc.invert(ok))
                yield pa.RecordBatch.from_arrays(arrays, schema=out)

    def _normalize(self, ctx: SimpleNamespace, batch: pa.RecordBatch) -> pa.RecordBatch:
        return self.destination.normalize(ctx, batch)  # type: ignore[arg-type]


def plan_in_spark(
    warehouse: SparkWarehouse,
    unit: AudienceUnit,
    destination: SyncDestination[Any, Any],
    target: SyncTarget,
    files: PlanFiles,
    groups: Sequence[StepGroup],
    *,
    batch_size: int = 65_536,
    progress: Callable[[int], None] | None = None,
    previous_table: str | None = None,
) -> PlanSummary:
    """Plan ``unit`` inside Spark against ``files.previous`` (or, over Spark Connect, the
    cluster's ``previous_table``: the same snapshot, kept in its catalog) and write
    ``files.plan``; fills ``unit.report`` (and the destination's refused-value counts) as
    streaming it would."""
    from pyspark import StorageLevel

    from .spark_snapshots import check_workers

    if not warehouse.config.local:
        check_workers(warehouse)

    rows = unit.rows
    sql = rows.sql(unit.group)
    attributes = len(rows.attributes)
    shape = _Shape(destination, target, unit.columns, rows.key_name, unit.forgotten, attributes)
    name = f"listrak_sync_plan_{uuid.uuid4().hex[:12]}"
    audience, previous, diff = f"{name}_audience", f"{name}_previous", f"{name}_diff"
    kept: list[Any] = []
    try:
        shaped = warehouse.frame(sql).mapInArrow(shape, _ddl(shape.output_schema()))
        # Kept on the executors' disks: the report and the diff read it without running the
        # audience query and the Python workers twice.
        shaped = shaped.persist(StorageLevel.DISK_ONLY)
        kept.append(shaped)
        shaped.createOrReplaceTempView(audience)
        _report(warehouse, unit, audience, sql)
        counter = getattr(destination, "invalid_values", None)
        if isinstance(counter, Counter):
            for row in warehouse.query(
                f"SELECT {_COUNTED} FROM {audience} WHERE {_COUNTED} IS NOT NULL"
            ).to_pylist():
                counter.update({str(k): int(v) for k, v in json.loads(row[_COUNTED]).items()})
        if progress is not None:
            progress(unit.report.total())
        if previous_table is None:
            warehouse.execute(
                f"CREATE OR REPLACE TEMPORARY VIEW {previous} USING parquet "
                f"OPTIONS (path {_literal(str(Path(files.previous)))})"
            )
        else:
            frame = warehouse.frame(f"SELECT * FROM {previous_table}")
            without_forgotten(frame, unit.forgotten, rows.key_name).createOrReplaceTempView(
                previous
            )
        ok = f"(SELECT * FROM {audience} WHERE {_STATUS} = 'ok')"
        classified = _spark(
            f"SELECT *, CAST({group_sql(groups)} AS INTEGER) AS grp "
            f"FROM ({classify_sql(attributes, ok, previous)})"
        )
        joined = warehouse.frame(classified).persist(StorageLevel.DISK_ONLY)
        kept.append(joined)
        joined.createOrReplaceTempView(diff)
        counts = dict.fromkeys(CHANGES, 0)
        removals = members = 0
        for row in warehouse.query(_spark(counts_sql(groups, diff))).to_pylist():
            counts[str(row["change"])] = int(row["n"])
            removals += int(row["removals"])
            members += int(row["members"])
        planned = warehouse.stream(
            _spark(f"SELECT * FROM {diff} WHERE {PLANNED}"), batch_size=batch_size
        )
        return files.build_from_diff(groups, planned, counts, removals, members)
    finally:
        for frame in kept:
            frame.unpersist()
        for view in (audience, previous, diff):
            warehouse.execute(f"DROP VIEW IF EXISTS {view}")


def without_forgotten(frame: Any, forgotten: ForgottenSet | None, kind: str) -> Any:
    """A snapshot ``frame`` (a Spark DataFrame) without forgotten people's rows, as the host
    drops them from ``previous.parquet``: Spark's Python workers hash each key with the
    project's keyed hasher."""
    if forgotten is None:
        return frame
    return frame.mapInArrow(_Forget(forgotten, kind), frame.schema)


class _Forget:
    """Drops forgotten people's rows from a snapshot batch (run by Spark's Python workers)."""

    def __init__(self, forgotten: ForgottenSet, kind: str) -> None:
        self.forgotten = forgotten
        self.kind = kind

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield batch.filter(pc.invert(self.forgotten.mask(batch.column("key"), self.kind)))


def _report(warehouse: Warehouse, unit: AudienceUnit, audience: str, sql: str) -> None:
    """``unit.report`` as ``AudienceUnit.batches()`` fills it: counts per (group, status) and
    the rejected rows with the lowest customer keys."""
    report = type(unit.report)(sample_size=unit.report.sample_size)
    for row in warehouse.query(
        f"SELECT {GROUP_COLUMN} AS g, {_STATUS} AS s, count(*) AS n FROM {audience} GROUP BY 1, 2"
    ).to_pylist():
        report.counts[(str(row["g"]), str(row["s"]))] += int(row["n"])
    if report.sample_size > 0:
        key = "`" + unit.rows.campaign.config.warehouse.customer_key.replace("`", "``") + "`"
        sample = warehouse.query(
            f"SELECT {key} AS customer_key, {GROUP_COLUMN} AS g, _key_raw, {_STATUS} AS s,"
            f" _reason FROM ({sql}) u WHERE {_STATUS} <> 'ok'"
            f" ORDER BY {key} ASC NULLS LAST LIMIT {int(report.sample_size)}"
        )
        report.rejected_sample = [
            {
                "customer_key": r["customer_key"],
                "group": r["g"],
                "raw_key": r["_key_raw"],
                "status": r["s"],
                "reason": r["_reason"],
            }
            for r in sample.to_pylist()
        ]
    unit.report = report


def _ddl(schema: pa.Schema) -> str:
    """The Spark DDL of an all-text schema (what ``_Shape`` yields)."""
    return ", ".join(f"`{f.name}` STRING" for f in schema)
