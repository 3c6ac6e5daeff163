"""Plans and syncs started from the console run in worker threads, off the request path; a page
polls the job for its progress (the Reporter the CLI's progress bars also use) and its result.

Jobs live in memory: the run itself is recorded in the state store as a CLI sync's is, so
restarting the console loses only the progress view, never the run's record.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from ..api import SyncResult
from ..errors import ListrakSyncError
from ..masking import mask_text
from ..sync.report import Reporter

__all__ = ["Job", "JobReporter", "Jobs"]

JobStatus = Literal["running", "done", "failed"]


@dataclass
class Job:
    job_id: str
    kind: str  # plan | sync
    campaign: str
    user: str
    started_at: str
    destinations: tuple[str, ...] = ()
    approved_removal: bool = False
    status: JobStatus = "running"
    progress: dict[str, str] = field(default_factory=dict)  # target -> what it does now
    result: SyncResult | None = None
    error: str | None = None


class JobReporter(Reporter):
    """Keeps the latest phase of each target, for the job page to show."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.rows: dict[str, int] = {}

    def phase(self, target: str, text: str) -> None:
        self.job.progress[target] = text

    def audience_rows(self, target: str, rows: int) -> None:
        self.rows[target] = self.rows.get(target, 0) + rows
        self.job.progress[target] = f"reading the audience: {self.rows[target]:,} rows"

    def steps(self, target: str, steps: list[tuple[str, int]]) -> None:
        total = sum(rows for _, rows in steps)
        self.job.progress[target] = f"applying {len(steps)} steps ({total:,} rows)"

    def step_done(self, target: str, step_id: str, rows: int) -> None:
        self.job.progress[target] = f"step {step_id} done ({rows:,} rows)"


class Jobs:
    """A small pool: two jobs at a time (the machine's warehouse and Listrak limits apply to
    the console as to the CLI: a second sync of one destination waits for its lock)."""

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="console-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, job: Job, work: Callable[[JobReporter], SyncResult]) -> Job:
        with self._lock:
            self._jobs[job.job_id] = job
        self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def new(kind: str, campaign: str, user: str, **values: object) -> Job:
        return Job(
            job_id=secrets.token_hex(8),
            kind=kind,
            campaign=campaign,
            user=user,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            **values,  # type: ignore[arg-type]
        )

    @staticmethod
    def _run(job: Job, work: Callable[[JobReporter], SyncResult]) -> None:
        try:
            job.result = work(JobReporter(job))
        except ListrakSyncError as exc:
            job.error = mask_text("; ".join(text for text, _ in exc.report()))
            job.status = "failed"
        except Exception as exc:  # shown on the job page; the run's record says the rest
            job.error = mask_text(f"{type(exc).__name__}: {exc}")
            job.status = "failed"
        else:
            job.status = "done"
