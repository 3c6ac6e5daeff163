"""What the library's calls return: typed results that know their exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ExitCode, ListrakSyncError, status_error
from ..sync.report import UnitOutcome, worst_exit

if TYPE_CHECKING:
    # Only named in annotations: importing the puller would load the source modules (and
    # their config models) into every `sync`, which never pulls.
    from ..source.pull import PullResult

__all__ = ["PullReport", "SourceFailure", "SyncResult"]


@dataclass(frozen=True)
class SyncResult:
    """One campaign's sync (or plan): an outcome per audience unit (destination, group)."""

    campaign: str
    units: list[UnitOutcome]
    planned: bool  # a plan or dry run: nothing was sent

    @property
    def exit_code(self) -> int:
        """The command line's exit code for this result: that of the worst unit."""
        return worst_exit(self.units)

    @property
    def ok(self) -> bool:
        return self.exit_code == ExitCode.OK

    def raise_for_status(self) -> SyncResult:
        """Raise the ``RunsNotClean`` error of the worst unit (partial, refused, locked,
        failed); return the result itself when every unit succeeded (or was planned)."""
        worst = [u for u in self.units if u.exit_code == self.exit_code]
        error = status_error(worst[0].status) if worst and not self.ok else None
        if error is None:
            return self
        unclean = [u for u in self.units if not _clean(u.status)]
        raise error(
            f"campaign {self.campaign!r}: " + ", ".join(f"{u.target} {u.status}" for u in unclean),
            [f"{u.target}: {u.error}" for u in unclean if u.error],
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "exit_code": self.exit_code,
            "units": [unit.as_dict() for unit in self.units],
        }


@dataclass(frozen=True)
class SourceFailure:
    """A source whose pull raised: the error says why (a lock held by another pull: exit 5)."""

    source: str
    error: ListrakSyncError


@dataclass(frozen=True)
class PullReport:
    """Pulls of one or more sources: a result per source pulled, a failure per source not."""

    results: list[PullResult] = field(default_factory=list)
    failures: list[SourceFailure] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """The highest of: 3 when events are still queued or were refused, each failure's code
        (5 a lock held, else 1); 0 when every source was pulled cleanly."""
        codes = [failure.error.exit_code for failure in self.failures]
        codes += [ExitCode.PARTIAL for r in self.results if r.status == "partial"]
        return max(codes, default=ExitCode.OK)

    @property
    def ok(self) -> bool:
        return self.exit_code == ExitCode.OK

    def raise_for_status(self) -> PullReport:
        """Raise the first failure's error, or ``RunsPartial`` for a partial pull; else return
        the report itself."""
        if self.failures:
            raise self.failures[0].error
        partial = [r for r in self.results if r.status == "partial"]
        error = status_error("partial") if partial else None
        if error is not None:
            raise error(
                "pulled, but events are still queued or were refused: "
                + ", ".join(r.source for r in partial),
                [f"{r.source}: {r.error}" for r in partial if r.error],
            )
        return self


def _clean(status: str) -> bool:
    return status_error(status) is None
