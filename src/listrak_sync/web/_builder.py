"""The segment builder's form, as data: groups of conditions on customer-table columns, and the
structured filter (``config.filters``) it stands for.

The form is two levels deep: the groups are joined by ``top`` (all / any), the conditions of a
group by the group's own join, and a group may be negated (``not``: customers it does not
match). A condition is either on a customer-table column or on an aggregate over a related
table (orders counted, amounts summed, optionally within the last N days of a date column).
A value is typed by its column's kind (numbers, dates, booleans; comma-separated lists for
``in`` and ``between``). Filters of another shape (groups nested deeper, an aggregate with a
``where``) stay editable in the project file only.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from ..audiences.schema import Kind
from ..config.filters import (
    AGGREGATE_OPERATORS,
    Aggregate,
    AggregateCondition,
    AllGroup,
    AnyGroup,
    Condition,
    FilterNode,
    NotGroup,
)

__all__ = [
    "AGGREGATE_OPS",
    "FUNCTIONS",
    "OPERATORS",
    "Draft",
    "Group",
    "Row",
    "draft_from_filter",
    "draft_from_form",
]

_NO_VALUE = ("is_null", "is_not_null", "is_true", "is_false")
_LIST = ("in", "not_in", "between", "not_between")
_DAYS = ("within_last_days", "not_within_last_days")
_ORDER = ("eq", "ne", "gt", "gte", "lt", "lte", "between", "not_between")

# The operators offered for each kind of column, as the drop-down shows them.
OPERATORS: dict[Kind, tuple[str, ...]] = {
    "text": ("eq", "ne", "in", "not_in", "contains", "not_contains", "starts_with",
             "ends_with", "is_null", "is_not_null"),
    "number": (*_ORDER, "in", "not_in", "is_null", "is_not_null"),
    "date": (*_ORDER, *_DAYS, "is_null", "is_not_null"),
    "timestamp": (*_ORDER, *_DAYS, "is_null", "is_not_null"),
    "boolean": ("is_true", "is_false", "is_null", "is_not_null"),
    "other": ("eq", "ne", "is_null", "is_not_null"),
}  # fmt: skip
# What an aggregate compares with, and the functions it offers, in the drop-downs' order.
AGGREGATE_OPS = tuple(op for op in _ORDER if op in AGGREGATE_OPERATORS)
FUNCTIONS = ("count", "count_distinct", "sum", "avg", "min", "max")
_ROW_FIELDS = "column|op|value|kind|table|function|of|date|days|key"
_KEY = re.compile(rf"^g(\d+)\.(join|not|c(\d+)\.({_ROW_FIELDS}))$")
_MAX = 50  # groups, and conditions per group: a form, not a place to paste a table


@dataclass
class Row:
    """One condition. ``kind`` "column": ``column op value`` on the customer table;
    "aggregate": ``function(of)`` over the customer's rows of related ``table`` (those of the
    last ``days`` days of ``date`` when both are given) ``op value``."""

    column: str = ""
    op: str = "eq"
    value: str = ""
    error: str | None = None
    kind: str = "column"
    table: str = ""
    function: str = "count"
    of: str = ""  # the aggregated column ("" for count)
    date: str = ""
    days: str = ""
    key: str = ""  # the related table's customer key, when the file names one

    def fields(self) -> dict[str, str]:
        """The form fields that carry this row (the review page posts them back)."""
        return {name: str(getattr(self, name)) for name in _ROW_FIELDS.split("|")}

    @property
    def named(self) -> bool:
        return bool(self.table if self.kind == "aggregate" else self.column)


@dataclass
class Group:
    join: str = "all"
    rows: list[Row] = field(default_factory=lambda: [Row()])
    negate: bool = False  # "not": the customers the group does not match


@dataclass
class Draft:
    """What the builder form holds."""

    name: str = ""
    description: str = ""
    top: str = "all"
    groups: list[Group] = field(default_factory=lambda: [Group()])
    base: str = ""  # hash of listrak-sync.yml when the builder was opened
    original: str = ""  # the segment being edited ("" for a new one)

    def tables(self) -> list[str]:
        """The related tables the draft's aggregates name."""
        named = {r.table for g in self.groups for r in g.rows if r.kind == "aggregate"}
        return sorted(named - {""})

    def errors(self) -> list[str]:
        return [
            f"{row.table if row.kind == 'aggregate' else row.column}: {row.error}"
            for group in self.groups
            for row in group.rows
            if row.error
        ]

    def filter(
        self, kinds: dict[str, Kind], related: dict[str, dict[str, Kind]] | None = None
    ) -> FilterNode | None:
        """The structured filter, or None when a row has an error (set on the row) or no row
        names a column. ``kinds``: column name -> kind, for the customer table; ``related``:
        the same for each related table the aggregates name."""
        related = related or {}
        groups: list[FilterNode] = []
        failed = False
        for group in self.groups:
            conditions: list[FilterNode] = []
            for row in group.rows:
                row.error = None
                if not row.named:
                    continue
                try:
                    if row.kind == "aggregate":
                        conditions.append(_aggregate(row, related))
                    elif row.column not in kinds:
                        raise ValueError(f"no column {row.column!r} in the customer table")
                    else:
                        value = _typed(row.op, row.value, kinds[row.column])
                        conditions.append(Condition(attribute=row.column, op=row.op, value=value))
                except (ValueError, ValidationError) as exc:
                    row.error = _message(exc)
                    failed = True
            if conditions:
                joined = _joined(group.join, conditions)
                groups.append(NotGroup(not_=joined) if group.negate else joined)
        if failed or not groups:
            return None
        return _joined(self.top, groups)


