"""Move a test project onto an embedded Spark: its DuckDB tables copied into the project's
``spark-warehouse`` folder and ``warehouse.connection: local[*]``, nothing else changed."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from listrak_sync.warehouse import connect


def on_spark(root: Path) -> None:
    """Point ``root``'s project at ``local[*]`` holding a copy of its DuckDB tables (call it
    again after the DuckDB tables or the project file change). The test process's Spark writes
    the tables (``spark_engine`` fixture); a sync subprocess starts its own."""
    config = root / "listrak-sync.yml"
    text = re.sub(r"(?m)^(\s*connection:) .*$", r"\1 local[*]", config.read_text())
    config.write_text(text)
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        names = [row[0] for row in con.execute("SHOW TABLES").fetchall()]
        tables = {name: con.table(name).to_arrow_table() for name in names}
    with connect("local[*]", base_dir=root) as warehouse:
        for name, table in tables.items():
            warehouse.write(name, table, mode="replace")


def on_spark_connect(root: Path, url: str, namespace: str) -> None:
    """Point ``root``'s project at the Spark Connect server ``url`` holding a copy of its
    DuckDB tables (its default database), with ``warehouse.snapshots`` in ``namespace``: the
    cluster plans against the snapshot kept there (call it again after the tables or the
    project file change)."""
    config = root / "listrak-sync.yml"
    text = re.sub(
        r"(?m)^(\s*)connection: .*$",
        rf"\1connection: {url}\n\1snapshots: {{namespace: {namespace}}}",
        config.read_text(),
    )
    config.write_text(text)
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        names = [row[0] for row in con.execute("SHOW TABLES").fetchall()]
        tables = {name: con.table(name).to_arrow_table() for name in names}
    with connect(url) as warehouse:
        warehouse.execute(f"CREATE DATABASE IF NOT EXISTS {namespace}")
        for name, table in tables.items():
            warehouse.write(name, table, mode="replace")


def snapshot_tables(url: str, namespace: str) -> list[str]:
    """The tables in ``namespace`` of the Spark Connect server ``url``, qualified and sorted
    (``SHOW TABLES`` adds the session's temporary views: left out)."""
    with connect(url) as warehouse:
        found = warehouse.query(f"SHOW TABLES IN {namespace}").to_pylist()
    return sorted(f"{namespace}.{t['tableName']}" for t in found if not t["isTemporary"])
