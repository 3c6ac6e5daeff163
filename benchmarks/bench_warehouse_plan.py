"""Audience query and diff of a 1,000,000-customer campaign, from PostgreSQL and from DuckDB, in
the same run: listrak-sync vs a naive fetch-all baseline.

listrak-sync: the campaign's compiled audience query streamed as Arrow batches (ADBC on
PostgreSQL), loaded into the planning DuckDB connection and diffed against the last snapshot
(a Parquet file) with the sync's own ``classify_sql``, exactly as ``sync/engine.py`` plans
(without a destination's step grouping). The baseline runs the same compiled query through the
engine's plain DB-API client (``psycopg`` for PostgreSQL, ``duckdb`` for DuckDB), ``fetchall()``
the whole result into Python, and diffs it against the snapshot read into a dict, hashing the
attributes the way the sync does (md5 of the texts joined by ``chr(31)``, empty as ``chr(0)``).
Both must classify every key alike. Each measurement runs in its own spawned process, so its
peak resident memory (engine, Arrow and Python together) is its own.

The snapshot is derived from the audience: 5 % of members missing (they enter), 5 % with other
attributes (they change), 50,000 former members no longer in the audience (they leave).

Run: ``.venv/bin/pytest -m benchmark benchmarks/bench_warehouse_plan.py -s``
(``BENCH_CUSTOMERS`` lowers the size).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import os
import resource
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from tests.postgres_server import PostgresServer

from benchmarks.memory import peak_rss_mb, reset_peak

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "1000000"))
AS_OF = dt.date(2026, 11, 23)
LEAVERS = CUSTOMERS // 20

CONFIG = """
warehouse:
  connection: {warehouse}
credentials:
  email: {{type: listrak, client_id: id, client_secret: {{env: UNUSED}}}}
destinations:
  newsletter:
    type: listrak_email
    credential: email
    list: {{id: 1001}}
    attributes:
      - {{column: first_name, field: FirstName}}
      - {{column: last_name, field: LastName}}
      - city
segments:
  everyone: {{sql: "SELECT customer_id FROM customer_360"}}
campaigns:
  bench:
    segment: everyone
    salt: bench
    groups:
      - {{name: A, percent: 100, destinations: [newsletter]}}
