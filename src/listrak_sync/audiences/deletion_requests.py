"""Deletion requests as the warehouse holds them, normalised as the syncs normalise keys.

Emails are trimmed and lower-cased and checked against the audiences' pattern; phones go
through libphonenumber with the configured region (``audiences/keys.py``), so the hashes of a
forgotten person match the keys an audience produces for them. A malformed value is reported
per row (row number, column, reason); a row keeps whichever identifier is well formed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from ..config.models import ForgetConfig
from ..warehouse import Warehouse
from .keys import EMAIL_PATTERN, normalise_phone
from .schema import table_expression

__all__ = ["DeletionRequest", "RowProblem", "read_requests"]

_EMAIL = re.compile(EMAIL_PATTERN)


@dataclass(frozen=True)
class DeletionRequest:
    row: int  # 1-based, in the order the table or query returns rows
    email: str | None  # normalised
    phone: str | None  # E.164
    requested_at: str | None


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.reason}"


def _source_sql(config: ForgetConfig, dialect: str) -> str:
    if config.sql:
        return config.sql
    assert config.table is not None
    columns = [config.email_column, config.phone_column, config.requested_at_column]
    select = exp.select(*[exp.column(c, quoted=True) for c in columns]).from_(
        table_expression(config.table, "r")
    )
    return select.order_by(exp.column(config.requested_at_column, quoted=True)).sql(dialect=dialect)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def read_requests(
    warehouse: Warehouse, config: ForgetConfig, region: str
) -> Iterator[DeletionRequest | RowProblem]:
    """Every row as a request, or as problems (a row may yield problems, then its request)."""
    row = 0
    for batch in warehouse.stream(_source_sql(config, warehouse.dialect)):
        names = batch.schema.names
        for column in (config.email_column, config.phone_column):
            if column not in names:
                raise ValueError(
                    f"the deletion requests have no column {column!r} (they have: "
                    f"{', '.join(names)}); set forget.email_column / forget.phone_column"
                )
        for record in batch.to_pylist():
            row += 1
            raw_email = _text(record.get(config.email_column))
            raw_phone = _text(record.get(config.phone_column))
            email = raw_email.lower() if raw_email else None
            if email is not None and (len(email) > 254 or not _EMAIL.match(email)):
                yield RowProblem(row, config.email_column, "not a valid email address")
                email = None
            phone = None
            if raw_phone is not None:
                phone, reason = normalise_phone(raw_phone, region)
                if phone is None:
                    yield RowProblem(row, config.phone_column, reason or "not a phone number")
            if raw_email is None and raw_phone is None:
                yield RowProblem(row, "row", "neither an email address nor a phone number")
            if email is None and phone is None:
                continue
            requested = record.get(config.requested_at_column)
            yield DeletionRequest(row, email, phone, None if requested is None else str(requested))
