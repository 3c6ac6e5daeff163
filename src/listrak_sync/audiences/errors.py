"""Problems in an audience definition, positioned relative to the definition itself.

A filter issue carries the path inside the filter (``("all", 2, "attribute")``); a SQL issue
carries the line and column inside the SQL text. The project layer turns either into a
file:line:column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..errors import ListrakSyncError

__all__ = ["AudienceError", "Issue"]


@dataclass(frozen=True)
class Issue:
    message: str
    hint: str | None = None
    path: tuple[str | int, ...] = ()
    sql_line: int | None = None  # 1-based, inside the segment's SQL
    sql_column: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.sql_line is not None:
            where = f"line {self.sql_line}, column {self.sql_column}: "
        elif self.path:
            where = ".".join(str(p) for p in self.path) + ": "
        text = f"{where}{self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


class AudienceError(ListrakSyncError):
    """A segment or campaign that cannot be compiled; carries every issue found."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(str(i) for i in self.issues) or "invalid audience")

    def report(self) -> list[tuple[str, str | None]]:
        if not self.issues:
            return super().report()
        return [(str(replace(issue, hint=None)), issue.hint) for issue in self.issues]
