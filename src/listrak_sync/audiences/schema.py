"""What the warehouse holds: tables and column types, read once per use and cached."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Literal

from sqlglot import exp

from ..warehouse import Column, TableNotFound, Warehouse

__all__ = ["Kind", "WarehouseSchema", "close_match", "kind_of", "table_expression"]

Kind = Literal["text", "number", "date", "timestamp", "boolean", "other"]

_NUMBER_PREFIXES = (
    "TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "UHUGEINT", "DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC",
)  # fmt: skip


def kind_of(type_name: str) -> Kind:
    """The operator family a column type belongs to."""
    name = type_name.upper()
    if name.startswith(("VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR")):
        return "text"
    if name.startswith(("TIMESTAMP", "DATETIME")):
        return "timestamp"
    if name == "DATE":
        return "date"
    if name in ("BOOLEAN", "BOOL"):
        return "boolean"
    if name.startswith(_NUMBER_PREFIXES):
        return "number"
    return "other"


def close_match(word: str, choices: list[str]) -> str | None:
    """``did you mean 'x'?`` or None."""
    found = difflib.get_close_matches(word.lower(), [c.lower() for c in choices], n=1, cutoff=0.6)
    if not found:
        return None
    original = next(c for c in choices if c.lower() == found[0])
    return f"did you mean {original!r}?"


def table_expression(name: str, alias: str | None = None) -> exp.Table:
    """A quoted table reference for a known table name such as ``orders`` or ``crm.orders``."""
    parts = name.split(".")
    table = exp.Table(this=exp.to_identifier(parts[-1], quoted=True))
    if len(parts) > 1:
        table.set("db", exp.to_identifier(parts[-2], quoted=True))
    if len(parts) > 2:
        table.set("catalog", exp.to_identifier(parts[-3], quoted=True))
    if alias:
        table.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    return table


@dataclass
class WarehouseSchema:
    """A cached view of the warehouse catalog, with case-insensitive lookups."""

    warehouse: Warehouse
    _tables: dict[str, str] | None = None
    _columns: dict[str, dict[str, Column]] = field(default_factory=dict)

    def tables(self) -> dict[str, str]:
        """Lower-cased name -> name as the warehouse spells it."""
        if self._tables is None:
            self._tables = {t.lower(): t for t in self.warehouse.tables()}
        return self._tables

    def table(self, name: str) -> str | None:
        """The warehouse's spelling of ``name`` (``main.x`` and ``x`` are the same), or None."""
        known = self.tables()
        lowered = name.lower()
        if lowered in known:
            return known[lowered]
        if lowered.startswith("main.") and lowered[5:] in known:
            return known[lowered[5:]]
        return None

    def columns(self, table: str) -> dict[str, Column]:
        """Lower-cased column name -> Column; empty if the table does not exist."""
        actual = self.table(table)
        if actual is None:
            return {}
        if actual not in self._columns:
            try:
                described = self.warehouse.describe(actual)
            except TableNotFound:
                described = []
            self._columns[actual] = {c.name.lower(): c for c in described}
        return self._columns[actual]

    def column(self, table: str, name: str) -> Column | None:
        return self.columns(table).get(name.lower())

    def table_hint(self, name: str) -> str | None:
        return close_match(name, list(self.tables().values()))

    def column_hint(self, table: str, name: str) -> str | None:
        return close_match(name, [c.name for c in self.columns(table).values()])

    def sqlglot_schema(self, tables: list[str]) -> dict[str, dict[str, str]]:
        """``{table: {column: type}}`` for sqlglot's qualifier."""
        result: dict[str, dict[str, str]] = {}
        for name in tables:
            actual = self.table(name)
            if actual is None:
                continue
            result[actual.split(".")[-1]] = {c.name: c.type for c in self.columns(actual).values()}
        return result