def _aggregate(row: Row, related: dict[str, dict[str, Kind]]) -> AggregateCondition:
    """The aggregate condition a row stands for; ValueError naming what does not fit."""
    columns = related.get(row.table)
    if columns is None:
        raise ValueError(f"no table {row.table!r} in the warehouse")
    for name in (row.of, row.date):
        if name and name not in columns:
            raise ValueError(f"no column {name!r} in {row.table}")
    if row.function not in FUNCTIONS:
        raise ValueError(f"no aggregate function {row.function!r}")
    of = row.of if row.function != "count" else ""
    # min/max of a date compare with dates; counts, sums and averages with numbers.
    kind: Kind = columns[of] if of and row.function in ("min", "max") else "number"
    days = row.days.strip()
    if days and not days.isdigit():
        raise ValueError("the last N days: a whole number of days")
    if days and not row.date:
        raise ValueError("choose the date column the last N days count on")
    aggregate = Aggregate(
        table=row.table,
        function=row.function,
        column=of or None,
        key=row.key or None,
        date_column=row.date or None,
        within_last_days=int(days) if days else None,
    )
    return AggregateCondition(aggregate=aggregate, op=row.op, value=_typed(row.op, row.value, kind))


def _joined(join: str, nodes: list[FilterNode]) -> FilterNode:
    if len(nodes) == 1:
        return nodes[0]
    return AnyGroup(any=nodes) if join == "any" else AllGroup(all=nodes)


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
    return str(exc)


def _typed(op: str, text: str, kind: Kind) -> Any:
    """The form's text as the value the operator takes, typed by the column's kind."""
    text = text.strip()
    if op in _NO_VALUE:
        return None
    if op in _DAYS:
        if not text.isdigit():
            raise ValueError("a whole number of days")
        return int(text)
    if op in _LIST:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        return [_scalar(p, kind) for p in parts]
    if not text:
        raise ValueError("a value is needed")
    return _scalar(text, kind)


