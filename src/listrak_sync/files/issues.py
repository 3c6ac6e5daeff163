"""Row-level problems found while validating a data set: tallies, a sample, and an optional file.

Issues are recorded a whole column at a time (an Arrow array of row numbers per check), so a
million bad rows cost one call, not a million objects. Values are never recorded: they may be
personal data (emails, phones); the row number, column and reason locate the problem.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import BinaryIO, Literal

import pyarrow as pa
import pyarrow.csv as pacsv

__all__ = ["IssueLog", "RowIssue", "Severity"]

Severity = Literal["error", "warning"]  # error: the row is left out; warning: it is kept


@dataclass(frozen=True)
class RowIssue:
    dataset: str
    row: int  # 1-based position in the source query's result
    column: str
    severity: Severity
    reason: str
    key: str | None = None  # the row's order number or SKU, where that is not personal data

    def __str__(self) -> str:
        where = f"row {self.row}" + (f" ({self.key})" if self.key else "")
        return f"{self.dataset} {where}, column {self.column}: {self.reason} [{self.severity}]"


_FILE_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("row", pa.int64()),
        ("column", pa.string()),
        ("severity", pa.string()),
        ("reason", pa.string()),
        ("key", pa.string()),
    ]
)


@dataclass
class IssueLog:
    """Collects issues for one data set; ``sink`` receives every issue as CSV if given."""

    dataset: str
    sample_size: int = 20
    sink: BinaryIO | None = None
    tallies: Counter[tuple[Severity, str, str]] = field(default_factory=Counter)
    sample: list[RowIssue] = field(default_factory=list)
    _header_written: bool = False

    def add(
        self,
        rows: pa.Array,
        column: str,
        reason: str,
        severity: Severity,
        keys: pa.Array | None = None,
    ) -> None:
        """Record one reason for every row in ``rows`` (row numbers, keys aligned with them)."""
        count = len(rows)
        if count == 0:
            return
        self.tallies[(severity, column, reason)] += count
        room = self.sample_size - len(self.sample)
        if room > 0:
            key_values = keys.slice(0, room).to_pylist() if keys is not None else [None] * room
            for row, key in zip(rows.slice(0, room).to_pylist(), key_values, strict=False):
                self.sample.append(RowIssue(self.dataset, row, column, severity, reason, key))
        if self.sink is not None:
            table = pa.table(
                [
                    pa.repeat(self.dataset, count).cast(pa.string()),
                    rows.cast(pa.int64()),
                    pa.repeat(column, count).cast(pa.string()),
                    pa.repeat(severity, count).cast(pa.string()),
                    pa.repeat(reason, count).cast(pa.string()),
                    keys.cast(pa.string()) if keys is not None else pa.nulls(count, pa.string()),
                ],
                schema=_FILE_SCHEMA,
            )
            options = pacsv.WriteOptions(include_header=not self._header_written)
            pacsv.write_csv(table, self.sink, write_options=options)
            self._header_written = True

    def count(self, severity: Severity) -> int:
        return sum(n for (sev, _, _), n in self.tallies.items() if sev == severity)

    def summary(self) -> list[tuple[Severity, str, str, int]]:
        """(severity, column, reason, count), most frequent first."""
        return [(s, c, r, n) for (s, c, r), n in self.tallies.most_common()]
