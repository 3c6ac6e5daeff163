"""Files written to a local folder, checked byte by byte against Listrak's file rules."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from listrak_sync.config.files import DatasetSource, ListrakFilesDestination
from listrak_sync.files import Exporter
from listrak_sync.warehouse import Warehouse

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def _export(warehouse: Warehouse, out: Path, **options: object) -> Exporter:
    return Exporter(warehouse, ListrakFilesDestination.model_validate(options), now=NOW)


def test_customer_file_bytes(warehouse: Warehouse, tmp_path: Path) -> None:
    report = _export(warehouse, tmp_path).write_dir(["customers"], tmp_path / "out")
    path = tmp_path / "out" / "Listrak_Customer_20261123.csv"
    assert path.read_bytes() == (
        b"email,customernumber,mobilephone,birthday,gender,firstname,lastname,address1,"
        b"address2,address3,city,state,zipcode,country,preferredstorenumber,registered\n"
        b'jane@example.com,0001,17175559636,1989-01-16,F,Jane,Miller,"1 Main St, Apt ""B""",'
        b",,Philadelphia,PA,19103,US,,true\n"
        + "zoë@exämple.com,0004,442079460958,,M,Zoë,,,,,,,,GB,,\n".encode()
    )
    (entry,) = report.datasets
    assert (entry.rows_read, entry.rows_written, entry.rows_rejected) == (4, 2, 2)
    found = {(i.row, i.column, i.severity, i.reason) for i in entry.issues.sample}
    assert (2, "email", "error", "not a valid email") in found
    assert (3, "email", "error", "duplicate email; the first row is kept") in found
    assert (2, "lastname", "warning", "line break replaced with a space") in found
    assert (2, "birthday", "warning", "outside 1900-01-01..2026-11-23; left empty") in found
    assert (2, "mobilephone", "warning", "not a valid phone number; left empty") in found


def test_order_and_item_files(warehouse: Warehouse, tmp_path: Path) -> None:
    report = _export(warehouse, tmp_path).write_dir([], tmp_path / "out")
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "Listrak_Customer_20261123.csv",
        "Listrak_OrderItem_Feed_20261123.csv",
        "Listrak_Order_Feed_20261123.csv",
        "Listrak_Product_Feed_20261123.csv",
    ]
    orders = (out / "Listrak_Order_Feed_20261123.csv").read_bytes().split(b"\n")
    # leading zeros kept, the -04:00 time converted to UTC, amounts with two decimals
    assert orders[1] == b"0531435151,,2018-08-23T17:23:48Z,jane@example.com,,,,,,,,47.00,,"
    assert orders[2] == b"0531435152,,2018-08-24T14:00:00Z,jane@example.com,,,,,,,,12.50,,"
    assert orders[3:] == [b""]
    items = (out / "Listrak_OrderItem_Feed_20261123.csv").read_text("utf-8").splitlines()
    assert items[1:] == [
        "0531435151,,SKU-1,Completed,4,15.00,12.50,,50.00,,,",
        "0531435151,,SKU-2,Shipped,1,10.00,10.00,,10.00,,,",  # code 7 written as its name
        "0531435159,,SKU-1,Pending,2,15.00,15.00,,30.00,,,",
    ]
    by_name = {d.dataset: d for d in report.datasets}
    item_issues = {(i.row, i.column, i.reason) for i in by_name["order_items"].issues.sample}
    assert (3, "status", "not a Listrak status for files") in item_issues  # Closed: API only
    assert (4, "quantity", "quantity is not positive") in item_issues
    assert (5, "ordernumber", "order not in this run's orders") in item_issues
    order_issues = [(i.row, i.column, i.key) for i in by_name["orders"].issues.sample]
    assert order_issues == [(3, "email", "0531435153")]
    assert not report.failed


def test_every_file_follows_the_rules(warehouse: Warehouse, tmp_path: Path) -> None:
    _export(warehouse, tmp_path).write_dir([], tmp_path / "out")
    for path in (tmp_path / "out").iterdir():
        data = path.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf"), "no byte-order mark"
        assert b"\r" not in data, "no carriage return anywhere"
        data.decode("utf-8")
        header, *rows = data.decode().split("\n")
        assert header == header.lower()
        parsed = list(csv.reader(io.StringIO(data.decode()), strict=True))
        assert all(len(row) == len(parsed[0]) for row in parsed)
        assert len(parsed) == len(rows)  # one line per record: no embedded line breaks


def test_missing_table_fails_only_that_data_set(warehouse: Warehouse, tmp_path: Path) -> None:
    exporter = _export(
        warehouse,
        tmp_path,
        datasets={"products": DatasetSource(table="catalog"), "orders": DatasetSource()},
    )
    report = exporter.write_dir([], tmp_path / "out")
    by_name = {d.dataset: d for d in report.datasets}
    assert by_name["products"].error is not None
    assert "catalog" in by_name["products"].error
    assert by_name["orders"].rows_written == 2
    assert report.failed
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["Listrak_Order_Feed_20261123.csv"]


def test_unmappable_key_is_a_clear_error(warehouse: Warehouse, tmp_path: Path) -> None:
    exporter = _export(
        warehouse,
        tmp_path,
        datasets={"products": DatasetSource(query="SELECT title FROM products")},
    )
    (entry,) = exporter.write_dir([], tmp_path / "out").datasets
    assert entry.error is not None
    assert "no source column for sku" in entry.error


def test_naive_timestamps_need_a_source_timezone(warehouse: Warehouse, tmp_path: Path) -> None:
    query = "SELECT order_id, order_date::TIMESTAMP AS order_date, email FROM orders"
    options = {"datasets": {"orders": DatasetSource(query=query)}}
    (rejected,) = _export(warehouse, tmp_path, **options).write_dir([], tmp_path / "a").datasets
    assert rejected.rows_written == 0
    assert rejected.issues.sample[0].reason == "timestamp has no time zone (set source_timezone)"
    options["source_timezone"] = "America/New_York"
    (kept,) = _export(warehouse, tmp_path, **options).write_dir([], tmp_path / "b").datasets
    assert kept.rows_written == 2
    first = (tmp_path / "b" / "Listrak_Order_Feed_20261123.csv").read_text().splitlines()[1]
    assert first.startswith("0531435151,,2018-08-23T21:23:48Z,")  # 17:23 EDT


@pytest.mark.parametrize("terminator", ["\n", "\r\n"])
def test_configurable_terminator_and_date_token(
    warehouse: Warehouse, tmp_path: Path, terminator: str
) -> None:
    exporter = _export(
        warehouse,
        tmp_path,
        datasets={"products": DatasetSource()},
        date_format="%Y-%m-%d",
        line_terminator=terminator,
    )
    exporter.write_dir([], tmp_path / "out")
    data = (tmp_path / "out" / "Listrak_Product_Feed_2026-11-23.csv").read_bytes()
    assert data.count(terminator.encode()) == 5
    assert data.endswith(terminator.encode())
