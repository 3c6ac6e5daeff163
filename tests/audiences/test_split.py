"""The treatment-group split: stable across runs and engines' versions, and proportional."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlglot import exp

from listrak_sync.audiences.campaigns import CampaignAudience
from listrak_sync.audiences.split import bucket_bounds, bucket_expression
from listrak_sync.project.loader import parse_project
from listrak_sync.warehouse import Warehouse, connect

from ..postgres_server import PostgresServer
from ..snowflake_server import SnowflakeServer, open_snowflake

CUSTOMERS = 20_000
CONFIG = """
credentials:
  email: {type: listrak, client_id: id, client_secret: {env: X}}
destinations:
  news: {type: listrak_email, credential: email, list: {id: 1}}
segments:
  everyone: {sql: "SELECT customer_id FROM customer_360"}
campaigns:
  split:
    segment: everyone
    salt: SALT
    groups:
      - {name: A, percent: 50, destinations: [news]}
      - {name: B, percent: 30, destinations: [news]}
    control: {percent: 20}
"""


def _customers(warehouse: Warehouse, count: int = CUSTOMERS) -> None:
    warehouse.execute(
        f"""
        CREATE OR REPLACE TABLE customer_360 AS
            SELECT 'cust-' || i AS customer_id FROM range({count}) t(i);
        CREATE OR REPLACE TABLE merged_customers AS
            SELECT customer_id, customer_id || '@example.com' AS email FROM customer_360;
        """
    )


def _assignment(warehouse: Warehouse, tmp_path: Path, salt: str = "spring") -> dict[str, str]:
    project = parse_project(CONFIG.replace("SALT", salt), tmp_path)
    audience = CampaignAudience(project.config, warehouse, "split")
    rows = warehouse.query(audience.members_query().sql(dialect="duckdb")).to_pylist()
    return {r["customer_id"]: r["treatment_group"] for r in rows}


def python_bucket(salt: str, key: str) -> int:
    return int(hashlib.md5(f"{salt}:{key}".encode()).hexdigest()[:8], 16) % 10_000


def test_bucket_is_md5_prefix_mod_10000() -> None:
    with connect(":memory:") as warehouse:
        for key in ("1", "cust-42", "ünïcode", "a" * 200):
            sql = exp.select(bucket_expression(exp.Literal.string(key), "s1", "duckdb"))
            got = warehouse.query(sql.sql(dialect="duckdb")).column(0)[0].as_py()
            assert got == python_bucket("s1", key)


def test_split_is_stable_across_runs_and_connections(tmp_path: Path) -> None:
    file = tmp_path / "w.duckdb"
    with connect(str(file)) as warehouse:
        _customers(warehouse)
        first = _assignment(warehouse, tmp_path)
    with connect(str(file)) as warehouse:
        second = _assignment(warehouse, tmp_path)
        # New customers do not move existing ones: each bucket depends on one key only.
        warehouse.execute("INSERT INTO customer_360 SELECT 'new-' || i FROM range(500) t(i)")
        grown = _assignment(warehouse, tmp_path)
    assert first == second
    assert {k: grown[k] for k in first} == first
    # And the groups are exactly the documented bucket ranges.
    bounds = {
        name: (lo, hi) for name, lo, hi in bucket_bounds([("A", 50), ("B", 30), ("control", 20)])
    }
    for key in list(first)[:200]:
        lo, hi = bounds[first[key]]
        assert lo <= python_bucket("spring", key) < hi


def test_split_proportions(tmp_path: Path) -> None:
    with connect(str(tmp_path / "w.duckdb")) as warehouse:
        _customers(warehouse)
        project = parse_project(CONFIG.replace("SALT", "spring"), tmp_path)
        sizes = CampaignAudience(project.config, warehouse, "split").group_sizes()
    assert sum(sizes.values()) == CUSTOMERS
    for group, share in (("A", 0.5), ("B", 0.3), ("control", 0.2)):
        assert abs(sizes[group] / CUSTOMERS - share) < 0.015, sizes


def test_another_salt_reshuffles(tmp_path: Path) -> None:
    with connect(str(tmp_path / "w.duckdb")) as warehouse:
        _customers(warehouse, 2_000)
        one = _assignment(warehouse, tmp_path, "spring")
        other = _assignment(warehouse, tmp_path, "autumn")
    moved = sum(one[k] != other[k] for k in one)
    # Independent draws agree with probability .5²+.3²+.2² = .38, so about 62% move.
    assert 0.5 < moved / len(one) < 0.75


def test_bounds_need_a_full_hundred() -> None:
    assert bucket_bounds([("A", 12.5), ("B", 87.5)]) == [("A", 0, 1250), ("B", 1250, 10_000)]
    with pytest.raises(ValueError):
        bucket_bounds([("A", 40), ("B", 40)])


@pytest.mark.parametrize(
    ("dialect", "conversion"),
    [("spark", "CONV("), ("postgres", "BIT(32)"), ("snowflake", "CHARINDEX(")],
)
def test_other_engines_get_their_own_hex_conversion(dialect: str, conversion: str) -> None:
    sql = bucket_expression(exp.column("customer_id"), "s", dialect).sql(dialect=dialect)
    assert "MD5(" in sql.upper()
    assert conversion in sql


def test_bucket_on_postgres_is_the_same_md5_prefix_mod_10000(
    postgres_server: PostgresServer,
) -> None:
    # Keys whose md5 prefix has the high bit set included: a signed 32-bit read would differ.
    keys = ["1", "cust-42", "ünïcode", "a" * 200, *(f"C{i:08d}" for i in range(40))]
    assert any(int(hashlib.md5(f"s1:{k}".encode()).hexdigest()[0], 16) >= 8 for k in keys)
    with postgres_server.admin() as con:
        for key in keys:
            sql = exp.select(bucket_expression(exp.Literal.string(key), "s1", "postgres"))
            row = con.execute(sql.sql(dialect="postgres")).fetchone()
            assert row is not None
            assert row[0] == python_bucket("s1", key), key


def test_bucket_on_snowflake_is_the_same_md5_prefix_mod_10000(
    snowflake_server: SnowflakeServer,
) -> None:
    keys = ["1", "cust-42", "ünïcode", "a" * 200, *(f"C{i:08d}" for i in range(40))]
    assert any(int(hashlib.md5(f"s1:{k}".encode()).hexdigest()[0], 16) >= 8 for k in keys)
    selects = [
        exp.select(
            exp.alias_(exp.Literal.string(key), "k"),
            exp.alias_(bucket_expression(exp.Literal.string(key), "s1", "snowflake"), "b"),
        )
        for key in keys
    ]
    union = selects[0]
    for select in selects[1:]:
        union = exp.union(union, select, distinct=False)
    with open_snowflake(snowflake_server) as warehouse:
        found = warehouse.query(union.sql(dialect="snowflake")).to_pylist()
    assert {r["k"]: r["b"] for r in found} == {k: python_bucket("s1", k) for k in keys}
