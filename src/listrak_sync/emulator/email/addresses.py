"""Email addresses: the validity rule, and the account's banned and suppressed addresses.

One pattern serves both the per-contact routes (Python ``re``) and list imports (DuckDB's RE2
``regexp_full_match``), so a contact and an import never disagree on what is valid. Addresses are
compared case-insensitively everywhere, through a lower-cased copy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

import duckdb

from ..state import EmulatorState
from .sql import first

__all__ = [
    "EMAIL_PATTERN",
    "SCHEMA",
    "add_banned",
    "add_suppressed",
    "is_banned",
    "is_suppressed",
    "is_valid_email",
    "now",
]

# Local part of atext characters in dot-separated atoms, a domain of labels and a letter TLD.
EMAIL_PATTERN = (
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}"
)
_EMAIL = re.compile(EMAIL_PATTERN)

SCHEMA = """
CREATE TABLE IF NOT EXISTS email_banned (email_lower VARCHAR PRIMARY KEY);
CREATE TABLE IF NOT EXISTS email_suppressed (email_lower VARCHAR PRIMARY KEY);
"""


def now(state: EmulatorState) -> datetime:
    """The emulator's clock as a naive UTC timestamp (how the tables store time)."""
    return datetime.fromtimestamp(state.clock(), UTC).replace(tzinfo=None)


def is_valid_email(address: str) -> bool:
    return len(address) <= 254 and _EMAIL.fullmatch(address) is not None


def _add(db: duckdb.DuckDBPyConnection, table: str, addresses: Iterable[str]) -> None:
    rows = [[address.strip().lower()] for address in addresses]
    if rows:
        db.executemany(f"INSERT OR IGNORE INTO {table} VALUES (?)", rows)


def add_banned(db: duckdb.DuckDBPyConnection, addresses: Iterable[str]) -> None:
    _add(db, "email_banned", addresses)


def add_suppressed(db: duckdb.DuckDBPyConnection, addresses: Iterable[str]) -> None:
    _add(db, "email_suppressed", addresses)


def _listed(db: duckdb.DuckDBPyConnection, table: str, address: str) -> bool:
    row = first(db.execute(f"SELECT 1 FROM {table} WHERE email_lower = ?", [address.lower()]))
    return row is not None


def is_banned(db: duckdb.DuckDBPyConnection, address: str) -> bool:
    return _listed(db, "email_banned", address)


def is_suppressed(db: duckdb.DuckDBPyConnection, address: str) -> bool:
    return _listed(db, "email_suppressed", address)
