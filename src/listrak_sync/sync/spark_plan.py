"""Planning inside Spark: the audience diffed against the previous snapshot where the data is.

The audience query, its attribute hashes, the previous snapshot (a Parquet folder, or a Delta or
Iceberg table where the cluster has those formats) and the full outer join that classifies every
key all run in Spark. Only the keys that changed (``enter``, ``change``, ``leave``) come back to
the driver, streamed in Arrow batches (the Spark warehouse's ``stream()``: one partition at a
time), so the driver's memory follows the batch size and the churn, not the audience. The
classification is ``plan.classify_sql`` transpiled by sqlglot, so a key gets the same change and
the same attribute hash as in the DuckDB plan. Everything goes through the Warehouse protocol.

This is the engine-side half of a plan; the sync engine still builds its plan from the audience
streamed into DuckDB (``PlanFiles``). See docs/explanation/spark.md.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa
import sqlglot

from ..warehouse import Warehouse, WarehouseError
from .plan import CHANGES, classify_sql, empty_snapshot_sql

__all__ = ["SENT_BACK", "SparkDiff", "diff_in_spark"]

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
