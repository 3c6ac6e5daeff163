"""The sample retail data: shape, integrity, messiness, determinism, and the CLI."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import email_validator
import phonenumbers
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from listrak_sync.cli import app
from listrak_sync.warehouse import WarehouseError, WriteMode, connect
from listrak_sync.warehouse.duckdb import DuckDBWarehouse
from listrak_sync.warehouse.sample_data import TABLES, generate

AS_OF = date(2026, 11, 23)
CUSTOMERS = 2000
REGION = {"US": "US", "USA": "US", "CA": "CA", "CANADA": "CA", "GB": "GB", "UK": "GB"}
REGION |= {"AU": "AU", "AUSTRALIA": "AU"}


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    with DuckDBWarehouse.open(path) as warehouse:
        result = generate(warehouse, customers=CUSTOMERS, seed=11, as_of=AS_OF)
    assert result.rows["customer_360"] == CUSTOMERS
    return path


@pytest.fixture
def wh(sample_path: Path) -> Iterator[DuckDBWarehouse]:
    with DuckDBWarehouse.open(sample_path, read_only=True) as warehouse:
        yield warehouse


def one(wh: DuckDBWarehouse, sql: str) -> Any:
    return wh.query(sql).columns[0][0].as_py()


def test_tables_and_sizes(wh: DuckDBWarehouse) -> None:
    assert sorted(wh.tables()) == sorted(TABLES)  # scratch tables are gone
    assert one(wh, "SELECT count(*) FROM customer_360") == CUSTOMERS
    assert one(wh, "SELECT count(*) FROM merged_customers") == CUSTOMERS
    assert one(wh, "SELECT count(*) FROM products") == 100
    orders = one(wh, "SELECT count(*) FROM orders")
    items = one(wh, "SELECT count(*) FROM order_items")
    assert CUSTOMERS < orders < 5 * CUSTOMERS  # about 1.9 orders a customer
    assert orders < items < 4 * orders


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("customer_360", "customer_id"),
        ("merged_customers", "customer_id"),
        ("orders", "order_id"),
        ("products", "sku"),
        ("order_items", "order_id, line_number"),
    ],
)
def test_keys_are_unique_and_present(wh: DuckDBWarehouse, table: str, key: str) -> None:
    sql = f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY ALL HAVING count(*) > 1)"
    assert one(wh, sql) == 0
    assert one(wh, f"SELECT count(*) FROM {table} WHERE ({key}) IS NULL") == 0


@pytest.mark.parametrize(
    ("child", "column", "parent", "parent_column"),
    [
        ("order_items", "order_id", "orders", "order_id"),
        ("order_items", "sku", "products", "sku"),
        ("orders", "customer_id", "customer_360", "customer_id"),
        ("merged_customers", "customer_id", "customer_360", "customer_id"),
        ("customer_360", "customer_id", "merged_customers", "customer_id"),
        ("sms_opt_status", "customer_id", "customer_360", "customer_id"),
        ("email_opt_status", "customer_id", "customer_360", "customer_id"),
    ],
)
def test_referential_integrity(
    wh: DuckDBWarehouse, child: str, column: str, parent: str, parent_column: str
) -> None:
    orphans = f"""SELECT count(*) FROM {child} AS c
        WHERE c.{column} IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE p.{parent_column} = c.{column})"""
    assert one(wh, orphans) == 0


def test_every_order_has_items_and_totals_add_up(wh: DuckDBWarehouse) -> None:
    sql = """SELECT count(*) FROM orders AS o
        LEFT JOIN (SELECT order_id, sum(item_total) AS s FROM order_items GROUP BY 1) AS i
            USING (order_id)
        WHERE i.s IS DISTINCT FROM o.item_total
           OR o.order_total <> o.item_total + o.shipping_total + o.tax_total
                               - o.merchandise_discount"""
    assert one(wh, sql) == 0
    lines = "SELECT count(*) FROM order_items WHERE item_total <> discounted_price * quantity"
    assert one(wh, lines) == 0


def test_customer_aggregates_match_orders(wh: DuckDBWarehouse) -> None:
    sql = """SELECT count(*) FROM customer_360 AS c
        LEFT JOIN (SELECT customer_id, count(*) AS n, sum(order_total) AS v, max(order_date) AS d
                   FROM orders WHERE status <> 'Canceled' GROUP BY 1) AS o USING (customer_id)
        WHERE c.order_count <> coalesce(o.n, 0) OR c.lifetime_value <> coalesce(o.v, 0)
           OR c.last_order_date IS DISTINCT FROM o.d::DATE"""
    assert one(wh, sql) == 0
    tiers = "SELECT list(DISTINCT loyalty_tier ORDER BY loyalty_tier) FROM customer_360"
    # NULL: not a loyalty member
    assert one(wh, tiers) == ["Bronze", "Gold", "Platinum", "Silver", None]


def test_dates_fall_before_as_of(wh: DuckDBWarehouse) -> None:
    assert one(wh, "SELECT max(order_date) FROM orders").date() < AS_OF
    assert one(wh, "SELECT max(signup_date) FROM customer_360") < AS_OF
    assert one(wh, "SELECT count(*) FROM customer_360 WHERE first_order_date < signup_date") == 0
    recent = "SELECT count(*) FROM orders WHERE order_date >= DATE '2026-11-23' - 90"
    assert one(wh, recent) > 0  # "ordered in the last 90 days" segments have members


def _emails(wh: DuckDBWarehouse) -> list[str | None]:
    emails: list[str | None] = wh.query("SELECT email FROM customer_360")["email"].to_pylist()
    return emails


def test_emails_are_messy(wh: DuckDBWarehouse) -> None:
    emails = _emails(wh)
    present = [e for e in emails if e is not None]
    invalid = []
    for email in present:
        try:
            email_validator.validate_email(email.strip(), check_deliverability=False)
        except email_validator.EmailNotValidError:
            invalid.append(email)
    assert 0.01 * CUSTOMERS < len(invalid) < 0.06 * CUSTOMERS
    assert 0.02 * CUSTOMERS < emails.count(None) < 0.08 * CUSTOMERS
    assert sum(e != e.lower() for e in present) > 0.05 * CUSTOMERS  # mixed and upper case
    assert any(e != e.strip() for e in present)  # stray whitespace
    # every address is on a reserved domain: nothing can reach a real mailbox
    domains = {e.rsplit("@", 1)[-1].lower().strip() for e in present if "@" in e}
    assert all("example" in d for d in domains if "." in d)


def test_emails_shared_by_households(wh: DuckDBWarehouse) -> None:
    shared = """SELECT count(*) FROM (
        SELECT lower(trim(email)) FROM customer_360
        WHERE email LIKE '%@%.%' GROUP BY 1 HAVING count(DISTINCT customer_id) > 1)"""
    assert one(wh, shared) > 0.01 * CUSTOMERS


def test_phones_are_messy_but_mostly_valid(wh: DuckDBWarehouse) -> None:
    rows = wh.query("SELECT customer_id, phone, country FROM customer_360").to_pylist()
    valid, invalid, missing, formats = 0, 0, 0, set()
    owners: dict[str, set[str]] = {}
    for row in rows:
        phone = row["phone"]
        if phone is None:
            missing += 1
            continue
        formats.add("".join("9" if ch.isdigit() else ch for ch in phone.strip()))
        try:
            number = phonenumbers.parse(phone, REGION[row["country"].upper()])
        except phonenumbers.NumberParseException:
            invalid += 1
            continue
        if phonenumbers.is_valid_number(number):
            valid += 1
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            owners.setdefault(e164, set()).add(row["customer_id"])
        else:
            invalid += 1
    assert valid > 0.75 * CUSTOMERS
    assert invalid > 0.02 * CUSTOMERS
    assert missing > 0.04 * CUSTOMERS
    assert len(formats) >= 20  # +1 (AAA) EEE-LLLL, AAA.EEE.LLLL, 0044 …, +61 …, …
    assert sum(len(ids) > 1 for ids in owners.values()) > 0.01 * CUSTOMERS
    non_e164 = [p for p in (r["phone"] for r in rows) if p and not p.startswith("+")]
    assert len(non_e164) > 0.5 * CUSTOMERS  # normalisation is needed before any SMS call


def test_countries_and_missing_values(wh: DuckDBWarehouse) -> None:
    countries = set(wh.query("SELECT DISTINCT country FROM customer_360").column(0).to_pylist())
    assert {"US", "CA", "GB", "AU"} <= countries
    assert countries - {"US", "CA", "GB", "AU"}  # 'USA', 'UK', 'us' … need cleaning
    for column in ("first_name", "last_name", "birthday", "gender", "postal_code"):
        assert one(wh, f"SELECT count(*) FROM customer_360 WHERE {column} IS NULL") > 0, column


def test_consent_tables(wh: DuckDBWarehouse) -> None:
    rows = wh.query("SELECT status, count(*) AS n FROM sms_opt_status GROUP BY 1").to_pylist()
    sms = {row["status"]: row["n"] for row in rows}
    assert set(sms) == {"opted_in", "opted_out", "pending"}
    assert sms["opted_out"] > 0.05 * sum(sms.values())
    assert one(wh, "SELECT count(*) FROM sms_opt_status WHERE customer_id IS NULL") > 0
    repeated = (
        "SELECT count(*) FROM (SELECT phone FROM sms_opt_status GROUP BY 1 HAVING count(*) > 1)"
    )
    assert one(wh, repeated) > 0
    inconsistent = """SELECT count(*) FROM sms_opt_status
        WHERE (status = 'opted_out') <> (opted_out_at IS NOT NULL)
           OR (status = 'pending' AND consent_at IS NOT NULL)"""
    assert one(wh, inconsistent) == 0
    email = wh.query("SELECT status, count(*) AS n FROM email_opt_status GROUP BY 1").to_pylist()
    counts = {row["status"]: row["n"] for row in email}
    assert set(counts) == {"subscribed", "unsubscribed"}
    assert counts["unsubscribed"] > 0.1 * sum(counts.values())
    unsub = """SELECT count(*) FROM email_opt_status
        WHERE (status = 'unsubscribed') <> (unsubscribed_at IS NOT NULL)"""
    assert one(wh, unsub) == 0


def test_same_seed_same_tables_other_seed_other_tables(wh: DuckDBWarehouse, tmp_path: Path) -> None:
    with DuckDBWarehouse.open(tmp_path / "again.duckdb") as again:
        generate(again, customers=CUSTOMERS, seed=11, as_of=AS_OF)
        for table in TABLES:  # equal row for row, in the same order
            assert again.query(f"SELECT * FROM {table}").equals(
                wh.query(f"SELECT * FROM {table}")
            ), table
        generate(again, customers=CUSTOMERS, seed=12, as_of=AS_OF, replace=True)
        assert _emails(again) != _emails(wh)


def test_leaves_no_scratch_objects(tmp_path: Path) -> None:
    with DuckDBWarehouse.open(tmp_path / "clean.duckdb") as warehouse:
        generate(warehouse, customers=30, as_of=AS_OF)
        assert sorted(warehouse.tables()) == sorted(TABLES)
        leftovers = """SELECT count(*) AS n FROM duckdb_functions()
            WHERE function_type = 'macro' AND function_name LIKE '\\_%' ESCAPE '\\'"""
        assert warehouse.query(leftovers).to_pylist() == [{"n": 0}]
        assert warehouse.query("SELECT count(*) AS n FROM duckdb_tables() WHERE temporary")[
            "n"
        ].to_pylist() == [0]


def test_refuses_to_overwrite_without_replace(tmp_path: Path) -> None:
    with DuckDBWarehouse.open(tmp_path / "w.duckdb") as warehouse:
        warehouse.execute("CREATE TABLE orders AS SELECT 'mine' AS precious")
        with pytest.raises(WarehouseError, match="already has orders; pass replace"):
            generate(warehouse, customers=50, as_of=AS_OF)
        assert warehouse.query("SELECT precious FROM orders").to_pylist() == [{"precious": "mine"}]
        assert generate(warehouse, customers=50, as_of=AS_OF, replace=True).rows["orders"] > 0


def test_rejects_bad_customer_counts() -> None:
    with DuckDBWarehouse() as warehouse, pytest.raises(ValueError, match="at least 1"):
        generate(warehouse, customers=0)


class OtherEngine:
    """A warehouse that is not DuckDB as far as generate() can tell (it delegates)."""

    def __init__(self, inner: DuckDBWarehouse) -> None:
        self.inner = inner
        self.writes: list[str] = []

    dialect = "postgres"

    def tables(self) -> list[str]:
        return self.inner.tables()

    def write(
        self,
        table: str,
        data: pa.Table | Iterable[pa.RecordBatch],
        *,
        mode: WriteMode = "replace",
        schema: pa.Schema | None = None,
    ) -> int:
        self.writes.append(table)
        return self.inner.write(table, data, mode=mode, schema=schema)


def test_other_engines_receive_streamed_tables(wh: DuckDBWarehouse, tmp_path: Path) -> None:
    with DuckDBWarehouse.open(tmp_path / "other.duckdb") as inner:
        target = OtherEngine(inner)
        result = generate(target, customers=CUSTOMERS, seed=11, as_of=AS_OF)  # type: ignore[arg-type]
        assert target.writes == list(TABLES)
        assert result.rows["customer_360"] == CUSTOMERS
        for table in ("customer_360", "orders"):
            assert inner.query(f"SELECT * FROM {table}").equals(wh.query(f"SELECT * FROM {table}"))


def test_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "cli.duckdb"
    args = ["sample-data", "--customers", "300", "--seed", "3", "--warehouse", str(target)]
    result = runner.invoke(app, [*args, "--as-of", "2026-11-23"])
    assert result.exit_code == 0, result.output
    assert "customer_360" in result.output
    assert "300" in result.output
    with connect(target) as warehouse:
        assert warehouse.query("SELECT count(*) AS n FROM merged_customers").to_pylist() == [
            {"n": 300}
        ]
    again = runner.invoke(app, args)
    assert again.exit_code == 1
    assert "(--replace on the command line)" in again.output
    assert runner.invoke(app, [*args, "--replace"]).exit_code == 0
    bad = runner.invoke(app, ["sample-data", "--customers", "5", "--warehouse", "nosql://x"])
    assert bad.exit_code == 1
    assert "no warehouse engine for nosql://" in bad.output
