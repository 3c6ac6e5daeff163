"""The structured segment filter: nested all/any/not groups of attribute–operator–value conditions.

This is the form the web app's drop-downs edit and the YAML ``filter:`` key holds. It is data
only; ``audiences/compiler.py`` turns it into a sqlglot expression.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

__all__ = [
    "AGGREGATE_OPERATORS",
    "OPERATOR_ALIASES",
    "Aggregate",
    "AggregateCondition",
    "AllGroup",
    "AnyGroup",
    "Condition",
    "FilterNode",
    "NotGroup",
    "Operator",
    "Scalar",
]

Operator = Literal[
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "not_between",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "is_null",
    "is_not_null",
    "is_true",
    "is_false",
    "within_last_days",
    "not_within_last_days",
]

# Symbols people type from habit; normalised before validation so errors name the real operators.
OPERATOR_ALIASES: dict[str, str] = {
    "=": "eq",
    "==": "eq",
    "!=": "ne",
    "<>": "ne",
    ">": "gt",
    ">=": "gte",
    "<": "lt",
    "<=": "lte",
    "before": "lt",
    "after": "gt",
    "not in": "not_in",
    "is null": "is_null",
    "is not null": "is_not_null",
}

AGGREGATE_OPERATORS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "between", "not_between"})
_NO_VALUE = frozenset({"is_null", "is_not_null", "is_true", "is_false"})
_PAIR = frozenset({"between", "not_between"})
_LIST = frozenset({"in", "not_in"})
_TEXT = frozenset({"contains", "not_contains", "starts_with", "ends_with"})
_DAYS = frozenset({"within_last_days", "not_within_last_days"})

Scalar = str | bool | int | float | dt.datetime | dt.date
_Value = Scalar | list[Scalar] | None

_STRICT = ConfigDict(extra="forbid", frozen=True)


def _normalise_op(value: Any) -> Any:
    if isinstance(value, str):
        key = " ".join(value.strip().lower().split())
        return OPERATOR_ALIASES.get(key, key.replace(" ", "_"))
    return value


def _check_value(op: str, value: Any) -> None:
    """Each operator takes a value of one shape; say which when it does not fit."""
    if op in _NO_VALUE:
        if value is not None:
            raise ValueError(f"operator {op!r} takes no value")
    elif op in _PAIR:
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError(f"operator {op!r} takes a list of two values [low, high]")
    elif op in _LIST:
        if not isinstance(value, list) or not value:
            raise ValueError(f"operator {op!r} takes a non-empty list of values")
    elif op in _TEXT:
        if not isinstance(value, str) or not value:
            raise ValueError(f"operator {op!r} takes a non-empty text value")
    elif op in _DAYS:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"operator {op!r} takes a whole number of days greater than 0")
    elif value is None or isinstance(value, list):
        raise ValueError(f"operator {op!r} takes one value (use is_null / in for other checks)")


class Condition(BaseModel):
    """``attribute op value`` on a column of the customer table (or, inside an aggregate's
    ``where``, of the related table)."""

    model_config = _STRICT

    attribute: str = Field(min_length=1)
    op: Operator
    value: _Value = None

    _op = field_validator("op", mode="before")(_normalise_op)

    @model_validator(mode="after")
    def _value_fits(self) -> Condition:
        _check_value(self.op, self.value)
        return self


class Aggregate(BaseModel):
    """An aggregate over rows of a related table that belong to the customer."""

    model_config = _STRICT

    table: str = Field(min_length=1)
    function: Literal["count", "count_distinct", "sum", "avg", "min", "max"] = "count"
    column: str | None = None
    key: str | None = None  # the related table's customer key; defaults to the customer key
    date_column: str | None = None
    within_last_days: int | None = Field(default=None, gt=0)
    where: FilterNode | None = None

    @model_validator(mode="after")
    def _column_needed(self) -> Aggregate:
        if self.function != "count" and self.column is None:
            raise ValueError(f"aggregate function {self.function!r} needs a column")
        if self.within_last_days is not None and self.date_column is None:
            raise ValueError("within_last_days needs date_column (the related table's date)")
        return self


class AggregateCondition(BaseModel):
    """``aggregate op value``, e.g. orders in the last 90 days >= 2."""

    model_config = _STRICT

    aggregate: Aggregate
    op: Operator
    value: _Value = None

    _op = field_validator("op", mode="before")(_normalise_op)

    @model_validator(mode="after")
    def _value_fits(self) -> AggregateCondition:
        if self.op not in AGGREGATE_OPERATORS:
            allowed = ", ".join(sorted(AGGREGATE_OPERATORS))
            raise ValueError(f"an aggregate compares with one of: {allowed}")
        _check_value(self.op, self.value)
        return self


class AllGroup(BaseModel):
    """Every condition holds."""

    model_config = _STRICT

    all: list[FilterNode] = Field(min_length=1)


class AnyGroup(BaseModel):
    """At least one condition holds."""

    model_config = _STRICT

    any: list[FilterNode] = Field(min_length=1)


class NotGroup(BaseModel):
    """The condition does not hold (a missing value counts as "does not hold")."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    not_: FilterNode = Field(alias="not")


def _kind(value: Any) -> str | None:
    """Pick the node type from the keys present, so errors talk about one shape, not five."""
    if isinstance(value, BaseModel):
        return {
            AllGroup: "all",
            AnyGroup: "any",
            NotGroup: "not",
            AggregateCondition: "aggregate",
            Condition: "condition",
        }.get(type(value))
    if not isinstance(value, dict):
        return None
    for key in ("all", "any", "not", "aggregate"):
        if key in value:
            return key
    return "condition"


FilterNode = Annotated[
    Annotated[AllGroup, Tag("all")]
    | Annotated[AnyGroup, Tag("any")]
    | Annotated[NotGroup, Tag("not")]
    | Annotated[AggregateCondition, Tag("aggregate")]
    | Annotated[Condition, Tag("condition")],
    Discriminator(
        _kind,
        custom_error_type="filter_node",
        custom_error_message="a filter is {all: [...]}, {any: [...]}, {not: ...}, "
        "{aggregate: ..., op, value} or {attribute, op, value}",
    ),
]

for _model in (Aggregate, AllGroup, AnyGroup, NotGroup):
    _model.model_rebuild()
