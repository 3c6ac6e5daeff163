"""``listrak-sync export`` from the command line, against a DuckDB file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import listrak_sync
from listrak_sync.cli import app
from listrak_sync.errors import RunsFailed
from listrak_sync.warehouse import Warehouse


def test_export_to_a_folder(warehouse: Warehouse, tmp_path: Path) -> None:
    warehouse.close()  # the CLI opens the file itself
    out = tmp_path / "out"
    errors = tmp_path / "errors.csv"
    result = CliRunner().invoke(
        app,
        [
            "export", "customers", "orders",
            "--warehouse", str(tmp_path / "shop.duckdb"),
            "--out", str(out),
            "--errors-file", str(errors),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(list(out.iterdir())) == 2
    lines = errors.read_text().splitlines()
    assert lines[0] == '"dataset","row","column","severity","reason","key"'
    assert '"customers",2,"email","error","not a valid email",' in lines
    assert "not a valid email (error, 1 rows)" in result.output


def test_missing_required_data_set_exits_non_zero(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "export",
            "products",
            "--warehouse",
            str(tmp_path / "empty.duckdb"),
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 1
    assert "products" in result.output


def test_a_failed_required_data_set_fails_the_library_call(tmp_path: Path) -> None:
    report = listrak_sync.export(
        None, ["products"], warehouse=str(tmp_path / "empty.duckdb"), out=tmp_path / "out"
    )
    assert report.failed
    assert report.exit_code == 1
    with pytest.raises(RunsFailed) as raised:
        report.raise_for_status()
    assert "products failed" in str(raised.value)
    assert any(line.startswith("products: ") for line, _ in raised.value.report())
