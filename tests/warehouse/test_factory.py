"""connect()/parse(): picking the engine and its settings from a URL, path or config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from listrak_sync.warehouse import WarehouseError, connect, parse
from listrak_sync.warehouse.duckdb import DuckDBConfig, DuckDBWarehouse


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("warehouse.duckdb", DuckDBConfig(path="warehouse.duckdb")),
        ("/data/w.duckdb", DuckDBConfig(path="/data/w.duckdb")),
        (":memory:", DuckDBConfig()),
        ("duckdb://", DuckDBConfig()),
        ("duckdb:///:memory:", DuckDBConfig()),
        ("duckdb:///rel/w.duckdb", DuckDBConfig(path="rel/w.duckdb")),
        ("duckdb:////abs/w.duckdb", DuckDBConfig(path="/abs/w.duckdb")),
        ("DuckDB:///my%20w.duckdb", DuckDBConfig(path="my w.duckdb")),
        (
            "duckdb:///w.duckdb?read_only=true&threads=2&memory_limit=2GB",
            DuckDBConfig(path="w.duckdb", read_only=True, threads=2, memory_limit="2GB"),
        ),
    ],
)
def test_parse(target: str, expected: DuckDBConfig) -> None:
    assert parse(target) == expected


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "spark://db/x",
            r"no warehouse engine for spark:// \(known: duckdb://, postgres://, postgresql://, "
            r"sc://, snowflake://, local\[\*\]\)",
        ),
        ("duckdb://host/w.duckdb", "has no host"),
        ("duckdb:///w.duckdb?colour=red", "unknown setting 'colour'"),
        ("duckdb:///w.duckdb?read_only=maybe", "read_only must be true or false"),
        ("duckdb:///w.duckdb?threads=0", "threads: Input should be greater than or equal to 1"),
        ("duckdb:///w.duckdb?memory_limit=lots", "memory_limit: String should match pattern"),
        ("duckdb://?read_only=true", "in-memory database cannot be opened read-only"),
    ],
)
def test_parse_errors(target: str, message: str) -> None:
    with pytest.raises(WarehouseError, match=message):
        parse(target)


def test_connect_resolves_relative_paths_against_base_dir(tmp_path: Path) -> None:
    warehouse = connect("duckdb:///data/w.duckdb?threads=1", base_dir=tmp_path)
    try:
        assert isinstance(warehouse, DuckDBWarehouse)
        assert warehouse.config.path == str(tmp_path / "data" / "w.duckdb")
        assert warehouse.query("SELECT current_setting('threads') AS t").to_pylist() == [{"t": 1}]
    finally:
        warehouse.close()
    assert (tmp_path / "data" / "w.duckdb").exists()


def test_connect_accepts_a_config(tmp_path: Path) -> None:
    config = DuckDBConfig(path="w.duckdb", memory_limit="256MB")
    warehouse = connect(config, base_dir=tmp_path)
    try:
        assert (tmp_path / "w.duckdb").exists()
        limit = warehouse.query("SELECT current_setting('memory_limit') AS m").column("m")[0]
        assert str(limit).endswith("MiB")
    finally:
        warehouse.close()


def test_a_warehouse_without_a_memory_limit_gets_512_megabytes(tmp_path: Path) -> None:
    # DuckDB's own default (80% of the machine) let a 10M-member sync's audience query take
    # 2 GB beside the planner's budget; bounded, DuckDB spills instead.
    warehouse = connect(DuckDBConfig(path="w.duckdb"), base_dir=tmp_path)
    try:
        limit = warehouse.query("SELECT current_setting('memory_limit') AS m").column("m")[0]
        assert str(limit) == "488.2 MiB"  # 512MB (512 * 10^6 bytes) as DuckDB shows it
    finally:
        warehouse.close()


def _open_elsewhere(path: Path, read_only: bool) -> subprocess.CompletedProcess[str]:
    """Open ``path`` in another process (DuckDB's file lock is per process)."""
    code = (
        "import sys\nfrom listrak_sync.warehouse import WarehouseBusy\n"
        "from listrak_sync.warehouse.duckdb import DuckDBWarehouse\n"
        "try:\n"
        f"    with DuckDBWarehouse.open({str(path)!r}, read_only={read_only},"
        " lock_wait=0.5) as w:\n"
        "        print(w.query('SELECT count(*) AS n FROM t').column('n')[0])\n"
        "except WarehouseBusy as e:\n"
        "    print(e)\n    sys.exit(5)"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_readers_share_a_file_and_a_writer_is_told_who_holds_it(tmp_path: Path) -> None:
    path = tmp_path / "shared.duckdb"
    with connect(path) as warehouse:
        warehouse.execute("CREATE TABLE t AS SELECT 1 AS a")
    with DuckDBWarehouse.open(path, read_only=True) as reader:
        assert reader.query("SELECT count(*) AS n FROM t").column("n")[0].as_py() == 1
        other_reader = _open_elsewhere(path, read_only=True)
        assert other_reader.returncode == 0, other_reader.stderr
        assert other_reader.stdout.strip() == "1"
        writer = _open_elsewhere(path, read_only=False)
    assert writer.returncode == 5, writer.stderr
    assert f"process {os.getpid()}" in writer.stdout
    assert "cannot write it now" in writer.stdout
    assert "kill" not in writer.stdout
    assert "stop the other" not in writer.stdout
    # Once the reader is gone the writer gets the file.
    assert _open_elsewhere(path, read_only=False).returncode == 0


def test_reading_an_sms_audience_writes_nothing_into_the_warehouse(tmp_path: Path) -> None:
    from sqlglot import exp

    from listrak_sync.audiences.keys import PHONE_CACHE, prepare_phones

    path = tmp_path / "w.duckdb"
    with connect(path) as warehouse:
        warehouse.execute("CREATE TABLE p AS SELECT '(617) 555-0101' AS phone")
    with DuckDBWarehouse.open(path, read_only=True) as reader:
        raw = exp.select(exp.alias_(exp.column("phone"), "raw")).from_("p")
        assert prepare_phones(reader, raw, "US") == 1
        cached = reader.query(f"SELECT e164 FROM {reader.scratch_table(PHONE_CACHE)}").column(
            "e164"
        )
        assert cached.to_pylist() == ["+16175550101"]
        assert reader.tables() == ["p"]


def test_scratch_tables_are_kept_between_connections(tmp_path: Path) -> None:
    from sqlglot import exp

    from listrak_sync.audiences.keys import PHONE_CACHE, prepare_phones

    path = tmp_path / "w.duckdb"
    cache = tmp_path / ".listrak-sync" / "cache"
    with connect(path) as warehouse:
        warehouse.execute("CREATE TABLE p AS SELECT '(617) 555-0101' AS phone")
    raw = exp.select(exp.alias_(exp.column("phone"), "raw")).from_("p")
    with DuckDBWarehouse.open(path, read_only=True) as first:
        first.keep_scratch(cache)
        assert prepare_phones(first, raw, "US") == 1
    assert [f.name for f in cache.iterdir()] == ["listrak_sync_phone_e164.parquet"]
    with DuckDBWarehouse.open(path, read_only=True) as second:
        second.keep_scratch(cache)
        assert prepare_phones(second, raw, "US") == 0  # known: no phonenumbers work
        cached = second.query(f"SELECT e164 FROM {second.scratch_table(PHONE_CACHE)}").column(
            "e164"
        )
        assert cached.to_pylist() == ["+16175550101"]


def test_a_query_over_the_memory_limit_says_which_setting_to_raise(tmp_path: Path) -> None:
    # One 350 MB string under a 32 MB limit: an aggregate state cannot spill to disk.
    with (
        connect(f"{tmp_path / 'w.duckdb'}?memory_limit=32MB") as warehouse,
        pytest.raises(WarehouseError) as raised,
    ):
        warehouse.query(
            "SELECT string_agg(s, ',') FROM "
            "(SELECT repeat('x', 64) || i::VARCHAR AS s FROM range(5000000) t(i))"
        )
    assert "memory" in str(raised.value).lower()
    assert raised.value.hint is not None
    assert "memory_limit" in raised.value.hint