def _scalar(text: str, kind: Kind) -> Any:
    try:
        if kind == "number":
            number = float(text)
            return int(number) if number.is_integer() and "." not in text else number
        if kind == "date":
            return dt.date.fromisoformat(text)
        if kind == "timestamp":
            return (
                dt.datetime.fromisoformat(text)
                if "T" in text or " " in text
                else (dt.date.fromisoformat(text))
            )
    except ValueError:
        raise ValueError(f"{text!r} is not a {kind} (dates as 2026-03-31)") from None
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise ValueError(f"{text!r} is not true or false")
        return text.lower() == "true"
    return text


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def draft_from_form(form: FormData) -> Draft:
    """The builder's state from its posted fields, with the edit buttons applied
    (``action``: ``add-row:G``, ``add-aggregate:G``, ``add-group``, ``remove-row:G:R``,
    ``remove-group:G``)."""
    groups: dict[int, Group] = {}
    rows: dict[tuple[int, int], Row] = {}
    for key, value in form.multi_items():
        found = _KEY.match(key)
        if not found or not isinstance(value, str):
            continue
        g = int(found[1])
        if g >= _MAX:
            continue
        group = groups.setdefault(g, Group(rows=[]))
        if found[2] == "join":
            group.join = "any" if value == "any" else "all"
            continue
        if found[2] == "not":
            group.negate = value == "1"
            continue
        r = int(found[3])
        if r >= _MAX:
            continue
        row = rows.setdefault((g, r), Row())
        setattr(row, found[4], value)
    for (g, _), row in sorted(rows.items()):
        groups[g].rows.append(row)
    draft = Draft(
        name=str(form.get("name") or "").strip(),
        description=str(form.get("description") or "").strip(),
        top="any" if form.get("top") == "any" else "all",
        groups=[groups[g] for g in sorted(groups)] or [Group()],
        base=str(form.get("base") or ""),
        original=str(form.get("original") or ""),
    )
    _apply(draft, str(form.get("action") or ""))
    return draft


def _apply(draft: Draft, action: str) -> None:
    verb, _, where = action.partition(":")
    numbers = [int(n) for n in where.split(":") if n.isdigit()]
    if verb == "add-group" and len(draft.groups) < _MAX:
        draft.groups.append(Group())
    elif verb in ("add-row", "add-aggregate") and numbers and numbers[0] < len(draft.groups):
        rows = draft.groups[numbers[0]].rows
        if len(rows) < _MAX:
            new = Row(kind="aggregate", op="gte") if verb == "add-aggregate" else Row()
            # A fresh form's one empty condition gives way to the aggregate asked for.
            if verb == "add-aggregate" and len(rows) == 1 and not rows[0].named:
                rows.clear()
            rows.append(new)
    elif verb == "remove-row" and len(numbers) == 2 and numbers[0] < len(draft.groups):
        group = draft.groups[numbers[0]]
        if numbers[1] < len(group.rows):
            del group.rows[numbers[1]]
        if not group.rows:
            group.rows.append(Row())
    elif verb == "remove-group" and numbers and numbers[0] < len(draft.groups):
        del draft.groups[numbers[0]]
        if not draft.groups:
            draft.groups.append(Group())


def draft_from_filter(name: str, description: str, node: FilterNode) -> Draft | None:
    """The builder's state for an existing filter, or None when it does not fit the builder
    (groups nested deeper than two levels, ``not`` of a group of groups, an aggregate with a
    ``where``)."""

    def row(item: object) -> Row | None:
        if isinstance(item, Condition):
            return Row(item.attribute, item.op, _shown(item.value))
        if isinstance(item, AggregateCondition) and item.aggregate.where is None:
            agg = item.aggregate
            return Row(
                kind="aggregate", table=agg.table, function=agg.function, of=agg.column or "",
                date=agg.date_column or "", key=agg.key or "", op=item.op,
                days=str(agg.within_last_days or ""), value=_shown(item.value),
            )  # fmt: skip
        return None

    def group(item: object) -> Group | None:
        if isinstance(item, NotGroup):
            inner = group(item.not_)
            if inner is None or inner.negate:
                return None
            inner.negate = True
            return inner
        found = row(item)
        if found is not None:
            return Group(rows=[found])
        children = _children(item)
        if children is None:
            return None
        rows = [row(child) for child in children]
        if any(r is None for r in rows):
            return None
        return Group(join="all" if isinstance(item, AllGroup) else "any", rows=rows)  # type: ignore[arg-type]

    draft = Draft(name=name, description=description, original=name)
    single = group(node)
    if single is not None:
        draft.groups = [single]
        draft.top = single.join
        return draft
    children = _children(node)
    if children is None:
        return None
    groups = [group(child) for child in children]
    if any(g is None for g in groups):
        return None
    draft.top = "all" if isinstance(node, AllGroup) else "any"
    draft.groups = groups  # type: ignore[assignment]
    return draft


def _children(item: object) -> list[FilterNode] | None:
    if isinstance(item, AllGroup):
        return item.all
    if isinstance(item, AnyGroup):
        return item.any
    return None
