"""Compile a structured filter into a sqlglot expression.

Values only ever become sqlglot literals (``exp.Literal``, ``exp.Boolean``, casts of literals),
and names only ever become quoted identifiers of columns that exist; so nothing a user types can
change the shape of the query. Conventions where SQL is ambiguous for a marketer:

- ``contains`` / ``starts_with`` / ``ends_with`` ignore case; ``eq`` / ``in`` are exact.
- Negative operators (``ne``, ``not_in``, ``not_contains``, ``not_between``,
  ``not_within_last_days``, ``not``) include people whose value is missing: someone with no
  last order date has *not* ordered within the last 30 days.
- ``within_last_days: N`` means the date (timestamps: their day) lies between ``as_of - N days``
  and ``as_of`` inclusive; ``as_of`` is the engine's ``CURRENT_DATE`` unless given.
- Aggregates over related tables are correlated subqueries the engine decorrelates; ``count``
  and ``sum`` of no rows are 0, other functions of no rows are missing (NULL).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlglot import exp

from ..config.filters import (
    Aggregate,
    AggregateCondition,
    AllGroup,
    AnyGroup,
    Condition,
    FilterNode,
    NotGroup,
)
from .errors import AudienceError, Issue
from .schema import Kind, WarehouseSchema, kind_of, table_expression

__all__ = ["CUSTOMER_ALIAS", "FilterCompiler"]

CUSTOMER_ALIAS = "c"
_NEGATIVE = frozenset({"ne", "not_in", "not_contains", "not_between", "not_within_last_days"})
_ORDERED = frozenset({"gt", "gte", "lt", "lte", "between", "not_between"})
_TEXT_ONLY = frozenset({"contains", "not_contains", "starts_with", "ends_with"})
_DATES = frozenset({"within_last_days", "not_within_last_days"})
_COMPARE: dict[str, type[exp.Binary]] = {
    "eq": exp.EQ,
    "ne": exp.NEQ,
    "gt": exp.GT,
    "gte": exp.GTE,
    "lt": exp.LT,
    "lte": exp.LTE,
}
Loc = tuple[str | int, ...]


class _Invalid(Exception):
    """One issue; caught per condition so the compiler reports every bad condition."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


