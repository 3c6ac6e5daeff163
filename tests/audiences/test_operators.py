"""Every filter operator, compiled through sqlglot and run on a real DuckDB file."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from listrak_sync.audiences.compiler import FilterCompiler
from listrak_sync.audiences.errors import AudienceError
from listrak_sync.audiences.schema import WarehouseSchema
from listrak_sync.config.filters import FilterNode
from listrak_sync.warehouse import Warehouse

from .conftest import AS_OF

NODE = TypeAdapter(FilterNode)


def members(warehouse: Warehouse, node: dict[str, Any], as_of: dt.date | None = AS_OF) -> set[str]:
    compiler = FilterCompiler(
        WarehouseSchema(warehouse),
        customer_table="customer_360",
        customer_key="customer_id",
        as_of=as_of,
    )
    query = compiler.select(NODE.validate_python(node)).sql(dialect="duckdb")
    return {row["customer_id"] for row in warehouse.query(query).to_pylist()}


CONDITIONS = [
    ("city", "eq", "Boston", {"c1"}),
    ("city", "ne", "Boston", {"c2", "c3", "c4", "c5", "c6"}),  # missing city counts as "not"
    ("country", "=", "US", {"c1", "c2", "c5", "c6"}),  # symbol alias
    ("ltv", "gt", 800, {"c1", "c6"}),
    ("ltv", "gte", 800, {"c1", "c4", "c6"}),
    ("ltv", "lt", 300, {"c3"}),
    ("ltv", "lte", 300.0, {"c2", "c3"}),
    ("ltv", "between", [300, 1200], {"c1", "c2", "c4"}),
    ("ltv", "not_between", [300, 1200], {"c3", "c5", "c6"}),
    ("tier", "in", ["gold", "platinum"], {"c1", "c4", "c6"}),
    ("tier", "not_in", ["gold"], {"c2", "c3", "c5", "c6"}),
    ("city", "contains", "BOS", {"c1", "c2"}),  # text matching ignores case
    ("city", "not_contains", "on", {"c5", "c6"}),
    ("city", "starts_with", "new", {"c6"}),
    ("city", "ends_with", "TON", {"c1", "c2"}),
    ("tier", "is_null", None, {"c3"}),
    ("tier", "is_not_null", None, {"c1", "c2", "c4", "c5", "c6"}),
    ("vip", "is_true", None, {"c1", "c4", "c6"}),
    ("vip", "is_false", None, {"c2", "c5"}),
    ("last_seen", "within_last_days", 3, {"c1", "c4", "c6"}),
    ("signup_date", "within_last_days", 30, {"c3"}),
    ("last_seen", "not_within_last_days", 3, {"c2", "c3", "c5"}),
    ("signup_date", "after", dt.date(2025, 1, 1), {"c3", "c4"}),
    ("signup_date", "before", "2020-01-01", {"c6"}),
    ("signup_date", "eq", dt.date(2024, 6, 1), {"c2"}),
    ("last_seen", "eq", dt.date(2026, 11, 22), {"c1"}),  # a timestamp compared by its day
    ("last_seen", "gt", dt.datetime(2026, 11, 20, 12), {"c1", "c4", "c6"}),
]


@pytest.mark.parametrize(("attribute", "op", "value", "expected"), CONDITIONS)
def test_condition(
    warehouse: Warehouse, attribute: str, op: str, value: Any, expected: set[str]
) -> None:
    assert members(warehouse, {"attribute": attribute, "op": op, "value": value}) == expected


AGGREGATES = [
    ({"table": "orders", "date_column": "order_date", "within_last_days": 90}, "gte", 2,
     {"c1", "c4"}),
    ({"table": "orders"}, "eq", 0, {"c3", "c5"}),  # no orders at all counts as 0
    ({"table": "orders", "function": "sum", "column": "total"}, "gt", 500, {"c6"}),
    ({"table": "orders", "function": "avg", "column": "total"}, "gte", 100, {"c4", "c6"}),
    ({"table": "orders", "function": "max", "column": "order_date"}, "lt", "2026-01-01", {"c6"}),
    ({"table": "orders", "function": "min", "column": "total"}, "between", [5, 10], {"c2", "c4"}),
    ({"table": "orders", "function": "count_distinct", "column": "channel"}, "eq", 2,
     {"c1", "c4"}),
    ({"table": "orders", "where": {"attribute": "channel", "op": "eq", "value": "store"}},
     "gte", 1, {"c1", "c4", "c6"}),
]  # fmt: skip


@pytest.mark.parametrize(("aggregate", "op", "value", "expected"), AGGREGATES)
def test_aggregate(
    warehouse: Warehouse, aggregate: dict[str, Any], op: str, value: Any, expected: set[str]
) -> None:
    node = {"aggregate": aggregate, "op": op, "value": value}
    assert members(warehouse, node) == expected


def test_groups_nest(warehouse: Warehouse) -> None:
    us_rich = {
        "all": [
            {"attribute": "country", "op": "eq", "value": "US"},
            {"attribute": "ltv", "op": "gt", "value": 250},
        ]
    }
    assert members(warehouse, us_rich) == {"c1", "c2", "c6"}
    either = {
        "any": [
            {"attribute": "tier", "op": "eq", "value": "platinum"},
            {"attribute": "city", "op": "eq", "value": "London"},
        ]
    }
    assert members(warehouse, either) == {"c4", "c6"}
    # `not` holds when the inner condition is unknown (c3 has no vip flag).
    assert members(warehouse, {"not": {"attribute": "vip", "op": "is_true"}}) == {"c2", "c3", "c5"}
    nested = {
        "all": [
            {"attribute": "country", "op": "in", "value": ["US", "CA"]},
            {
                "any": [
                    {
                        "aggregate": {
                            "table": "orders",
                            "date_column": "order_date",
                            "within_last_days": 90,
                        },
                        "op": ">=",
                        "value": 2,
                    },
                    {"attribute": "tier", "op": "is_null"},
                ]
            },
        ]
    }
    assert members(warehouse, nested) == {"c1", "c3"}


def test_relative_dates_use_the_engines_today(warehouse: Warehouse) -> None:
    warehouse.execute(
        "INSERT INTO customer_360 (customer_id, signup_date) VALUES ('today', CURRENT_DATE)"
    )
    node = {"attribute": "signup_date", "op": "within_last_days", "value": 1}
    assert "today" in members(warehouse, node, as_of=None)


def test_injection_through_a_value_is_just_a_value(warehouse: Warehouse) -> None:
    attack = "x'; DROP TABLE customer_360; --"
    warehouse.execute(
        "INSERT INTO customer_360 (customer_id, city) "
        f"VALUES ('evil', '{attack.replace(chr(39), chr(39) * 2)}')"
    )
    assert members(warehouse, {"attribute": "city", "op": "eq", "value": attack}) == {"evil"}
    assert members(warehouse, {"attribute": "city", "op": "contains", "value": "'; drop"}) == {
        "evil"
    }
    assert members(
        warehouse, {"attribute": "city", "op": "in", "value": [attack, "' OR 1=1 --"]}
    ) == {"evil"}
    assert "customer_360" in warehouse.tables()  # still there


def test_injection_through_a_name_is_refused(warehouse: Warehouse) -> None:
    with pytest.raises(AudienceError) as caught:
        members(warehouse, {"attribute": "city = city OR 1=1 --", "op": "eq", "value": "x"})
    assert "unknown attribute" in str(caught.value)
    with pytest.raises(AudienceError):
        members(
            warehouse, {"aggregate": {"table": "orders; DROP TABLE orders"}, "op": "gt", "value": 0}
        )
    assert "orders" in warehouse.tables()


def test_every_bad_condition_is_reported_with_its_path(warehouse: Warehouse) -> None:
    node = {
        "all": [
            {"attribute": "cty", "op": "eq", "value": "Boston"},
            {"attribute": "ltv", "op": "contains", "value": "1"},
            {"attribute": "ltv", "op": "gt", "value": "lots"},
            {"attribute": "city", "op": "eq", "value": 2134},
            {"attribute": "signup_date", "op": "after", "value": "last tuesday"},
            {"aggregate": {"table": "ordrs"}, "op": "gt", "value": 1},
            {"attribute": "city", "op": "within_last_days", "value": 3},
        ]
    }
    with pytest.raises(AudienceError) as caught:
        members(warehouse, node)
    issues = {issue.path: issue for issue in caught.value.issues}
    assert issues[("all", 0, "attribute")].hint == "did you mean 'city'?"
    assert "does not apply to ltv" in issues[("all", 1, "op")].message
    assert "not a number" in issues[("all", 2, "value")].message
    assert "quote it" in (issues[("all", 3, "value")].hint or "")
    assert "not a date" in issues[("all", 4, "value")].message
    assert issues[("all", 5, "aggregate", "table")].hint == "did you mean 'orders'?"
    assert ("all", 6, "op") in issues
    assert len(caught.value.issues) == 7


@pytest.mark.parametrize(
    "node",
    [
        {"attribute": "a", "op": "is_null", "value": 1},
        {"attribute": "a", "op": "in", "value": []},
        {"attribute": "a", "op": "between", "value": [1]},
        {"attribute": "a", "op": "within_last_days", "value": -3},
        {"attribute": "a", "op": "eq"},
        {"attribute": "a", "op": "like", "value": "x"},
        {"aggregate": {"table": "orders"}, "op": "contains", "value": "x"},
        {"aggregate": {"table": "orders", "function": "sum"}, "op": "gt", "value": 1},
        {"aggregate": {"table": "orders", "within_last_days": 9}, "op": "gt", "value": 1},
        {"all": []},
    ],
)
def test_shapes_are_checked_before_compiling(node: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        NODE.validate_python(node)
