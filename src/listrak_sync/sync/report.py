"""What a sync reports: progress while it runs, and one outcome per audience unit at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ExitCode
from ..state import Run

if TYPE_CHECKING:
    # Only named in annotations: the planner loads DuckDB and pyarrow, which a `sync` that stops
    # at a bad project (or `--help`) never needs (tests/test_cli_startup.py).
    from .plan import PlanSummary

__all__ = ["EXIT_CODES", "Reporter", "UnitOutcome", "step_summary"]

# Exit codes of `listrak-sync sync` by unit status; the worst unit decides.
EXIT_CODES = {
    "planned": ExitCode.OK,
    "succeeded": ExitCode.OK,
    "partial": ExitCode.PARTIAL,
    "refused": ExitCode.REMOVAL_GUARD,
    "locked": ExitCode.LOCK_HELD,
    "failed": ExitCode.ERROR,
}
_SEVERITY = ["planned", "succeeded", "partial", "refused", "locked", "failed"]


class Reporter:
    """Progress callbacks; the CLI draws bars from them. Every method is optional."""

    def phase(self, target: str, text: str) -> None:
        """A new phase of a unit's run begins (preparing, reading the audience, applying...)."""

    def audience_rows(self, target: str, rows: int) -> None:
        """``rows`` more audience rows were read."""

    def steps(self, target: str, steps: list[tuple[str, int]]) -> None:
        """The steps still to apply: (step id, rows)."""

    def step_done(self, target: str, step_id: str, rows: int) -> None:
        """A step finished."""


@dataclass
class UnitOutcome:
    """The end of one audience unit's sync (or plan)."""

    target: str
    destination: str
    kind: str
    status: str  # planned | succeeded | partial | failed | refused | locked
    run: Run | None = None
    resumed: list[Run] = field(default_factory=list)  # interrupted runs finished first
    plan: PlanSummary | None = None
    compared_with: str = "snapshot"  # snapshot | listrak | nothing
    audience: dict[str, Any] = field(default_factory=dict)
    sample: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    target_info: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.status, 1)

    def as_dict(self) -> dict[str, Any]:
        def run_dict(run: Run | None) -> dict[str, Any] | None:
            if run is None:
                return None
            return {
                "run_id": run.run_id,
                "status": run.status,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "counts": run.counts,
                "error": run.error,
            }

        return {
            "target": self.target,
            "destination": self.destination,
            "kind": self.kind,
            "status": self.status,
            "exit_code": self.exit_code,
            "run": run_dict(self.run),
            "resumed": [run_dict(r) for r in self.resumed],
            "plan": self.plan.as_dict() if self.plan else None,
            "compared_with": self.compared_with,
            "audience": self.audience,
            "sample": self.sample,
            "warnings": self.warnings,
            "listrak": self.target_info,
            "error": self.error,
        }


def worst_exit(outcomes: list[UnitOutcome]) -> int:
    """The exit code of a campaign's sync: that of its worst unit."""
    if not outcomes:
        return 0
    worst = max(outcomes, key=lambda o: _SEVERITY.index(o.status) if o.status in _SEVERITY else 99)
    return worst.exit_code


def step_summary(result: dict[str, Any]) -> str:
    """A step's result in a few words: Listrak's import summary (email imports), or the step's
    own counts (SMS: contacts added, imports sent, rows imported)."""
    summary = result.get("summary") or {}
    inner = summary.get("summary")
    items = inner if isinstance(inner, dict) else {k: v for k, v in summary.items() if k != "rows"}
    parts = []
    for key, value in items.items():
        if isinstance(value, list):
            value = len(value)
        if isinstance(value, int | float) and not isinstance(value, bool) and value:
            parts.append(f"{key.removesuffix('_count')} {value:,}")
    return ", ".join(parts)
