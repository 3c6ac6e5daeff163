"""SQL segments: parsed and checked against the warehouse, errors with line and column."""

from __future__ import annotations

import pytest

from listrak_sync.audiences.errors import AudienceError, Issue
from listrak_sync.audiences.schema import WarehouseSchema
from listrak_sync.audiences.sql_segment import parse_segment_sql
from listrak_sync.warehouse import Warehouse, WarehouseError


def members(warehouse: Warehouse, sql: str) -> set[str]:
    query = parse_segment_sql(
        sql, WarehouseSchema(warehouse), dialect="duckdb", customer_key="customer_id"
    )
    return {r["customer_id"] for r in warehouse.query(query.sql(dialect="duckdb")).to_pylist()}


def issue(warehouse: Warehouse, sql: str) -> Issue:
    with pytest.raises(AudienceError) as caught:
        members(warehouse, sql)
    (found,) = caught.value.issues
    return found


def test_a_valid_query_returns_distinct_customers(warehouse: Warehouse) -> None:
    sql = """
    WITH buyers AS (SELECT customer_id FROM orders WHERE total > 8)
    SELECT b.customer_id FROM buyers b JOIN customer_360 c USING (customer_id)
    WHERE c.country <> 'CA'
    """
    assert members(warehouse, sql) == {"c1", "c2", "c4", "c6"}


def test_unknown_column_points_at_it(warehouse: Warehouse) -> None:
    found = issue(warehouse, "SELECT c.customer_id\nFROM customer_360 c\nWHERE c.lifetime > 10")
    assert (found.sql_line, found.sql_column) == (3, 9)
    assert "lifetime" in found.message


def test_unknown_column_gets_a_hint(warehouse: Warehouse) -> None:
    found = issue(warehouse, "SELECT customer_id FROM customer_360 WHERE contry = 'US'")
    assert (found.sql_line, found.sql_column) == (1, 44)
    assert found.hint == "did you mean 'country'?"


def test_unknown_table_points_at_it(warehouse: Warehouse) -> None:
    found = issue(warehouse, "SELECT customer_id\n  FROM custmer_360")
    assert (found.sql_line, found.sql_column) == (2, 8)
    assert found.hint == "did you mean 'customer_360'?"


def test_syntax_error_has_a_position(warehouse: Warehouse) -> None:
    found = issue(warehouse, "SELECT customer_id FROM customer_360\nWHERE ltv > = 3")
    assert found.sql_line == 2
    assert found.sql_column == 13
    assert "syntax" in found.message


def test_the_customer_key_must_be_returned(warehouse: Warehouse) -> None:
    found = issue(warehouse, "SELECT city FROM customer_360")
    assert "must return a 'customer_id' column" in found.message
    assert members(warehouse, "SELECT customer_id AS customer_id FROM orders") == {
        "c1",
        "c2",
        "c4",
        "c6",
    }


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM customer_360",
        "SELECT customer_id FROM customer_360; DROP TABLE orders",
        "CREATE TABLE x AS SELECT 1",
    ],
)
def test_only_one_select_is_accepted(warehouse: Warehouse, sql: str) -> None:
    assert "one SELECT" in issue(warehouse, sql).message
    assert "orders" in warehouse.tables()


@pytest.mark.parametrize(
    ("sql", "name"),
    [
        ("SELECT column0 AS customer_id FROM read_csv('/etc/passwd')", "read_csv"),
        (
            "SELECT customer_id FROM customer_360\nWHERE city IN (SELECT * FROM glob('/etc/*'))",
            "glob",
        ),
        ("SELECT customer_id FROM query('SELECT 1 AS customer_id')", "query"),
        ("SELECT customer_id FROM customer_360 WHERE getenv('HOME') IS NOT NULL", "getenv"),
        ("SELECT content AS customer_id FROM read_text('/etc/passwd')", "read_text"),
    ],
)
def test_functions_reading_outside_the_warehouse_are_refused(
    warehouse: Warehouse, sql: str, name: str
) -> None:
    found = issue(warehouse, sql)
    assert f"{name}()" in found.message
    assert found.sql_line is not None


def test_row_making_table_functions_are_allowed(warehouse: Warehouse) -> None:
    sql = "SELECT customer_id FROM customer_360, range(1) r WHERE customer_id = 'c1'"
    assert members(warehouse, sql) == {"c1"}


def test_the_warehouse_connection_cannot_read_files(warehouse: Warehouse) -> None:
    # Even SQL that never went through validate (a hand-written query) cannot read a file.
    with pytest.raises(WarehouseError, match="disabled by configuration"):
        warehouse.query("SELECT * FROM read_csv('/etc/passwd')")
