"""The plan's diff at scale: N current members against N previous ones, 1% churn: the DuckDB
planner as it was (the baseline), the DuckDB planner now, and planning inside an embedded Spark.

All read the same two Parquet inputs: the audience (``audience_schema``, two attributes) and
the previous snapshot (``SNAPSHOT_SCHEMA``). Churn: 0.5% of the previous members left, 0.5% new
members entered and 0.5% changed an attribute. Every engine must find the same counts and the
same rows to send.

- ``before``: ``plan.classify_sql`` materialised whole into a DuckDB table, counted, and the
  changed rows streamed out; 2 GB (the planner's old settings).
- ``duckdb``: ``PlanFiles`` as the sync uses it: the audience streamed in as Arrow batches
  (timed apart: "load"), then ``build``: one pass of the join keeping only planned rows, steps
  cut, ``plan.parquet`` written; 1 GB, spilling to the run folder.
- ``spark``: ``diff_in_spark`` on ``local[2]`` (1 GB heap, 8 shuffle partitions), the planned
  rows streamed into ``PlanFiles.build_from_diff`` as ``plan_in_spark`` does; start-up timed
  apart. Its CPU is the Python driver's plus the JVM's.

Each runs in its own spawned process: its peak RSS is its own (for Spark the JVM's ``VmHWM`` is
reported too). The load average is printed with the table (the machine is shared).

Run: ``.venv/bin/pytest -m benchmark benchmarks/bench_spark_diff.py -s``
(``BENCH_DIFF_ROWS=1000000,10000000`` sets the sizes, ``BENCH_DIFF_ENGINES=before,duckdb,spark``
the engines).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks.memory import peak_rss_mb

SIZES = [int(s) for s in os.environ.get("BENCH_DIFF_ROWS", "1000000,10000000").split(",")]
BATCH = 65_536
ATTRIBUTES = 2


def _java_children() -> list[int]:
    """The JVMs this process started (embedded Spark runs in one)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == os.getpid() and b"java" in command.split(b"\0")[0]:
            found.append(int(entry.name))
    return found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _make_inputs(folder: Path, rows: int) -> tuple[Path, Path]:
    """``current.parquet`` (the audience) and ``previous/`` (the snapshot) for ``rows`` keys."""
    import duckdb

    current, previous = folder / "current.parquet", folder / "previous"
    previous.mkdir()
    con = duckdb.connect(config={"threads": 2, "memory_limit": "1GB"})
    key = "'c' || lpad(i::VARCHAR, 9, '0')"
    con.execute(
        f"""COPY (
            SELECT {key} AS customer_key, 'treatment' AS treatment_group, {key} AS key,
                'first ' || i AS attr_0,
                CASE WHEN i % 200 = 1 THEN 'moved ' || i ELSE 'city ' || (i % 997) END AS attr_1
            FROM range({rows + rows // 200}) t(i) WHERE i % 200 <> 0 OR i >= {rows}
        ) TO '{current}' (FORMAT parquet, ROW_GROUP_SIZE 122880)"""
    )
    con.execute(
        f"""COPY (
            SELECT {key} AS key,
                md5(concat_ws(chr(31), 'first ' || i, 'city ' || (i % 997))) AS attr_hash,
                TRUE AS member, TRUE AS owned, FALSE AS declined, NULL::VARCHAR AS state,
                'r0' AS run_id
            FROM range({rows}) t(i)
        ) TO '{previous / "part-0.parquet"}' (FORMAT parquet, ROW_GROUP_SIZE 122880)"""
    )
    con.close()
    return current, previous


def _duckdb_before(current: str, previous: str) -> dict[str, Any]:
    """The baseline: the planner as it was — the whole diff materialised, then counted and
    filtered, on a connection allowed 2 GB."""
    import duckdb

    from listrak_sync.sync.plan import classify_sql

    started, cpu = time.perf_counter(), time.process_time()
    con = duckdb.connect(config={"threads": os.cpu_count() or 1, "memory_limit": "2GB"})
    con.execute(
        "CREATE TEMP TABLE diff AS "
        + classify_sql(ATTRIBUTES, f"read_parquet('{current}')", f"read_parquet('{previous}/*')")
    )
    counts = dict(con.execute("SELECT change, count(*) FROM diff GROUP BY 1").fetchall())
    sent = 0
    reader = con.sql(
        "SELECT * FROM diff WHERE change IN ('enter', 'change', 'leave')"
    ).to_arrow_reader(BATCH)
    for batch in reader:
        sent += batch.num_rows
    con.close()
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "counts": counts,
        "sent": sent,
    }


GROUPS = [("add", "change = 'enter'"), ("update", "change = 'change'"), ("off", "change = 'leave'")]


