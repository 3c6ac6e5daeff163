"""Applying a list import to the list: classification and writes as set-based DuckDB SQL.

An import's rows arrive as Arrow tables (parsed CSV, or contacts from the Beta profile-field
route). They are staged as two temp tables, ``imp_rows (row_no, email, external_id, malformed)``
and ``imp_values (row_no, field_id, value)``; one query classifies every row, and a handful of
INSERT / UPDATE / MERGE statements apply the outcome. No Python runs per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

import duckdb
import pyarrow as pa

from .addresses import EMAIL_PATTERN
from .contacts import merge_values_sql, reserve_contact_ids
from .fields import stored_value_sql, value_ok_sql
from .sql import first

__all__ = [
    "COUNT_COLUMNS",
    "ArrowSource",
    "CsvSource",
    "FieldColumn",
    "ImportJob",
    "ImportSource",
    "ImportType",
    "apply_job",
]

ImportType = Literal[
    "AddSubscribers",
    "AddSubscribersAndSegmentationData",
    "RemoveSubscribers",
    "UpdateSubscribers",
    "ClearSegmentationFieldValues",  # DELETE .../SegmentationField/{id}/Values
]

# ListImportSummary member -> the per-contact results it counts.
COUNT_COLUMNS: dict[str, tuple[str, ...]] = {
    "subscribedCount": ("Subscribed",),
    "alreadySubscribedCount": ("AlreadySubscribed", "Updated"),
    "alreadyUnsubscribedCount": ("AlreadyUnsubscribed",),
    "bannedCount": ("Banned",),
    "invalidEmailCount": ("InvalidEmail",),
    "previouslyUnsubscribedCount": ("PreviouslyUnsubscribed",),
    "skippedCount": (
        "SkippedBlankEmail",
        "SkippedDuplicate",
        "SkippedInvalidValue",
        "SkippedMalformedRow",
        "SkippedNotOnList",
    ),
    "suppressedCount": ("Suppressed",),
    "unsubscribedCount": ("Unsubscribed",),
}


class ImportSource(Protocol):
    def stage(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Create the temp tables ``imp_rows`` and ``imp_values`` on ``cur``."""


@dataclass(frozen=True)
class FieldColumn:
    column: int
    field_id: int
    default: str | None


@dataclass(frozen=True)
class CsvSource:
    """A parsed import file: string columns ``c0..cN`` plus ``row_no``, and its malformed rows."""

    table: pa.Table
    email_column: int
    external_column: int | None
    fields: tuple[FieldColumn, ...]
    malformed: pa.Table  # row_no, email: rows whose column count was wrong

    def stage(self, cur: duckdb.DuckDBPyConnection) -> None:
        cur.register("imp_src", self.table)
        cur.register("imp_bad", self.malformed)
        external = f"c{self.external_column}" if self.external_column is not None else "NULL"
        cur.execute(
            f"CREATE TEMP TABLE imp_rows AS"
            f" SELECT row_no, c{self.email_column} AS email, {external} AS external_id,"
            " FALSE AS malformed FROM imp_src"
            " UNION ALL SELECT row_no, email, NULL, TRUE FROM imp_bad"
        )
        selects = [
            f"SELECT row_no, {spec.field_id}::INTEGER AS field_id,"
            f" coalesce(nullif(c{spec.column}, ''), ?, '') AS value FROM imp_src"
            for spec in self.fields
        ] or [
            "SELECT NULL::BIGINT AS row_no, NULL::INTEGER AS field_id, NULL::VARCHAR AS value"
            " WHERE FALSE"
        ]
        cur.execute(
            "CREATE TEMP TABLE imp_values AS " + " UNION ALL ".join(selects),
            [spec.default for spec in self.fields],
        )
        cur.unregister("imp_src")
        cur.unregister("imp_bad")


@dataclass(frozen=True)
class ArrowSource:
    """Rows and long-format values built by a route (the Beta profile-field update)."""

    rows: pa.Table  # row_no int64, email string
    values: pa.Table  # row_no int64, field_id int32, value string

    def stage(self, cur: duckdb.DuckDBPyConnection) -> None:
        cur.register("imp_src_rows", self.rows)
        cur.register("imp_src_values", self.values)
        cur.execute(
            "CREATE TEMP TABLE imp_rows AS SELECT row_no, email, NULL::VARCHAR AS external_id,"
            " FALSE AS malformed FROM imp_src_rows"
        )
        cur.execute("CREATE TEMP TABLE imp_values AS SELECT * FROM imp_src_values")
        cur.unregister("imp_src_rows")
        cur.unregister("imp_src_values")


