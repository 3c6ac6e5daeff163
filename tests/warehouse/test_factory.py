"""connect()/parse(): picking the engine and its settings from a URL, path or config."""

from __future__ import annotations

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
            r"no warehouse engine for spark:// \(known: duckdb://, postgres://, postgresql://\)",
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


def test_lock_conflict_gives_a_hint(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "locked.duckdb"
    with connect(path):
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys\nfrom listrak_sync.warehouse import connect, WarehouseError\n"
                f"try:\n    connect({str(path)!r})\nexcept WarehouseError as e:\n"
                "    print(e)\n    sys.exit(3)",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 3, result.stderr
    assert "one process write a database file at a time" in result.stdout