def _duckdb(current: str, previous: str) -> dict[str, Any]:
    """The planner now (``PlanFiles``): the audience streamed into its connection as the sync
    streams it (Arrow batches), then one pass of the join keeping only the planned rows, cut
    into steps and written to ``plan.parquet``; 1 GB, spilling to the run's folder."""
    import shutil

    import pyarrow.parquet as pq

    from listrak_sync.sync.plan import PlanFiles, audience_schema
    from listrak_sync.sync.steps import StepGroup

    workdir = Path(previous).parent / "duckdb-run"
    workdir.mkdir()
    files = PlanFiles(workdir, ATTRIBUTES)
    shutil.copyfile(next(Path(previous).glob("*.parquet")), files.previous)
    schema = audience_schema(ATTRIBUTES)
    started, cpu = time.perf_counter(), time.process_time()
    batches = (b.cast(schema) for b in pq.ParquetFile(current).iter_batches(BATCH))
    files.load_audience(batches)
    loaded = time.perf_counter() - started
    groups = [StepGroup(kind, where, removes=kind == "off") for kind, where in GROUPS]
    summary = files.build(groups)
    return {
        "seconds": time.perf_counter() - started - loaded,
        "load": loaded,
        "cpu": time.process_time() - cpu,
        "counts": {k: v for k, v in summary.counts.items() if v},
        "sent": sum(s.rows for s in summary.steps),
    }


def _spark(current: str, previous: str) -> dict[str, Any]:
    """``diff_in_spark``, then the planned rows streamed into ``PlanFiles.build_from_diff`` as
    the sync engine does (``plan_in_spark``): the driver-side half of a plan, measured."""
    import sqlglot

    from listrak_sync.sync.plan import PLANNED, PlanFiles, group_sql
    from listrak_sync.sync.spark_plan import diff_in_spark
    from listrak_sync.sync.steps import StepGroup
    from listrak_sync.warehouse import connect

    started = time.perf_counter()
    folder = Path(previous).parent / "spark-warehouse"
    workdir = Path(previous).parent / "spark-run"
    workdir.mkdir()
    groups = [StepGroup(kind, where, removes=kind == "off") for kind, where in GROUPS]
    with connect(f"local[2]?warehouse_dir={folder}&driver_memory=1g&shuffle_partitions=8") as wh:
        wh.query("SELECT 1")
        startup = time.perf_counter() - started
        jvms = _java_children()
        jvm_cpu = sum(_cpu_seconds(pid) for pid in jvms)
        started, cpu = time.perf_counter(), time.process_time()
        diff = diff_in_spark(wh, f"SELECT * FROM parquet.`{current}`", ATTRIBUTES, previous)
        planned = sqlglot.transpile(
            f"SELECT *, CAST({group_sql(groups)} AS INTEGER) AS grp FROM {diff.view}"
            f" WHERE change IN ('enter', 'change', 'leave')",
            read="duckdb",
            write="spark",
        )[0]
        assert "grp IS NOT NULL" in PLANNED  # every group here takes only those changes
        summary = PlanFiles(workdir, ATTRIBUTES).build_from_diff(
            groups, wh.stream(planned, batch_size=BATCH), diff.counts, 0, diff.members
        )
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        jvm_cpu = sum(_cpu_seconds(pid) for pid in jvms) - jvm_cpu
        jvm = max((peak_rss_mb(pid) for pid in _java_children()), default=0.0)
    return {
        "seconds": seconds,
        "cpu": cpu + jvm_cpu,  # the Python driver's and the JVM's
        "startup": startup,
        "counts": {k: v for k, v in diff.counts.items() if v},
        "sent": sum(s.rows for s in summary.steps),
        "jvm_mb": round(jvm),
    }


def _measure(target: str, current: str, previous: str, queue: Any) -> None:
    result = {"before": _duckdb_before, "duckdb": _duckdb, "spark": _spark}[target](
        current, previous
    )
    queue.put({**result, "peak_mb": peak_rss_mb()})


def _run(target: str, current: Path, previous: Path) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(target, str(current), str(previous), queue))
    process.start()
    result: dict[str, Any] = queue.get(timeout=3600)
    process.join()
    return result


@pytest.mark.benchmark
def test_diff_duckdb_vs_spark(tmp_path: Path) -> None:
    engines = os.environ.get("BENCH_DIFF_ENGINES", "before,duckdb,spark").split(",")
    lines = [
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores, shared)",
        "| members | engine | diff (s) | CPU (s) | start-up or load (s) | Python peak RSS (MB) "
        "| JVM peak RSS (MB) | rows sent back |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for rows in SIZES:
        folder = tmp_path / str(rows)
        folder.mkdir()
        current, previous = _make_inputs(folder, rows)
        found = {engine: _run(engine, current, previous) for engine in engines}
        base = found.get("before")
        for engine, result in found.items():
            if base is not None:
                assert {k: v for k, v in base["counts"].items() if v} == result["counts"]
                assert base["sent"] == result["sent"]
            ratio = f" ({result['seconds'] / base['seconds']:.2f}x)" if base else ""
            name = {"before": "DuckDB, before", "duckdb": "DuckDB planner", "spark": "Spark"}
            extra = result.get("startup", result.get("load"))
            lines.append(
                f"| {rows:,} | {name[engine]} | {result['seconds']:.1f}{ratio} "
                f"| {result.get('cpu', float('nan')):.1f} "
                f"| {'—' if extra is None else f'{extra:.1f}'} | {result['peak_mb']:.0f} "
                f"| {result.get('jvm_mb', 0) or '—'} | {result['sent']:,} |"
            )
        lines.append(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} after {rows:,}")
        print("\n" + "\n".join(lines), flush=True)
