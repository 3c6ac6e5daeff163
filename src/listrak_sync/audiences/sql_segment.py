"""SQL segments: parsed and qualified with sqlglot against the warehouse schema.

Errors carry the line and column inside the SQL (sqlglot records token positions on
identifiers), so the project layer can point at the exact spot in ``listrak-sync.yml``.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, SqlglotError
from sqlglot.optimizer.qualify import qualify

from .errors import AudienceError, Issue
from .schema import WarehouseSchema, close_match

__all__ = ["parse_segment_sql"]

_CLASS = re.compile(r"<class '(?:[\w.]+\.)?(\w+)'>")
# Table functions a segment may use: they make rows, they read nothing.
_ROW_MAKERS = frozenset({"range", "generate_series", "unnest"})
# Functions that read files, the environment or settings, or run SQL given as text. A segment
# reads warehouse tables only (the warehouse also runs it with external access disabled).
_OUTSIDE = re.compile(
    r"^(read_\w+|\w+_scan|glob|getenv|current_setting|which_secret|query|query_table"
    r"|sniff_csv|parquet_\w+|duckdb_\w+|pragma_\w+|iceberg_\w+|delta_\w+)$"
)
_UNRESOLVED = re.compile(r"Column '([^']+)' could not be resolved|Unknown column: (\S+)")


def _start(node: exp.Expr) -> tuple[int | None, int | None]:
    """Line and first column of an identifier as sqlglot's tokenizer saw it."""
    meta = node.meta if node.meta else {}
    if "line" not in meta and isinstance(node.this, exp.Expr):
        meta = node.this.meta or {}
    if "line" not in meta:
        return None, None
    width = int(meta.get("end", 0)) - int(meta.get("start", 0))
    return int(meta["line"]), int(meta["col"]) - width


def parse_segment_sql(
    sql: str, schema: WarehouseSchema, *, dialect: str, customer_key: str
) -> exp.Select:
    """``SELECT DISTINCT key FROM (<sql>)``, after checking the SQL names real tables and
    columns and returns the customer key. AudienceError (with positions) otherwise."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as exc:
        issues = []
        for error in exc.errors:
            highlight = str(error.get("highlight") or "")
            line = error.get("line")
            col = error.get("col")
            start = col - max(len(highlight), 1) + 1 if isinstance(col, int) else None
            issues.append(
                Issue(
                    "SQL syntax error: "
                    + _CLASS.sub(r"\1", str(error.get("description")))
                    + (f" near {highlight!r}" if highlight else ""),
                    sql_line=line if isinstance(line, int) else None,
                    sql_column=start,
                )
            )
        raise AudienceError(issues) from None
    except SqlglotError as exc:
        raise AudienceError([Issue(f"SQL error: {exc}", sql_line=1, sql_column=1)]) from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise AudienceError(
            [
                Issue(
                    "a segment is one SELECT query",
                    "no `;`-separated statements, no DDL/DML",
                    sql_line=1,
                    sql_column=1,
                )
            ]
        )
    query = statements[0]
    _check_sources(query)
    _check_tables(query, schema)
    _check_columns(query, schema, dialect)
    outputs = {name.lower(): name for name in query.named_selects}
    if customer_key.lower() not in outputs:
        hint = close_match(customer_key, list(outputs.values()))
        raise AudienceError(
            [
                Issue(
                    f"the query must return a {customer_key!r} column "
                    f"(it returns: {', '.join(query.named_selects) or 'no named columns'})",
                    hint or f"select {customer_key} (or alias a column AS {customer_key})",
                    sql_line=1,
                    sql_column=1,
                )
            ]
        )
    key = outputs[customer_key.lower()]
    return (
        exp.select(exp.column(key, table="s", quoted=True))
        .distinct()
        .from_(exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier("s"))))
    )


def _cte_names(query: exp.Expr) -> set[str]:
    return {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}


def _table_name(table: exp.Table) -> str:
    return ".".join(p for p in (table.catalog, table.db, table.name) if p)


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _check_sources(query: exp.Expr) -> None:
    """Refuse table functions and functions that reach outside the warehouse's tables
    (``read_csv('/etc/passwd')``, ``glob``, ``getenv``, ``query('...')``)."""
    issues = []
    as_tables = {id(t.this) for t in query.find_all(exp.Table) if isinstance(t.this, exp.Func)}
    for node in query.find_all(exp.Func):
        name = _function_name(node)
        table_function = id(node) in as_tables
        if _OUTSIDE.match(name) or (table_function and name not in _ROW_MAKERS):
            meta = node.meta or {}
            line = meta.get("line")
            issues.append(
                Issue(
                    f"{name}() is not allowed in a segment: segments read warehouse tables only",
                    "load the file into a warehouse table and select from that table",
                    sql_line=int(line) if isinstance(line, int) else 1,
                    sql_column=_column_of(meta) if isinstance(line, int) else 1,
                )
            )
    if issues:
        raise AudienceError(issues)


def _column_of(meta: dict[str, object]) -> int:
    """The first column of a function name from sqlglot's token meta (``col`` is its end)."""
    end, start, col = meta.get("end"), meta.get("start"), meta.get("col")
    if isinstance(end, int) and isinstance(start, int) and isinstance(col, int):
        return col - (end - start)
    return 1