class FilterCompiler:
    """Turns filter nodes into a ``SELECT key FROM customer_table`` for one warehouse schema."""

    def __init__(
        self,
        schema: WarehouseSchema,
        *,
        customer_table: str,
        customer_key: str,
        as_of: dt.date | None = None,
    ) -> None:
        self.schema = schema
        self.customer_table = customer_table
        self.customer_key = customer_key
        self.as_of = as_of
        self._issues: list[Issue] = []
        self._aliases = 0

    def select(self, node: FilterNode) -> exp.Select:
        """``SELECT c.<key> FROM <customer_table> AS c WHERE <filter>``; AudienceError lists
        every problem (unknown attribute, operator not fit for the column type, bad value)."""
        self._issues = []
        table = self.schema.table(self.customer_table)
        if table is None:
            raise AudienceError(
                [
                    Issue(
                        f"customer table {self.customer_table!r} is not in the warehouse",
                        self.schema.table_hint(self.customer_table),
                    )
                ]
            )
        key = self.schema.column(table, self.customer_key)
        if key is None:
            raise AudienceError(
                [Issue(f"customer table {table!r} has no key column {self.customer_key!r}")]
            )
        where = self._node(node, (), table, CUSTOMER_ALIAS)
        if self._issues:
            raise AudienceError(self._issues)
        return (
            exp.select(exp.column(key.name, table=CUSTOMER_ALIAS, quoted=True))
            .from_(table_expression(table, CUSTOMER_ALIAS))
            .where(where)
        )

    # --- nodes -----------------------------------------------------------------------------

    def _node(self, node: FilterNode, loc: Loc, table: str, alias: str) -> exp.Expr:
        try:
            if isinstance(node, AllGroup):
                parts = [
                    self._node(n, (*loc, "all", i), table, alias) for i, n in enumerate(node.all)
                ]
                return exp.and_(*parts) if len(parts) > 1 else exp.paren(parts[0])
            if isinstance(node, AnyGroup):
                parts = [
                    self._node(n, (*loc, "any", i), table, alias) for i, n in enumerate(node.any)
                ]
                return exp.paren(exp.or_(*parts)) if len(parts) > 1 else exp.paren(parts[0])
            if isinstance(node, NotGroup):
                inner = self._node(node.not_, (*loc, "not"), table, alias)
                # NOT NULL is NULL; "not X" must hold when X is unknown.
                return exp.not_(exp.func("COALESCE", exp.paren(inner), exp.false()))
            if isinstance(node, AggregateCondition):
                return self._aggregate(node, loc, table, alias)
            return self._condition(node, loc, table, alias)
        except _Invalid as invalid:
            self._issues.append(invalid.issue)
            return exp.false()

    def _condition(self, cond: Condition, loc: Loc, table: str, alias: str) -> exp.Expr:
        column = self.schema.column(table, cond.attribute)
        if column is None:
            raise _Invalid(
                Issue(
                    f"unknown attribute {cond.attribute!r} (not a column of {table})",
                    self.schema.column_hint(table, cond.attribute),
                    (*loc, "attribute"),
                )
            )
        ref = exp.column(column.name, table=alias, quoted=True)
        kind = kind_of(column.type)
        self._check_operator(cond.op, kind, column.name, column.type, loc)
        return self._compare(ref, kind, cond.op, cond.value, (*loc, "value"))

    def _check_operator(self, op: str, kind: Kind, name: str, type_name: str, loc: Loc) -> None:
        bad = (
            (op in _TEXT_ONLY and kind != "text")
            or (op in _DATES and kind not in ("date", "timestamp"))
            or (op in ("is_true", "is_false") and kind != "boolean")
            or (op in _ORDERED and kind == "boolean")
        )
        if bad:
            raise _Invalid(
                Issue(f"operator {op!r} does not apply to {name} ({type_name})", path=(*loc, "op"))
            )

    def _compare(self, ref: exp.Expr, kind: Kind, op: str, value: Any, loc: Loc) -> exp.Expr:
        if op == "is_null":
            return exp.Is(this=ref, expression=exp.null())
        if op == "is_not_null":
            return exp.not_(exp.Is(this=ref, expression=exp.null()))
        if op in ("is_true", "is_false"):
            return exp.EQ(this=ref, expression=exp.Boolean(this=op == "is_true"))
        if op in _DATES:
            day = exp.cast(ref, exp.DataType.build("DATE")) if kind == "timestamp" else ref
            within = exp.Between(this=day, low=self._days_ago(int(value)), high=self._today())
            return within if op == "within_last_days" else self._or_null(ref, exp.not_(within))
        if op in _TEXT_ONLY:
            lowered = exp.Lower(this=ref)
            needle = str(value).lower()
            literal = exp.Literal.string(needle)
            if op == "starts_with":
                return exp.StartsWith(this=lowered, expression=literal)
            if op == "ends_with":
                right = exp.Right(this=lowered, expression=exp.Literal.number(len(needle)))
                return exp.EQ(this=right, expression=literal)
            found = exp.StrPosition(this=lowered, substr=literal)
            if op == "contains":
                return exp.GT(this=found, expression=exp.Literal.number(0))
            return self._or_null(ref, exp.EQ(this=found, expression=exp.Literal.number(0)))
        # A timestamp compared with a plain date compares its day: `signup_at eq 2024-05-01`.
        if kind == "timestamp" and _all_dates(value):
            ref = exp.cast(ref, exp.DataType.build("DATE"))
            kind = "date"
        if op in ("between", "not_between"):
            low, high = (self._literal(v, kind, (*loc, i)) for i, v in enumerate(value))
            between = exp.Between(this=ref, low=low, high=high)
            return between if op == "between" else self._or_null(ref, exp.not_(between))
        if op in ("in", "not_in"):
            items = [self._literal(v, kind, (*loc, i)) for i, v in enumerate(value)]
            inside = exp.In(this=ref, expressions=items)
            return inside if op == "in" else self._or_null(ref, exp.not_(inside))
        comparison = _COMPARE[op](this=ref, expression=self._literal(value, kind, loc))
        return self._or_null(ref, comparison) if op in _NEGATIVE else comparison

    def _aggregate(self, cond: AggregateCondition, loc: Loc, table: str, alias: str) -> exp.Expr:
        agg: Aggregate = cond.aggregate
        at: Loc = (*loc, "aggregate")
        related = self.schema.table(agg.table)
        if related is None:
            raise _Invalid(
                Issue(
                    f"unknown table {agg.table!r}",
                    self.schema.table_hint(agg.table),
                    (*at, "table"),
                )
            )
        self._aliases += 1
        inner = f"r{self._aliases}"
        key_name = agg.key or self.customer_key
        related_key = self._column(related, key_name, (*at, "key"))
        outer_key = self.schema.column(table, self.customer_key)
        assert outer_key is not None  # checked in select()
        conditions: list[exp.Expr] = [
            exp.EQ(
                this=exp.column(related_key, table=inner, quoted=True),
                expression=exp.column(outer_key.name, table=alias, quoted=True),
            )
        ]
        if agg.date_column is not None:
            date_name = self._column(related, agg.date_column, (*at, "date_column"))
            date_kind = kind_of(self._type(related, date_name))
            if date_kind not in ("date", "timestamp"):
                raise _Invalid(
                    Issue(f"date_column {date_name!r} is not a date", path=(*at, "date_column"))
                )
            if agg.within_last_days is not None:
                ref = exp.column(date_name, table=inner, quoted=True)
                day = exp.cast(ref, exp.DataType.build("DATE")) if date_kind == "timestamp" else ref
                conditions.append(
                    exp.Between(
                        this=day, low=self._days_ago(agg.within_last_days), high=self._today()
                    )
                )
        if agg.where is not None:
            conditions.append(self._node(agg.where, (*at, "where"), related, inner))
        value_kind: Kind = "number"
        if agg.function == "count":
            measure: exp.Expr = exp.Count(this=exp.Star())
        else:
            assert agg.column is not None  # the model requires it
            name = self._column(related, agg.column, (*at, "column"))
            ref = exp.column(name, table=inner, quoted=True)
            column_kind = kind_of(self._type(related, name))
            if agg.function == "count_distinct":
                measure = exp.Count(this=exp.Distinct(expressions=[ref]))
            elif agg.function in ("sum", "avg"):
                if column_kind != "number":
                    raise _Invalid(
                        Issue(
                            f"{agg.function} needs a numeric column; {name} is not",
                            path=(*at, "column"),
                        )
                    )
                measure = exp.Sum(this=ref) if agg.function == "sum" else exp.Avg(this=ref)
            else:
                measure = exp.Min(this=ref) if agg.function == "min" else exp.Max(this=ref)
                value_kind = column_kind
        if agg.function in ("count", "count_distinct", "sum"):
            measure = exp.func("COALESCE", measure, exp.Literal.number(0))
        subquery = exp.Subquery(
            this=exp.select(measure)
            .from_(table_expression(related, inner))
            .where(exp.and_(*conditions))
        )
        return self._compare(subquery, value_kind, cond.op, cond.value, (*loc, "value"))

    # --- helpers ---------------------------------------------------------------------------

    def _column(self, table: str, name: str, loc: Loc) -> str:
        column = self.schema.column(table, name)
        if column is None:
            raise _Invalid(
                Issue(
                    f"unknown column {name!r} in {table}",
                    self.schema.column_hint(table, name),
                    loc,
                )
            )
        return column.name

    def _type(self, table: str, name: str) -> str:
        column = self.schema.column(table, name)
        return column.type if column is not None else ""

    def _today(self) -> exp.Expr:
        if self.as_of is None:
            return exp.CurrentDate()
        return _date_literal(self.as_of)

    def _days_ago(self, days: int) -> exp.Expr:
        if self.as_of is not None:
            return _date_literal(self.as_of - dt.timedelta(days=days))
        return exp.cast(
            exp.DateSub(
                this=exp.CurrentDate(), expression=exp.Literal.number(days), unit=exp.var("DAY")
            ),
            exp.DataType.build("DATE"),
        )

    @staticmethod
    def _or_null(ref: exp.Expr, condition: exp.Expr) -> exp.Expr:
        return exp.paren(exp.or_(exp.Is(this=ref, expression=exp.null()), condition))

    def _literal(self, value: Any, kind: Kind, loc: Loc) -> exp.Expr:
        """A literal of the column's type; the value itself never reaches SQL as text."""
        if kind == "number":
            number = _number(value)
            if number is None:
                raise _Invalid(Issue(f"{value!r} is not a number", path=loc))
            return exp.Literal.number(number)
        if kind in ("date", "timestamp"):
            moment = _moment(value)
            if moment is None:
                raise _Invalid(Issue(f"{value!r} is not a date", "write dates as YYYY-MM-DD", loc))
            if isinstance(moment, dt.datetime):
                return exp.cast(
                    exp.Literal.string(moment.isoformat(sep=" ")),
                    exp.DataType.build("TIMESTAMP"),
                )
            return _date_literal(moment)
        if kind == "boolean":
            if not isinstance(value, bool):
                raise _Invalid(Issue(f"{value!r} is not true or false", path=loc))
            return exp.Boolean(this=value)
        if kind == "text" and not isinstance(value, str):
            raise _Invalid(
                Issue(
                    f"{value!r} is not text",
                    "quote it, e.g. '02134', so YAML keeps it as written",
                    loc,
                )
            )
        if isinstance(value, bool):
            return exp.Boolean(this=value)
        if isinstance(value, int | float):
            return exp.Literal.number(_number(value) or "0")
        if isinstance(value, dt.date):
            return _date_literal(value)
        return exp.Literal.string(str(value))


def _date_literal(day: dt.date) -> exp.Expr:
    return exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.build("DATE"))


def _number(value: Any) -> str | None:
    """A canonical numeric string (digits, sign, point, exponent), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            return None
        return str(parsed) if parsed.is_finite() else None
    return None


def _moment(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return (
                dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
            )
        except ValueError:
            return None
    return None


def _all_dates(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return bool(values) and all(
        (isinstance(v, dt.date) and not isinstance(v, dt.datetime))
        or (isinstance(v, str) and len(v.strip()) == 10 and _moment(v) is not None)
        for v in values
    )
