"""One root for every error listrak-sync raises, and the exit codes of the ``listrak-sync`` command.

::

    ListrakSyncError                 base: .exit_code, .hint, .report()
    ├── UsageError                   a call asked for something that is not there (exit 2)
    ├── ProjectError                 project.problems: file:line:column problems
    ├── AudienceError                audiences.errors: a segment or campaign that cannot compile
    ├── WarehouseError               warehouse.base: a statement the engine refused
    │   └── TableNotFound
    ├── ListrakError                 listrak: the client's tree (see listrak/_exceptions.py)
    │   ├── ConfigurationError
    │   ├── TransportError           no answer from Listrak
    │   └── ListrakResponseError     Listrak answered: AuthError, NotFound, RateLimited, ...
    ├── SyncError                    sync.errors: a sync that cannot go on
    ├── LockHeld                     state.store: another live run holds the resource (exit 5)
    ├── RunsNotClean                 ``raise_for_status()`` of a SyncResult or PullReport
    │   ├── RunsPartial              row failures recorded, retried next run (exit 3)
    │   ├── RemovalRefused           the removal guard stopped a sync (exit 4)
    │   ├── RunsLocked               another run held a lock (exit 5)
    │   └── RunsFailed               a run failed (exit 1)
    ├── ExportError, MappingError    files.export, files.mapping: a data set that cannot be made
    ├── SftpError                    files.sftp
    ├── IntakeError                  events.intake: an event batch refused (HTTP status)
    └── EnvironmentProblem           the machine refused a file operation (full disk, read-only)

Each class keeps its home module (``from listrak_sync.project import ProjectError`` still works);
this module holds only the root and the errors no package owns, so it imports nothing heavy and
every package can import it. The command line maps any ``ListrakSyncError`` to its
``exit_code`` in one place (``cli.py``), printing ``report()`` — one line per problem, each with
its hint.
"""

from __future__ import annotations

import errno
from enum import IntEnum
from pathlib import Path
from typing import ClassVar

__all__ = [
    "EXIT_CODE_MEANINGS",
    "EnvironmentProblem",
    "ExitCode",
    "ListrakSyncError",
    "RemovalRefused",
    "RunsFailed",
    "RunsLocked",
    "RunsNotClean",
    "RunsPartial",
    "UsageError",
    "environment_problem",
    "sqlite_problem",
]


class ExitCode(IntEnum):
    """The exit codes of every ``listrak-sync`` command; the worst outcome decides."""

    OK = 0
    ERROR = 1
    USAGE = 2
    PARTIAL = 3
    REMOVAL_GUARD = 4
    LOCK_HELD = 5
    INTERRUPTED = 130


# What each exit code means, as docs/reference/exit-codes.md shows it (generated from here).
EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "Everything succeeded, or there was nothing to do.",
    ExitCode.ERROR: (
        "An error: a project problem, a warehouse or Listrak error, a failed run. The message "
        "names what and where; nothing is left half-done that the next run cannot finish."
    ),
    ExitCode.USAGE: (
        "The command line asked for something that is not there: an unknown option, "
        "destination or source, an invalid option value."
    ),
    ExitCode.PARTIAL: (
        "Done, but some rows (or events) were not delivered; their outcomes are recorded and "
        "they are retried by the next run."
    ),
    ExitCode.REMOVAL_GUARD: (
        "A sync refused to remove more members than the destination's `removal_guard` allows; "
        "run again with `--allow-large-removal` if the removal is intended."
    ),
    ExitCode.LOCK_HELD: (
        "Another live run holds the same destination or source; wait for it to finish "
        "(`listrak-sync runs --unlock` removes a lock left by a dead process)."
    ),
    ExitCode.INTERRUPTED: (
        "Interrupted (Ctrl-C or SIGINT); a sync or pull finishes its interrupted run when run "
        "again."
    ),
}


class ListrakSyncError(Exception):
    """Base of every error listrak-sync raises on purpose.

    ``exit_code`` is what the command line exits with; ``hint`` (class default, or set per
    instance) says what to do about it. ``report()`` gives the lines to show a person:
    (text, hint) pairs, one per problem for errors that gather several.
    """

    exit_code: ClassVar[int] = ExitCode.ERROR
    hint: str | None = None

    def __init__(self, *args: object, hint: str | None = None) -> None:
        super().__init__(*args)
        if hint is not None:
            self.hint = hint

    def report(self) -> list[tuple[str, str | None]]:
        """What to show a person: one (message, hint) pair per problem."""
        return [(str(self) or type(self).__name__, self.hint)]


