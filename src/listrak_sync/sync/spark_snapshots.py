"""Snapshots kept in a Spark cluster's catalog (``warehouse.snapshots``), so a sync over Spark
Connect (Databricks) plans inside Spark: the cluster reads the previous snapshot where it is.

The state store stays the source of truth. Each committing run writes its snapshot as a table of
its own, ``<namespace>.listrak_snapshot_<target>__<run id>``, after the state store's snapshot is
replaced and before the run is finished; the run's record names the table (``spark_snapshot``)
when it finishes. The previous snapshot is the table named by the latest run that committed (the
latest ``succeeded`` or ``partial`` run of the target), used only when it exists and holds as
many rows as the state store's snapshot. So a run killed while writing its table leaves a table
nobody names (a resumed run writes it again, and the next commit drops it), and any doubt ends in
planning on the host as before. Delta and Iceberg go through the same ``format()`` call as
Parquet; see docs/explanation/spark.md ("The snapshot in the cluster").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..warehouse import WarehouseError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from ..config.models import SparkSnapshots
    from ..state.protocol import StateBackend
    from ..warehouse.spark import SparkWarehouse

__all__ = ["RECORD", "CatalogSnapshots", "check_workers", "snapshot_table"]

RECORD = "spark_snapshot"  # the run detail naming the table a committed run wrote
_PREFIX = "listrak_snapshot_"
_UNSAFE = re.compile(r"[^a-z0-9_]+")
_ROWS_PER_UPLOAD = 262_144
_COMMITTED = ("succeeded", "partial")


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text.lower()).strip("_")


def _stem(target: str) -> str:
    return f"{_PREFIX}{_safe(target.replace('/', '__'))}__"


def snapshot_table(namespace: str, target: str, run_id: str) -> str:
    """The table holding ``target``'s snapshot as run ``run_id`` committed it."""
    return f"{namespace}.{_stem(target)}{_safe(run_id)}"


@dataclass(frozen=True)
class CatalogSnapshots:
    """The snapshot tables of one sync target in a Spark catalog."""

    warehouse: SparkWarehouse
    namespace: str
    format: str
    target: str

    @classmethod
    def configured(
        cls, warehouse: object, config: SparkSnapshots | None, target: str
    ) -> CatalogSnapshots | None:
        if config is None:
            return None  # checked first: looking at the warehouse's type imports pyspark
        from ..warehouse.spark import SparkWarehouse

        if not isinstance(warehouse, SparkWarehouse) or warehouse.config.local:
            return None  # an embedded Spark reads the run folder's previous.parquet itself
        return cls(warehouse, config.namespace, config.format, target)

    @property
    def _stem(self) -> str:
        return _stem(self.target)

    def table(self, run_id: str) -> str:
        return snapshot_table(self.namespace, self.target, run_id)

    def previous(self, store: StateBackend, snapshot: Path) -> str | None:
        """The committed snapshot's table, or None when the cluster holds none that is certainly
        the state store's ``snapshot`` (then the host plans, and the commit writes one)."""
        runs = store.runs("sync", self.target, limit=200)
        committed = next((r for r in runs if r.status in _COMMITTED), None)
        if committed is None:
            return None
        recorded: Any = committed.details.get(RECORD)
        if not isinstance(recorded, dict) or recorded.get("table") != self.table(committed.run_id):
            return None
        if recorded.get("rows") != pq.ParquetFile(snapshot).metadata.num_rows:
            return None
        table = str(recorded["table"])
        return table if self.warehouse.exists(table) else None

    def write(self, run_id: str, snapshot: Path) -> dict[str, Any]:
        """Upload the state store's new ``snapshot`` as this run's table (replaced if a killed
        attempt left part of it); returns what the run's record keeps (``RECORD``)."""
        table = self.table(run_id)
        source = pq.ParquetFile(snapshot)
        batches = source.iter_batches(batch_size=_ROWS_PER_UPLOAD)
        rows = self._upload(table, batches, replace=True)
        if not rows:  # an empty snapshot: the table still has to exist
            empty = self.warehouse.session.createDataFrame(source.schema_arrow.empty_table())
            empty.write.format(self.format).mode("overwrite").saveAsTable(table)
        return {"table": table, "rows": rows}

    def write_carried(
        self,
        run_id: str,
        previous: str,
        planned: Iterable[pa.RecordBatch],
        keys: Iterable[pa.RecordBatch],
        forget: Callable[[DataFrame], DataFrame],
    ) -> dict[str, Any]:
        """This run's table built in the cluster: the ``planned`` keys' new rows (computed on
        the host, a churn-sized upload) and the rows of ``previous`` (the table the run planned
        against, ``forget`` applied) whose key the plan does not hold, carried over there."""
        table = self.table(run_id)
        session = self.warehouse.session
        uploaded = [session.createDataFrame(pa.Table.from_batches([b])) for b in keys]
        carried = forget(self.warehouse.frame(f"SELECT * FROM {previous}"))
        if uploaded:
            taken = reduce(lambda a, b: a.unionByName(b), uploaded)
            carried = carried.join(taken, on="key", how="left_anti")
        carried.write.format(self.format).mode("overwrite").saveAsTable(table)
        self._upload(table, planned, replace=False)
        rows = self.warehouse.query(f"SELECT count(*) AS n FROM {table}").column("n")[0]
        return {"table": table, "rows": int(rows.as_py())}

    def _upload(self, table: str, batches: Iterable[pa.RecordBatch], *, replace: bool) -> int:
        """Append each non-empty batch to ``table`` (the first replacing it when ``replace``),
        one upload per batch so the host holds one batch at a time; returns the rows written."""
        rows = 0
        for batch in batches:
            if not batch.num_rows:
                continue
            frame = self.warehouse.session.createDataFrame(pa.Table.from_batches([batch]))
            mode = "overwrite" if replace and not rows else "append"
            frame.write.format(self.format).mode(mode).saveAsTable(table)
            rows += batch.num_rows
        return rows

    def clean(self, keep: str) -> None:
        """Drop this target's tables other than ``keep`` (older commits, killed attempts)."""
        found = self.warehouse.query(f"SHOW TABLES IN {self.namespace} LIKE '{self._stem}*'")
        for name in found.column("tableName").to_pylist():
            table = f"{self.namespace}.{name}"
            if str(name).startswith(self._stem) and table != keep:
                self.warehouse.execute(f"DROP TABLE IF EXISTS {table}")


def check_workers(warehouse: SparkWarehouse) -> None:
    """Fail clearly when the cluster's Python workers cannot import listrak_sync (planning
    runs the destination's ``normalize`` there): one tiny ``mapInArrow`` over one row."""
    from .. import __version__

    try:
        found = warehouse.frame("SELECT 1 AS x").mapInArrow(_worker_version, "v STRING").collect()
    except Exception as exc:
        if "listrak_sync" not in str(exc):
            raise
        raise WarehouseError(
            f"{warehouse.name}: Spark's Python workers cannot import listrak_sync; install "
            f"listrak-sync {__version__} on the cluster (on Databricks, its wheel as a cluster "
            "library), or remove warehouse.snapshots to plan in this process"
        ) from None
    versions = {row["v"] for row in found}
    if versions != {__version__}:
        raise WarehouseError(
            f"{warehouse.name}: Spark's Python workers run listrak-sync "
            f"{', '.join(sorted(versions))}, this process {__version__}; install the same version"
        )


def _worker_version(batches: Any) -> Any:
    from .. import __version__

    for _ in batches:
        yield pa.RecordBatch.from_pydict({"v": [__version__]})
