"""Snowflake errors as WarehouseError: Snowflake's message, the connection it came from (never a
password or key), a hint for the usual causes, and the statement attached."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from snowflake.connector import errors

from ..base import WarehouseError
from ..server_errors import masked, server_error

__all__ = ["translate", "translating"]

# The connector prefixes messages with "002003 (42S02): " and, for queries, the query id.
_PREFIX = re.compile(r"^\d{6} \([0-9A-Z]{5}\): (?:[0-9a-f-]{36}: )?")
_LOGIN_PLACE = re.compile(r"^Failed to connect to DB: \S+?\. ")

_HINTS = {
    390100: "check the user and the password referenced by warehouse.password",
    390144: "the key does not match the public key set on the user (ALTER USER ... SET "
    "RSA_PUBLIC_KEY), or the account or user in warehouse.connection is wrong",
    390101: "the user is disabled or locked; ask an account administrator",
    390189: "check the role in warehouse.connection (?role=) and that it is granted to the user",
    390201: "check the database, schema and warehouse in warehouse.connection and the role's "
    "USAGE grants on them",
    2003: "names are case-insensitive unless created quoted; check the table exists and that the "
    "role has SELECT on it (see the GRANT statements in the warehouse guide)",
    3001: "the sync needs SELECT on the tables it reads; see the GRANT statements in the "
    "warehouse guide",
    630: "the statement ran longer than statement_timeout (or the warehouse's own "
    "STATEMENT_TIMEOUT_IN_SECONDS) allows; raise it or make the query cheaper",
    606: "name a warehouse the role may use: ?warehouse=WH in warehouse.connection",
}
_UNREACHABLE = (250001, 250003, 251011, 251012)


def _message(exc: errors.Error) -> str:
    text = str(exc.msg or exc)
    text = _PREFIX.sub("", text)
    return _LOGIN_PLACE.sub("", text).strip()


def translate(
    exc: errors.Error,
    connection: str,
    statement: str | None = None,
    secrets: tuple[str, ...] = (),
) -> WarehouseError:
    """The WarehouseError for a connector error on ``connection`` (its display form)."""
    message = masked(_message(exc), secrets)
    code = exc.errno if isinstance(exc.errno, int) else -1
    hint = _HINTS.get(code)
    if hint is None and code in _UNREACHABLE:
        hint = (
            "could not reach Snowflake: check the account identifier in warehouse.connection "
            "(orgname-accountname or locator.region) and the network"
        )
    not_found = code == 2003 or exc.sqlstate == "42S02"
    return server_error(connection, message, hint, not_found=not_found, statement=statement)


@contextmanager
def translating(
    connection: str, statement: str | None = None, secrets: tuple[str, ...] = ()
) -> Iterator[None]:
    """Raise connector errors inside the block as WarehouseError for ``statement``."""
    try:
        yield
    except errors.Error as exc:
        raise translate(exc, connection, statement, secrets) from None
