"""PostgreSQL errors as WarehouseError: the server's message, the connection it came from (never
the password), a hint for the usual causes, and the statement attached."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import adbc_driver_manager

from ..base import WarehouseError
from ..server_errors import masked, server_error

__all__ = ["translate", "translating"]

# ADBC wraps libpq's text: "INVALID_ARGUMENT: [libpq] Failed to execute query: could not begin
# COPY: ERROR:  relation "x" does not exist\nLINE 1: ...\nQuery was: COPY (...) TO STDOUT ...".
# The server's own "ERROR: ..." line (with its detail and hint) is what people need; the query
# is attached to the WarehouseError separately.
_QUERY_WAS = re.compile(r"\n?Query was:.*", re.DOTALL)
_STATUS = re.compile(r"^[A-Z_]+: (?:\[libpq\] )?")
_SERVER = re.compile(r"(?:ERROR|FATAL):\s+(.*)", re.DOTALL)
_LINE_MARK = re.compile(r"\nLINE \d+:.*", re.DOTALL)
_SQLSTATE = re.compile(r"\s*\.?\s*SQLSTATE: [0-9A-Z]{5}\s*$")

_HINTS = {
    "28P01": "check the password referenced by warehouse.password (or PGPASSWORD)",
    "28000": "the server's pg_hba.conf does not let this user in from here",
    "3D000": "check the database name in warehouse.connection",
    "42501": "the sync needs SELECT on the tables it reads; see the GRANT statements in the "
    "warehouse guide",
    "57014": "the statement ran longer than statement_timeout allows; raise it in the URL "
    "(?statement_timeout=SECONDS) or make the query cheaper",
}


def _message(exc: adbc_driver_manager.Error) -> str:
    text = _QUERY_WAS.sub("", str(exc)).strip()
    server = _SERVER.search(text)
    text = server.group(1) if server else _STATUS.sub("", text)
    return _SQLSTATE.sub("", _LINE_MARK.sub("", text)).strip()


def translate(
    exc: adbc_driver_manager.Error,
    connection: str,
    statement: str | None = None,
    secrets: tuple[str, ...] = (),
) -> WarehouseError:
    """The WarehouseError for an ADBC error on ``connection`` (its display form)."""
    message = masked(_message(exc), secrets)
    state = getattr(exc, "sqlstate", None) or ""
    hint = _HINTS.get(state)
    if not state and ("Connection refused" in message or "could not connect" in message.lower()):
        hint = "is the server running, and is warehouse.connection's host and port right?"
    if not state and "password authentication failed" in message:
        hint = _HINTS["28P01"]
    if not state and "timeout expired" in message:
        hint = "the server did not answer within connect_timeout; is the host reachable?"
    return server_error(connection, message, hint, not_found=state == "42P01", statement=statement)


@contextmanager
def translating(
    connection: str, statement: str | None = None, secrets: tuple[str, ...] = ()
) -> Iterator[None]:
    """Raise ADBC errors inside the block as WarehouseError for ``statement``."""
    try:
        yield
    except adbc_driver_manager.Error as exc:
        raise translate(exc, connection, statement, secrets) from None
