"""Problems found in a project: each names a file, a line, a column and, when we can, a hint.

Also the errors of the machine around a project (a read-only folder, a full disk) and the one
way every command reads a project's text files (:func:`read_text`), so that a stray byte is
reported as a byte at a line, not as a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import ListrakSyncError, environment_problem

__all__ = [
    "Problem",
    "ProjectError",
    "read_text",
    "writing",
]


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


def read_text(path: Path, *, what: str = "file") -> str:
    """``path`` decoded as UTF-8; ProjectError naming the first byte that is not UTF-8 and its
    line, or why the file cannot be read. ``what`` names the file in messages ("project file").

    Only the byte is shown, never the text around it: the file may be a secrets file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProjectError.single(path, f"{what} not found") from None
    except OSError as exc:
        problem = environment_problem(exc)
        raise ProjectError.single(path, problem.message, hint=problem.hint) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ProjectError.single(
            path,
            f"{what} is not UTF-8: byte 0x{data[exc.start]:02x} at line {line}",
            line=line,
            column=column,
            hint="save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)",
        ) from None


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Name ``path`` in an OSError raised while writing it: a full disk fails on write() or
    close(), whose errors carry no file name."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(path)
        raise
