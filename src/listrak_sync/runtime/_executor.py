"""Scheduled runs in worker processes: one ``python -m listrak_sync.runtime._worker`` per run.

A process per run keeps the scheduler small and alive whatever a run does (a crash, a leak, a
stuck import), and gives shutdown a clean lever: SIGINT makes the run's event loop cancel at its
next await, the sync engine journals the run as interrupted (resumable), and the worker writes
its result. A run that has not stopped when the shutdown time is up is killed; its journal still
lets the next start finish it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from ..config.schedules import Schedule
from ._results import RunResult
from ._state import ScheduledRun

__all__ = ["ProcessExecutor"]


@dataclass
class _Child:
    process: subprocess.Popen[bytes]
    result: Path
    log: IO[bytes]
    stopping: bool = False


class ProcessExecutor:
    """Starts worker processes in ``project_root``; results and logs go to ``folder``."""

    def __init__(
        self,
        project_root: Path,
        folder: Path,
        *,
        env: Mapping[str, str] | None = None,
        python: str = sys.executable,
    ) -> None:
        self.project_root = project_root
        self.folder = folder
        self.env = dict(env if env is not None else os.environ)
        self.python = python
        self._children: dict[str, _Child] = {}

    def start(self, run: ScheduledRun, schedule: Schedule) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        result = self.folder / f"{run.run_id}.{run.attempts}.json"
        result.unlink(missing_ok=True)
        log = (self.folder / f"{run.run_id}.log").open("ab")
        command = [
            self.python,
            "-m",
            "listrak_sync.runtime._worker",
            "--project",
            str(self.project_root),
            "--schedule",
            run.schedule,
            "--run",
            run.run_id,
            "--result",
            str(result),
        ]
        process = subprocess.Popen(
            command,
            cwd=self.project_root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session: a Ctrl-C in the terminal reaches the scheduler only, which
            # forwards one SIGINT (a second one would interrupt the run's journaling).
            start_new_session=True,
        )
        self._children[run.run_id] = _Child(process, result, log)

    def running(self) -> set[str]:
        return set(self._children)

    def collect(self) -> list[tuple[str, RunResult]]:
        done = []
        for run_id, child in list(self._children.items()):
            code = child.process.poll()
            if code is None:
                continue
            done.append((run_id, self._result(child, code)))
            child.log.close()
            del self._children[run_id]
        return done

    def stop(self, timeout: float) -> list[tuple[str, RunResult]]:
        for child in self._children.values():
            child.stopping = True
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + timeout
        for child in self._children.values():
            left = max(0.0, deadline - time.monotonic())
            try:
                child.process.wait(left)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        return self.collect()

    def _result(self, child: _Child, code: int) -> RunResult:
        try:
            return RunResult.model_validate(json.loads(child.result.read_text("utf-8")))
        except (OSError, ValueError, ValidationError):
            pass
        if child.stopping or code in (-signal.SIGINT, -signal.SIGKILL, 130):
            return RunResult(status="interrupted", error="stopped before it could report")
        return RunResult(
            status="failed",
            error=f"the worker process exited with code {code} without a result "
            f"(its output: {child.log.name})",
        )
