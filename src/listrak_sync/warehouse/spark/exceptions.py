"""Spark errors as WarehouseError: Spark's message without its query plan or JVM stack, with the
statement attached; a missing table or view as TableNotFound."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from py4j.protocol import Py4JJavaError  # type: ignore[import-untyped]
from pyspark.errors import PySparkException

from ..base import TableNotFound, WarehouseError

__all__ = ["translate", "translating"]

# Spark appends the analysed plan ("; line 1 pos 14;\n'Project ..."), the statement with a
# caret ("== SQL (line 1, position 15) ==") and, over Spark Connect, the JVM stack trace.
_TAIL = re.compile(r"(;\s*\n'|\n== SQL|\n\s*JVM stacktrace|\n\tat ).*", re.DOTALL)
_SQLSTATE = re.compile(r"\s*SQLSTATE: [0-9A-Z]{5}\s*;?")
_POSITION = re.compile(r";?\s*line \d+ pos \d+\s*$")
_NOT_FOUND = ("TABLE_OR_VIEW_NOT_FOUND", "VIEW_NOT_FOUND", "TABLE_NOT_FOUND")


def _condition(exc: BaseException) -> str:
    for getter in ("getCondition", "getErrorClass"):
        method = getattr(exc, getter, None)
        if method is not None:
            try:
                value = method()
            except Exception:  # an error without a condition (plain Java exceptions)
                continue
            if value:
                return str(value)
    return ""


def _message(exc: BaseException) -> str:
    """The first line of Spark's message (the rest is advice on search paths and DROP)."""
    text = _TAIL.sub("", str(exc)).strip()
    text = _SQLSTATE.sub("", text.splitlines()[0] if text else "").strip()
    return _POSITION.sub("", text).rstrip(";").strip()


def translate(exc: BaseException, connection: str, statement: str | None = None) -> WarehouseError:
    """The WarehouseError for a Spark error on ``connection`` (its display form)."""
    condition = _condition(exc)
    text = f"{connection}: {_message(exc)}"
    if condition in _NOT_FOUND or any(c in text for c in _NOT_FOUND):
        return TableNotFound(text, statement=statement)
    return WarehouseError(text, statement=statement)


@contextmanager
def translating(connection: str, statement: str | None = None) -> Iterator[None]:
    """Raise Spark errors inside the block as WarehouseError for ``statement``."""
    try:
        yield
    except PySparkException as exc:
        raise translate(exc, connection, statement) from None
    except Py4JJavaError as exc:  # a job cancelled (interruptAll) fails in the JVM, unconverted
        cause = exc.java_exception
        while cause.getCause() is not None:  # the root cause says what happened
            cause = cause.getCause()
        text = _message_of(str(cause.toString()))
        raise WarehouseError(f"{connection}: {text}", statement=statement) from None


def _message_of(text: str) -> str:
    text = _TAIL.sub("", text).strip()
    return text.splitlines()[0] if text else "the JVM failed"
