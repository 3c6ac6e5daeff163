"""A small, hand-made retail warehouse (real DuckDB file) whose answers we know by heart."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from listrak_sync.project.loader import Project, parse_project
from listrak_sync.warehouse import Warehouse, connect

AS_OF = dt.date(2026, 11, 23)

# customer_id, first_name, city, country, tier, ltv, signup_date, last_seen, vip, email, phone
CUSTOMERS = [
    ("c1", "Ann", "Boston", "US", "gold", 1200.0, "2020-01-15", "2026-11-22 08:00:00", True,
     " Ann@Example.com", "(617) 555-0101"),
    ("c2", "Bob", "boston", "US", "silver", 300.0, "2024-06-01", "2026-10-01 12:00:00", False,
     "bob@example.com", "617-555-0102"),
    ("c3", "Cy", "Toronto", "CA", None, 50.5, "2026-11-01", None, None,
     "not-an-email", "+1 416 555 0103"),
    ("c4", "Di", "London", "GB", "gold", 800.0, "2025-02-28", "2026-11-20 23:59:00", True,
     "ann@example.com", "020 7946 0104"),
    ("c5", None, None, "US", "bronze", None, None, None, False, None, "12"),
    ("c6", "Eve", "New York", "US", "platinum", 5000.0, "2019-12-31", "2026-11-23 00:00:00", True,
     "eve@example.com", None),
]  # fmt: skip

# customer_id, order_date, total, channel
ORDERS = [
    ("c1", "2026-11-01", 100.0, "web"),
    ("c1", "2026-10-15", 50.0, "store"),
    ("c1", "2026-01-01", 20.0, "web"),
    ("c2", "2026-09-01", 10.0, "web"),
    ("c4", "2026-11-20", 300.0, "store"),
    ("c4", "2026-11-21", 5.0, "web"),
    ("c4", "2026-11-22", 7.0, "web"),
    ("c6", "2025-01-01", 999.0, "store"),
]

SMS_OPT = [("+16175550101", "opted_in"), ("+16175550102", "opted_out"),
           ("+14165550103", "opted_in")]  # fmt: skip
EMAIL_OPT = [("BOB@example.com", "unsubscribed"), ("eve@example.com", "subscribed")]


def _values(rows: list[tuple[object, ...]]) -> str:
    def literal(value: object) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int | float):
            return repr(value)
        return "'" + str(value).replace("'", "''") + "'"

    return ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)


def build_warehouse(warehouse: Warehouse) -> None:
    warehouse.execute(
        f"""
        CREATE TABLE customer_360 (customer_id VARCHAR, first_name VARCHAR, city VARCHAR,
            country VARCHAR, tier VARCHAR, ltv DOUBLE, signup_date DATE, last_seen TIMESTAMP,
            vip BOOLEAN, email VARCHAR, phone VARCHAR);
        INSERT INTO customer_360 VALUES {_values(CUSTOMERS)};
        CREATE TABLE merged_customers AS SELECT * FROM customer_360;
        CREATE TABLE orders (customer_id VARCHAR, order_date DATE, total DOUBLE, channel VARCHAR);
        INSERT INTO orders VALUES {_values(ORDERS)};
        CREATE TABLE sms_opt_status (phone VARCHAR, status VARCHAR);
        INSERT INTO sms_opt_status VALUES {_values(SMS_OPT)};
        CREATE TABLE email_opt_status (email VARCHAR, status VARCHAR);
        INSERT INTO email_opt_status VALUES {_values(EMAIL_OPT)};
        """
    )


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    with connect(str(tmp_path / "warehouse.duckdb")) as wh:
        build_warehouse(wh)
        yield wh


BASE_CONFIG = """
credentials:
  email: {type: listrak, client_id: id, client_secret: {env: LISTRAK_TEST_SECRET}}
destinations:
  news:
    type: listrak_email
    credential: email
    list: {id: 1001}
    attributes: [first_name, {column: tier, field: Tier}]
  texts:
    type: listrak_sms
    credential: email
    sender_code_id: 7
    list_id: 70
    attributes: [first_name]
"""


def make_project(tmp_path: Path, body: str) -> Project:
    """A project from BASE_CONFIG plus ``body`` (dedented YAML sections)."""
    return parse_project(BASE_CONFIG + textwrap.dedent(body), tmp_path)