@dataclass(frozen=True)
class ImportJob:
    import_id: int
    list_id: int
    import_type: ImportType
    segmentation_import_type: str = "Update"
    include_unsubscribed: bool = False
    source: ImportSource | None = None
    field_ids: tuple[int, ...] = field(default=())  # for ClearSegmentationFieldValues


def _outcome_sql(job: ImportJob) -> str:
    """The CASE that turns a staged row's facts into its per-contact result."""
    if job.import_type == "RemoveSubscribers":
        return """CASE
            WHEN current_state = 'Subscribed' THEN 'Unsubscribed'
            WHEN current_state = 'Unsubscribed' THEN 'AlreadyUnsubscribed'
            ELSE 'SkippedNotOnList' END"""
    gate = "WHEN banned THEN 'Banned' WHEN suppressed THEN 'Suppressed'"
    if job.import_type == "UpdateSubscribers":
        return f"""CASE {gate}
            WHEN current_state = 'Subscribed' THEN 'Updated'
            WHEN current_state = 'Unsubscribed' THEN 'PreviouslyUnsubscribed'
            ELSE 'SkippedNotOnList' END"""
    return f"""CASE {gate}
        WHEN current_state = 'Subscribed' THEN 'AlreadySubscribed'
        WHEN current_state = 'Unsubscribed' THEN 'PreviouslyUnsubscribed'
        ELSE 'Subscribed' END"""


def _classify(cur: duckdb.DuckDBPyConnection, job: ImportJob) -> None:
    cur.execute(
        f"""
        CREATE TEMP TABLE imp_bad_value AS
        SELECT DISTINCT v.row_no FROM imp_values v
        LEFT JOIN email_field f ON f.field_id = v.field_id AND f.list_id = ?
        WHERE v.value <> '' AND NOT coalesce({value_ok_sql("v.value", "f")}, FALSE)
        """,
        [job.list_id],
    )
    cur.execute(
        f"""
        CREATE TEMP TABLE imp_class AS
        WITH base AS (
            SELECT row_no, trim(coalesce(email, '')) AS email,
                   lower(trim(coalesce(email, ''))) AS email_lower, external_id, malformed,
                   NOT malformed AND regexp_full_match(trim(coalesce(email, '')), ?) AS valid
            FROM imp_rows
        ), ranked AS (
            SELECT *, row_number() OVER (PARTITION BY valid, email_lower ORDER BY row_no DESC)
                AS dup_rank
            FROM base
        ), facts AS (
            SELECT r.*, c.contact_id, c.state AS current_state,
                   b.email_lower IS NOT NULL AS banned, s.email_lower IS NOT NULL AS suppressed,
                   x.row_no IS NOT NULL AS bad_value
            FROM ranked r
            LEFT JOIN email_contact c ON c.list_id = ? AND c.email_lower = r.email_lower
            LEFT JOIN email_banned b ON b.email_lower = r.email_lower
            LEFT JOIN email_suppressed s ON s.email_lower = r.email_lower
            LEFT JOIN imp_bad_value x ON x.row_no = r.row_no
        )
        SELECT row_no, email, email_lower, external_id, contact_id, current_state,
            CASE
                WHEN malformed THEN 'SkippedMalformedRow'
                WHEN email = '' THEN 'SkippedBlankEmail'
                WHEN NOT valid THEN 'InvalidEmail'
                WHEN dup_rank > 1 THEN 'SkippedDuplicate'
                WHEN bad_value THEN 'SkippedInvalidValue'
                ELSE {_outcome_sql(job)}
            END AS result
        FROM facts
        """,
        [EMAIL_PATTERN, job.list_id],
    )


