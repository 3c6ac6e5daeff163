"""The segment builder's form, as data: groups of conditions on customer-table columns, and the
structured filter (``config.filters``) it stands for.

The form is two levels deep: the groups are joined by ``top`` (all / any), the conditions of a
group by the group's own join. A condition's value is typed by its column's kind (numbers,
dates, booleans; comma-separated lists for ``in`` and ``between``). Filters that do not fit this
shape (``not``, aggregates over related tables) stay editable in the project file only.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from ..audiences.schema import Kind
from ..config.filters import AllGroup, AnyGroup, Condition, FilterNode

__all__ = ["OPERATORS", "Draft", "Group", "Row", "draft_from_filter", "draft_from_form"]

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
_KEY = re.compile(r"^g(\d+)\.(join|c(\d+)\.(column|op|value))$")
_MAX = 50  # groups, and conditions per group: a form, not a place to paste a table


@dataclass
class Row:
    column: str = ""
    op: str = "eq"
    value: str = ""
    error: str | None = None


@dataclass
class Group:
    join: str = "all"
    rows: list[Row] = field(default_factory=lambda: [Row()])


@dataclass
class Draft:
    """What the builder form holds."""

    name: str = ""
    description: str = ""
    top: str = "all"
    groups: list[Group] = field(default_factory=lambda: [Group()])
    base: str = ""  # hash of listrak-sync.yml when the builder was opened
    original: str = ""  # the segment being edited ("" for a new one)

    def filter(self, kinds: dict[str, Kind]) -> FilterNode | None:
        """The structured filter, or None when a row has an error (set on the row) or no row
        names a column. ``kinds``: column name -> kind, for the customer table."""
        groups: list[FilterNode] = []
        failed = False
        for group in self.groups:
            conditions: list[FilterNode] = []
            for row in group.rows:
                row.error = None
                if not row.column:
                    continue
                if row.column not in kinds:
                    row.error = f"no column {row.column!r} in the customer table"
                    failed = True
                    continue
                try:
                    conditions.append(
                        Condition(
                            attribute=row.column,
                            op=row.op,
                            value=_typed(row.op, row.value, kinds[row.column]),
                        )
                    )
                except (ValueError, ValidationError) as exc:
                    row.error = _message(exc)
                    failed = True
            if conditions:
                groups.append(_joined(group.join, conditions))
        if failed or not groups:
            return None
        return _joined(self.top, groups)


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
    (``action``: ``add-row:G``, ``add-group``, ``remove-row:G:R``, ``remove-group:G``)."""
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
    elif verb == "add-row" and numbers and numbers[0] < len(draft.groups):
        if len(draft.groups[numbers[0]].rows) < _MAX:
            draft.groups[numbers[0]].rows.append(Row())
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
    (``not``, aggregates, groups nested deeper than two levels)."""

    def row(item: object) -> Row | None:
        if isinstance(item, Condition):
            return Row(item.attribute, item.op, _shown(item.value))
        return None

    def group(item: object) -> Group | None:
        if isinstance(item, Condition):
            found = row(item)
            return Group(rows=[found]) if found else None
        children = (
            item.all
            if isinstance(item, AllGroup)
            else (item.any if isinstance(item, AnyGroup) else None)
        )
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
    children = (
        node.all
        if isinstance(node, AllGroup)
        else (node.any if isinstance(node, AnyGroup) else None)
    )
    if children is None:
        return None
    groups = [group(child) for child in children]
    if any(g is None for g in groups):
        return None
    draft.top = "all" if isinstance(node, AllGroup) else "any"
    draft.groups = groups  # type: ignore[assignment]
    return draft
