"""DuckDB errors as WarehouseError: the engine's message, trimmed, with the statement attached."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from ..base import TableNotFound, WarehouseError

__all__ = ["translate", "translating"]

# DuckDB prefixes messages with the error class ("Catalog Error: ..."); keep that, it is useful.
# Its "Did you mean" suggestion for a missing table points at system catalogs more often than
# not (pg_attrdef, pg_enum), so it is dropped; column suggestions are kept.
_SYSTEM_SUGGESTION = re.compile(r'\nDid you mean "(?:pg_|duckdb_|information_schema)[^"]*"\?')
_MISSING_TABLE = re.compile(r"Table with name .+ does not exist|Table or view .+ does not exist")


def translate(exc: duckdb.Error, statement: str | None = None) -> WarehouseError:
    """The WarehouseError to raise for a DuckDB error."""
    message = _SYSTEM_SUGGESTION.sub("", str(exc)).strip()
    if isinstance(exc, duckdb.CatalogException) and _MISSING_TABLE.search(message):
        return TableNotFound(message, statement=statement)
    error = WarehouseError(message, statement=statement)
    if isinstance(exc, duckdb.OutOfMemoryException):
        # The connection's memory_limit (512MB unless set) bounds what cannot spill to disk.
        error.hint = "raise the limit in warehouse.connection, e.g. `?memory_limit=2GB`"
    return error


@contextmanager
def translating(statement: str | None = None) -> Iterator[None]:
    """Raise DuckDB errors inside the block as WarehouseError for ``statement``."""
    try:
        yield
    except duckdb.Error as exc:
        raise translate(exc, statement) from exc
