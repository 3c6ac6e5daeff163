"""A scheduled run in its own process (started by ProcessExecutor; not a user command).

``python -m listrak_sync.runtime._worker --project DIR --schedule NAME --run ID --result FILE``
runs the schedule's targets in order and writes a RunResult to FILE (atomically). SIGINT stops
it at the run's next safe point: the sync engine journals the run as interrupted, the targets not
reached are left for the resumed run, and the result says ``interrupted``.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import sys
from pathlib import Path

from ..project.loader import load_project
from ..project.problems import ProjectError
from ._jobs import run_target
from ._results import RunResult, TargetResult, worst

__all__ = ["main"]


def _die_with_parent() -> None:
    """Linux: SIGINT when the scheduler dies, so an orphan stops at a safe point instead of
    running on beside the scheduler's next start."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGINT)
    except (OSError, AttributeError):
        return


def _write(path: Path, result: RunResult) -> None:
    staged = path.with_name(path.name + ".tmp")
    staged.write_text(result.model_dump_json(), "utf-8")
    os.replace(staged, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="listrak_sync.runtime._worker")
    parser.add_argument("--project", required=True, type=Path)
    parser.add_argument("--schedule", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--result", required=True, type=Path)
    args = parser.parse_args(argv)
    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before prctl took effect
        return 130
    try:
        project = load_project(args.project)
    except ProjectError as exc:
        _write(args.result, RunResult(status="failed", error=str(exc)))
        return 1
    schedule = project.config.schedules.get(args.schedule)
    if schedule is None:
        _write(
            args.result,
            RunResult(status="failed", error=f"no schedule named {args.schedule!r}"),
        )
        return 1
    print(f"scheduled run {args.run} of {args.schedule}", flush=True)
    results: list[TargetResult] = []
    try:
        for kind, name in schedule.targets:
            try:
                results += run_target(project, kind, name)
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:  # one target's failure is reported; the others still run
                results.append(
                    TargetResult(
                        kind=kind,
                        name=name,
                        destination=name,
                        status="failed",
                        error=f"{type(exc).__name__}: {exc}",
                    )
                )
    except KeyboardInterrupt:
        _write(args.result, RunResult(status="interrupted", targets=results))
        return 130
    _write(args.result, RunResult(status=worst([r.status for r in results]), targets=results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
