"""Problems found in a project: each names a file, a line, a column and, when we can, a hint."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ListrakSyncError

__all__ = ["Problem", "ProjectError"]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a project. ``line`` and ``column`` are 1-based; 0 means unknown."""

    file: str
    line: int
    column: int
    message: str
    hint: str | None = None

    def location(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"

    def __str__(self) -> str:
        text = f"{self.location()}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


class ProjectError(ListrakSyncError):
    """A project that cannot be used; carries every problem found, in file order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid project")

    def report(self) -> list[tuple[str, str | None]]:
        return [(f"{p.location()}: {p.message}", p.hint) for p in self.problems]

    @classmethod
    def single(
        cls,
        file: str | Path,
        message: str,
        *,
        line: int = 0,
        column: int = 0,
        hint: str | None = None,
    ) -> ProjectError:
        return cls([Problem(str(file), line, column, message, hint)])