def _apply_rows(cur: duckdb.DuckDBPyConnection, job: ImportJob, at: datetime) -> None:
    list_id = job.list_id
    # New contacts (and pending ones confirmed by the import) become subscribers.
    new = first(
        cur.execute(
            "SELECT count(*) FROM imp_class WHERE result = 'Subscribed' AND contact_id IS NULL"
        )
    )
    assert new is not None
    base = reserve_contact_ids(cur, int(new[0])) - 1
    cur.execute(
        """
        INSERT INTO email_contact
        SELECT ?, id, email, email_lower, upper(md5('contact:' || id::VARCHAR)[1:26]),
               'Subscribed', ?,
               NULL, 'Import', NULL, NULL, nullif(external_id, '')
        FROM (
            SELECT *, ? + row_number() OVER (ORDER BY row_no) AS id
            FROM imp_class WHERE result = 'Subscribed' AND contact_id IS NULL
        )
        """,
        [list_id, at, base],
    )
    cur.execute(
        "UPDATE email_contact SET state = 'Subscribed', subscribe_date = ?,"
        " subscribe_method = 'Import' FROM imp_class i"
        " WHERE email_contact.contact_id = i.contact_id AND i.result = 'Subscribed'",
        [at],
    )
    cur.execute(
        "UPDATE email_contact SET state = 'Unsubscribed', unsubscribe_date = ?,"
        " unsubscribe_method = 'Import' FROM imp_class i"
        " WHERE email_contact.contact_id = i.contact_id AND i.result = 'Unsubscribed'",
        [at],
    )
    applied = _applied_results(job)
    if not applied:
        return
    in_applied = "(" + ", ".join(f"'{result}'" for result in applied) + ")"
    cur.execute(
        "UPDATE email_contact SET external_contact_id = i.external_id FROM imp_class i"
        " WHERE email_contact.contact_id = i.contact_id AND i.external_id <> ''"
        f" AND i.result IN {in_applied}"
    )
    cur.execute(
        f"""
        CREATE TEMP TABLE imp_apply AS
        SELECT c.contact_id, v.field_id, {stored_value_sql("v.value", "f")} AS value
        FROM imp_class i
        JOIN imp_values v ON v.row_no = i.row_no
        JOIN email_field f ON f.field_id = v.field_id AND f.list_id = ?
        JOIN email_contact c ON c.list_id = ? AND c.email_lower = i.email_lower
        WHERE i.result IN {in_applied}
        """,
        [list_id, list_id],
    )
    cur.execute(merge_values_sql("SELECT * FROM imp_apply", list_id, job.segmentation_import_type))


def _applied_results(job: ImportJob) -> tuple[str, ...]:
    """Results whose rows get the file's profile data and external contact id."""
    if job.import_type == "AddSubscribersAndSegmentationData":
        return ("Subscribed", "AlreadySubscribed")
    if job.import_type == "UpdateSubscribers":
        return ("Updated", "PreviouslyUnsubscribed") if job.include_unsubscribed else ("Updated",)
    if job.import_type == "AddSubscribers":
        return ("Subscribed",)  # external ids only: AddSubscribers carries no profile fields
    return ()


def _clear_values(cur: duckdb.DuckDBPyConnection, job: ImportJob) -> dict[str, int]:
    # The spec: values are cleared "for all subscribed contacts".
    row = cur.execute(
        """
        DELETE FROM email_field_value WHERE field_id IN (SELECT unnest(?::INTEGER[]))
        AND contact_id IN (SELECT contact_id FROM email_contact
                           WHERE list_id = ? AND state = 'Subscribed')
        RETURNING 1
        """,
        [list(job.field_ids), job.list_id],
    ).fetchall()
    return {"processedCount": len(row)}


def apply_job(cur: duckdb.DuckDBPyConnection, job: ImportJob, at: datetime) -> dict[str, int]:
    """Apply ``job`` inside the caller's transaction; returns the summary counts."""
    if job.import_type == "ClearSegmentationFieldValues":
        return _clear_values(cur, job)
    assert job.source is not None
    job.source.stage(cur)
    _classify(cur, job)
    _apply_rows(cur, job, at)
    cur.execute(
        "INSERT INTO email_import_contact SELECT ?, row_no, email, result FROM imp_class",
        [job.import_id],
    )
    filters = ", ".join(
        "count(*) FILTER (WHERE result IN ("
        + ", ".join(f"'{result}'" for result in results)
        + f")) AS {name}"
        for name, results in COUNT_COLUMNS.items()
    )
    row = first(cur.execute(f"SELECT count(*) AS processedCount, {filters} FROM imp_class"))
    assert row is not None
    names = ["processedCount", *COUNT_COLUMNS]
    return {name: int(value) for name, value in zip(names, row, strict=True)}