"""


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _unit(connection: str, folder: Path, warehouse: Any) -> Any:
    from listrak_sync.audiences.campaigns import CampaignAudience
    from listrak_sync.project.loader import parse_project

    project = parse_project(CONFIG.format(warehouse=connection), folder)
    audience = CampaignAudience(project.config, warehouse, "bench", as_of=AS_OF)
    (unit,) = list(audience.units())
    return unit


def _open(connection: str, password: str) -> Any:
    from pydantic import SecretStr

    from listrak_sync.warehouse import connect, parse

    config = parse(connection)
    if password:
        config = config.with_password(SecretStr(password))  # type: ignore[attr-defined]
    return connect(config)


def _listrak_sync(connection: str, password: str, snapshot: str) -> dict[str, Any]:
    import pyarrow as pa

    from listrak_sync.sync.plan import PlanFiles, audience_schema, classify_sql

    folder = Path(snapshot).parent / f"plan-{os.getpid()}"
    folder.mkdir()
    started, cpu = time.perf_counter(), _cpu_seconds()
    with _open(connection, password) as warehouse:
        unit = _unit(connection, folder, warehouse)
        schema = audience_schema(3)

        def batches() -> Any:
            for batch in unit.batches():
                yield pa.RecordBatch.from_arrays(
                    [c if c.type == pa.string() else c.cast(pa.string()) for c in batch.columns],
                    schema=schema,
                )

        files = PlanFiles(folder, 3)
        rows = files.load_audience(batches())
        files.previous_from_snapshot(Path(snapshot))
        con = files._planning  # the sync's planning connection, holding the audience
        assert con is not None
        found = con.execute(
            "SELECT change, count(*) FROM ("
            + classify_sql(3, "audience", f"read_parquet('{files.previous}')")
            + ") GROUP BY 1"
        ).fetchall()
        files.close()
    return {
        "seconds": time.perf_counter() - started,
        "cpu": _cpu_seconds() - cpu,
        "rows": rows,
        "changes": dict(sorted((str(c), int(n)) for c, n in found)),
    }


def _hash(values: tuple[Any, ...]) -> str:
    texts = [str(v) if v is not None and v != "" else "\x00" for v in values]
    return hashlib.md5("\x1f".join(texts).encode()).hexdigest()


def _naive(connection: str, password: str, snapshot: str) -> dict[str, Any]:
    import pyarrow.parquet as pq

    folder = Path(snapshot).parent
    started, cpu = time.perf_counter(), _cpu_seconds()
    with _open(connection, password) as warehouse:  # only to compile the same query
        unit = _unit(connection, folder, warehouse)
        sql = unit.rows.sql(unit.group)
        key = unit.rows.key_name
        attributes = unit.columns[3:]
    if connection.startswith("postgresql"):
        import psycopg

        with psycopg.connect(connection, password=password) as con:
            cursor = con.execute(sql)
            names = [d.name for d in cursor.description or ()]
            rows = cursor.fetchall()
    else:
        import duckdb

        with duckdb.connect(connection, read_only=True) as con:
            cursor = con.execute(sql)
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
    status, key_at = names.index("_status"), names.index(key)
    attrs = [names.index(n) for n in attributes]
    audience = {
        row[key_at]: _hash(tuple(row[i] for i in attrs)) for row in rows if row[status] == "ok"
    }
    del rows
    previous_table = pq.read_table(snapshot, columns=["key", "attr_hash", "member"])
    previous = {
        k: (h, m)
        for k, h, m in zip(
            previous_table.column("key").to_pylist(),
            previous_table.column("attr_hash").to_pylist(),
            previous_table.column("member").to_pylist(),
            strict=True,
        )
    }
    del previous_table
    changes: Counter[str] = Counter()
    for k, attr_hash in audience.items():
        before = previous.get(k)
        if before is None or not before[1]:
            changes["enter"] += 1
        elif before[0] != attr_hash:
            changes["change"] += 1
        else:
            changes["same"] += 1
    for k, (_, member) in previous.items():
        if k not in audience:
            changes["leave" if member else "rest"] += 1
    return {
        "seconds": time.perf_counter() - started,
        "cpu": _cpu_seconds() - cpu,
        "rows": len(audience),
        "changes": dict(sorted(changes.items())),
    }


def _measure(function: Any, args: tuple[Any, ...], queue: Any) -> None:
    reset_peak()  # only the measurement: getrusage's maxrss keeps the parent's peak
    queue.put({**function(*args), "peak_mb": peak_rss_mb()})


def _in_child(function: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(function, args, queue))
    process.start()
    result: dict[str, Any] = queue.get(timeout=3600)
    process.join()
    return result


def _write_snapshot(duckdb_path: Path, target: Path) -> None:
    """The last snapshot: the audience as listrak-sync reads it, 5 % missing, 5 % changed,
    plus leavers."""
    import duckdb

    from listrak_sync.sync.plan import _hash_sql, audience_schema

    with _open(str(duckdb_path), "") as warehouse:
        unit = _unit(str(duckdb_path), duckdb_path.parent, warehouse)
        sql = unit.rows.sql(unit.group)
        columns = unit.columns
    names = audience_schema(3).names
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        aliases = ", ".join(
            f'CAST("{col}" AS VARCHAR) AS {name}' for col, name in zip(columns, names, strict=True)
        )
        con.execute(
            f"CREATE TEMP TABLE aud AS SELECT {aliases}, row_number() OVER () AS n "
            f"FROM ({sql}) WHERE _status = 'ok'"
        )
        con.execute(
            f"COPY (SELECT key, CASE WHEN n % 20 = 1 THEN md5('old') ELSE "
            f"{_hash_sql(3, 'aud')} END AS attr_hash, TRUE AS member, TRUE AS owned, "
            "FALSE AS declined, NULL::VARCHAR AS state, 'r0' AS run_id FROM aud WHERE n % 20 <> 0 "
            "UNION ALL SELECT 'gone' || i || '@example.com', md5('x'), TRUE, TRUE, FALSE, NULL, "
            f"'r0' FROM range({LEAVERS}) t(i)) TO '{target}' (FORMAT parquet)"
        )
    finally:
        con.close()


@pytest.mark.benchmark
def test_audience_and_diff_from_postgres_and_duckdb(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from listrak_sync.warehouse import connect
    from listrak_sync.warehouse.sample_data import generate

    folder = tmp_path_factory.mktemp("bench")
    duckdb_path = folder / "warehouse.duckdb"
    with connect(str(duckdb_path)) as warehouse:
        generate(warehouse, customers=CUSTOMERS, seed=1, as_of=AS_OF)
    snapshot = folder / "snapshot.parquet"
    _write_snapshot(duckdb_path, snapshot)
    results: dict[str, dict[str, Any]] = {}
    with PostgresServer() as server:
        database = server.create_database()
        url = server.url(database)
        with _open(url, server.password) as warehouse:
            generate(warehouse, customers=CUSTOMERS, seed=1, as_of=AS_OF)
        for engine, connection, password in (
            ("DuckDB", str(duckdb_path), ""),
            ("PostgreSQL", url, server.password),
        ):
            results[f"{engine}: listrak-sync"] = _in_child(
                _listrak_sync, connection, password, str(snapshot)
            )
            results[f"{engine}: fetch-all baseline"] = _in_child(
                _naive, connection, password, str(snapshot)
            )
    expected = results["DuckDB: listrak-sync"]["changes"]
    for name, result in results.items():
        assert result["changes"] == expected, (name, result["changes"], expected)
    print(f"\n{CUSTOMERS:,} customers, audience + diff; changes {expected}")
    print("| engine: path | seconds | CPU s | peak RSS (MB) |\n| --- | ---: | ---: | ---: |")
    for name, result in results.items():
        print(
            f"| {name} | {result['seconds']:.1f} | {result['cpu']:.1f} | {result['peak_mb']:.0f} |"
        )
    for engine in ("DuckDB", "PostgreSQL"):
        fast, slow = results[f"{engine}: listrak-sync"], results[f"{engine}: fetch-all baseline"]
        print(
            f"{engine}: {slow['seconds'] / fast['seconds']:.1f}x the speed, "
            f"{slow['peak_mb'] / fast['peak_mb']:.1f}x less peak memory than the baseline"
        )