def _check_tables(query: exp.Expr, schema: WarehouseSchema) -> None:
    ctes = _cte_names(query)
    issues = []
    for table in query.find_all(exp.Table):
        name = _table_name(table)
        if not table.name or (not table.db and table.name.lower() in ctes):
            continue
        if schema.table(name) is None:
            line, column = _start(table)
            issues.append(
                Issue(
                    f"unknown table {name!r}",
                    schema.table_hint(name),
                    sql_line=line,
                    sql_column=column,
                )
            )
    if issues:
        raise AudienceError(issues)


def _check_columns(query: exp.Expr, schema: WarehouseSchema, dialect: str) -> None:
    ctes = _cte_names(query)
    names = sorted(
        {
            _table_name(t)
            for t in query.find_all(exp.Table)
            if t.name and not (not t.db and t.name.lower() in ctes)
        }
    )
    nested = any("." in name for name in names)
    mapping: dict[str, dict[str, object]] = {}
    for name in names:
        actual = schema.table(name)
        if actual is None:
            continue
        columns = {c.name: c.type for c in schema.columns(actual).values()}
        parts = name.split(".")
        if nested:  # sqlglot wants every table at the same depth: unqualified ones are `main`
            db = parts[-2] if len(parts) > 1 else "main"
            mapping.setdefault(db, {})[parts[-1]] = columns
        else:
            mapping[parts[-1]] = dict(columns)
    try:
        catalog: dict[str, object] = dict(mapping)
        qualify(query.copy(), schema=catalog, dialect=dialect, validate_qualify_columns=True)
    except OptimizeError as exc:
        raise AudienceError([_column_issue(str(exc), query, schema, names)]) from None
    except SqlglotError as exc:
        raise AudienceError([Issue(f"SQL error: {exc}", sql_line=1, sql_column=1)]) from None


def _column_issue(
    message: str, query: exp.Expr, schema: WarehouseSchema, tables: list[str]
) -> Issue:
    match = _UNRESOLVED.search(message)
    text = message.split(". Line:")[0]
    if match is None:
        return Issue(f"SQL error: {text}", sql_line=1, sql_column=1)
    name = (match.group(1) or match.group(2)).split(".")[-1]
    known = [c.name for t in tables for c in schema.columns(t).values()]
    for column in query.find_all(exp.Column):
        if column.name.lower() == name.lower():
            line, col = _start(column.this)
            return Issue(
                f"unknown column {name!r}", close_match(name, known), sql_line=line, sql_column=col
            )
    return Issue(f"unknown column {name!r}", close_match(name, known), sql_line=1, sql_column=1)