class UsageError(ListrakSyncError):
    """A call asked for something that is not there: an unknown destination, source, option."""

    exit_code = ExitCode.USAGE


class RunsNotClean(ListrakSyncError):
    """Runs that ended otherwise than succeeded; raised by ``raise_for_status()`` of results.

    ``errors`` holds each unclean run's own message (target: error)."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        self.errors = list(errors or [])
        super().__init__(message)
        for error in self.errors:  # a traceback shows why each run ended so, not only that
            self.add_note(error)

    def report(self) -> list[tuple[str, str | None]]:
        return [(str(self), self.hint), *((error, None) for error in self.errors)]


class RunsPartial(RunsNotClean):
    """Some rows were not delivered; their outcomes are recorded and retried next run."""

    exit_code = ExitCode.PARTIAL
    hint = "`listrak-sync runs ID` lists the row outcomes"


class RemovalRefused(RunsNotClean):
    """The removal guard stopped a sync that would remove too many members."""

    exit_code = ExitCode.REMOVAL_GUARD
    hint = "run again with --allow-large-removal (allow_large_removal=True) if it is intended"


class RunsLocked(RunsNotClean):
    """Another live run held a destination's or source's lock."""

    exit_code = ExitCode.LOCK_HELD
    hint = "wait for the other run to finish"


class RunsFailed(RunsNotClean):
    """A run failed; its record in the state store says why."""

    exit_code = ExitCode.ERROR


def status_error(status: str) -> type[RunsNotClean] | None:
    """The error class for a run or unit status (None for a clean one)."""
    return _BY_STATUS.get(status, RunsFailed if status not in _CLEAN else None)


_CLEAN = frozenset({"planned", "succeeded", "nothing"})
_BY_STATUS: dict[str, type[RunsNotClean]] = {
    "partial": RunsPartial,
    "refused": RemovalRefused,
    "locked": RunsLocked,
    "failed": RunsFailed,
}


class EnvironmentProblem(ListrakSyncError):
    """The machine refused a file operation (read-only folder, full disk, no permission): one
    line naming the path, a hint, and exit code 1, never a traceback."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)


_ERRNO_HINTS = {
    errno.ENOSPC: ("no space left on the device", "free some disk space, then run it again"),
    errno.EDQUOT: ("disk quota exceeded", "free some disk space, then run it again"),
    errno.EROFS: (
        "the file system is read-only",
        "run the command in a writable project folder",
    ),
    errno.EACCES: (
        "permission denied",
        "check the folder's owner and mode (`ls -ld`), or run it as the folder's owner",
    ),
    errno.EPERM: (
        "operation not permitted",
        "check the folder's owner and mode (`ls -ld`), or run it as the folder's owner",
    ),
    errno.ENOTDIR: ("a file is in the way where a folder should be", None),
    errno.EISDIR: ("a folder is in the way where a file should be", None),
}


def environment_problem(exc: OSError) -> EnvironmentProblem:
    """The one-line form of an OSError: the path it concerns, what went wrong, a hint."""
    message, hint = _ERRNO_HINTS.get(exc.errno or 0, (exc.strerror or str(exc), None))
    where = exc.filename if exc.filename is not None else None
    text = f"{where}: {message}" if where else message
    return EnvironmentProblem(text, hint)


# SQLite reports the machine's refusals as OperationalError text, without an errno.
_SQLITE_TEXTS = {
    "database or disk is full": errno.ENOSPC,
    "disk i/o error": errno.EIO,
    "attempt to write a readonly database": errno.EROFS,
    "unable to open database file": errno.EACCES,
}


def sqlite_problem(exc: Exception, path: Path | str | None = None) -> EnvironmentProblem | None:
    """The one-line form of SQLite's "disk is full" and kin (``None`` for other errors)."""
    code = _SQLITE_TEXTS.get(str(exc).strip().lower())
    if code is None:
        return None
    if code == errno.EIO:
        text = f"{path}: disk I/O error" if path else "disk I/O error"
        return EnvironmentProblem(text, "check the disk (full? removed?), then run it again")
    return environment_problem(OSError(code, str(exc), None if path is None else str(path)))
