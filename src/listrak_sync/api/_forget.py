"""Forget people from Python: the call behind ``listrak-sync forget``. It reads deletion
requests, submits each once and waits until Listrak completes them.

Each request is journaled (``privacy/journal.py``) before it is sent, so a killed run is finished by
the next one without losing or duplicating a request. Listrak's refusals are classified:
400/404/405/415 say the request itself is wrong (``failed``, not retried), while 401, 403, 408,
409 and 429 may pass later (the request goes back to ``pending`` for the next run).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..audiences.deletion_requests import DeletionRequest, RowProblem, read_requests
from ..errors import ListrakSyncError
from ..listrak import ClientSettings, Credentials, ListrakClient, ListrakError
from ..privacy.journal import ForgetJournal
from ..privacy.keyed_hash import KeyedHasher, load_salt
from ..project.connection import open_warehouse
from ..project.loader import Project
from ..project.secrets import resolve_listrak
from ..state import LockHeld
from ..sync import hooks
from ..sync.workspace import FORGET_MARK, Workspace
from ._project import ProjectLike, load_project

__all__ = ["PERMANENT_STATUSES", "ForgetError", "ForgetReport", "forget"]

LOCK = "forget"
PERMANENT_STATUSES = frozenset({400, 404, 405, 410, 413, 414, 415, 422})


class ForgetError(ListrakSyncError):
    """The run could not start (no ``forget:`` section, an unreadable source)."""


@dataclass
class ForgetReport:
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[RowProblem] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # row and refusal, never the address

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(sorted(self.counts.items())),
            "problems": [str(p) for p in self.problems],
            "failures": self.failures,
        }

    @property
    def ok(self) -> bool:
        bad = ("failed", "unconfirmed", "pending", "timed_out")
        return not self.problems and not any(self.counts.get(name) for name in bad)


def _permanent(exc: ListrakError) -> bool:
    return exc.status is not None and exc.status in PERMANENT_STATUSES


def _client(project: Project, credential: str, options: dict[str, Any]) -> ListrakClient:
    resolved = resolve_listrak(project, credential)
    hosts = project.config.listrak
    settings = ClientSettings.model_validate(
        {"api_url": hosts.api_url, "auth_url": hosts.auth_url, **options}
    )
    return ListrakClient(
        settings=settings,
        privacy=Credentials(client_id=resolved.client_id, client_secret=resolved.client_secret),
    )


def forget(
    project: ProjectLike,
    *,
    resend_unconfirmed: bool = False,
    client_options: dict[str, Any] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> ForgetReport:
    """Submit the warehouse's deletion requests (the project's ``forget:`` section) to
    Listrak's Privacy API, each once, and wait until Listrak completes them.

    ``resend_unconfirmed`` submits again the requests Listrak never confirmed;
    ``client_options`` changes ``ClientSettings`` members (e.g. polling for tests). Rows that
    cannot be read are in ``report.problems``; ``report.ok`` says whether everything finished.
    """
    if not isinstance(project, Project):
        project = load_project(project)
    config = project.config.forget
    if config is None:
        raise ForgetError(
            f"{project.config_file}: no `forget:` section (where deletion requests come from)"
        )
    region = config.default_region or project.config.warehouse.default_region
    workspace = Workspace.in_project(project.root)
    salt = load_salt(workspace.root, create=True)
    assert salt is not None
    hasher = KeyedHasher(salt)
    report = ForgetReport()
    requests: list[DeletionRequest] = []
    with open_warehouse(project, read_only=True) as warehouse:
        try:
            for item in read_requests(warehouse, config, region):
                if isinstance(item, RowProblem):
                    report.problems.append(item)
                else:
                    requests.append(item)
        except ValueError as exc:
            raise ForgetError(str(exc)) from None
    if requests and project.config.state.store == "warehouse":
        # Before anyone is forgotten here: syncs on runners without this folder refuse.
        with Workspace.for_project(project).store() as shared:
            if shared.checkpoint(*FORGET_MARK) is None:
                shared.set_checkpoint(*FORGET_MARK, f"{socket.gethostname()}:{project.root}")
    with ForgetJournal(workspace.state_path) as journal, workspace.store() as store:
        earlier = store.unfinished_run("forget", "forget")
        run = store.start_run("forget", "forget", {"requests": len(requests)})
        try:
            # One forget run at a time: marking "sending" requests unconfirmed is only right
            # when no live run is sending them.
            store.acquire_lock(LOCK, run.run_id)
        except LockHeld as exc:
            store.finish_run(run.run_id, "refused", error=str(exc))
            raise ForgetError(str(exc)) from None
        if earlier is not None:  # killed: its journal entries are finished below
            store.finish_run(earlier.run_id, "interrupted", error="killed before it finished")
        try:
            asyncio.run(
                _run(
                    project,
                    config.credential,
                    journal,
                    hasher,
                    requests,
                    report,
                    resend_unconfirmed,
                    client_options or {},
                    config.poll_interval,
                    config.poll_timeout,
                    sleep,
                )
            )
        except BaseException as exc:
            # ListrakError texts are masked; anything else is named by its type only.
            reason = str(exc) if isinstance(exc, ListrakError) else type(exc).__name__
            store.finish_run(run.run_id, "failed", dict(report.counts), error=reason)
            raise
        finally:
            store.release_lock(LOCK, run.run_id)
        store.finish_run(run.run_id, "succeeded" if report.ok else "partial", dict(report.counts))
    return report


async def _run(
    project: Project,
    credential: str,
    journal: ForgetJournal,
    hasher: KeyedHasher,
    requests: list[DeletionRequest],
    report: ForgetReport,
    resend_unconfirmed: bool,
    options: dict[str, Any],
    poll_interval: float,
    poll_timeout: float,
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    # A run killed while a request was "sending" left it unknowable: see journal.py.
    for interrupted in journal.entries("sending"):
        journal.mark(interrupted.request_hash, "unconfirmed")
    async with _client(project, credential, options) as client:
        seen: set[str] = set()
        for request in requests:
            request_hash = hasher.request(request.email, request.phone)
            if request_hash in seen:
                report.counts["duplicate"] += 1
                continue
            seen.add(request_hash)
            entry = journal.entry(request_hash)
            status = entry.status if entry else "new"
            if status in ("submitted", "complete"):
                report.counts["already_" + status] += 1
                continue
            if status == "failed":
                report.counts["failed"] += 1
                report.failures.append(
                    f"row {request.row}: refused earlier ({entry and entry.error})"
                )
                continue
            if status == "unconfirmed" and not resend_unconfirmed:
                report.counts["unconfirmed"] += 1
                report.failures.append(
                    f"row {request.row}: a run was interrupted while sending it; check Listrak, "
                    "then run `listrak-sync forget --resend-unconfirmed`"
                )
                continue
            keys = [hasher.email(request.email)] if request.email else []
            keys += [hasher.phone(request.phone)] if request.phone else []
            journal.begin(request_hash, keys, request.requested_at)
            try:
                request_id = await client.privacy.forget(
                    email_address=request.email, phone_number=request.phone
                )
            except ListrakError as exc:
                if getattr(exc, "maybe_applied", False):
                    journal.mark(request_hash, "unconfirmed", error=_describe(exc))
                    report.counts["unconfirmed"] += 1
                    report.failures.append(
                        f"row {request.row}: Listrak may have received it ({_describe(exc)}); "
                        "check, then run `listrak-sync forget --resend-unconfirmed`"
                    )
                elif _permanent(exc):
                    journal.mark(request_hash, "failed", error=_describe(exc))
                    report.counts["failed"] += 1
                    report.failures.append(f"row {request.row}: refused ({_describe(exc)})")
                else:
                    journal.mark(request_hash, "pending", error=_describe(exc))
                    report.counts["pending"] += 1
                    report.failures.append(
                        f"row {request.row}: not accepted yet ({_describe(exc)}); the next run "
                        "sends it again"
                    )
                continue
            hooks.checkpoint("forget_submitted")  # tests kill the process here
            journal.mark(request_hash, "submitted", request_id=request_id)
            report.counts["submitted"] += 1
        await _poll(client, journal, report, poll_interval, poll_timeout, sleep)


async def _poll(
    client: ListrakClient,
    journal: ForgetJournal,
    report: ForgetReport,
    interval: float,
    poll_timeout: float,
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    """Wait for every submitted request (this run's and earlier runs') to be COMPLETE."""
    waiting = journal.entries("submitted")
    deadline = time.monotonic() + poll_timeout
    while waiting:
        still: list[Any] = []
        for entry in waiting:
            assert entry.request_id is not None
            status = await client.privacy.forget_status(entry.request_id)
            if status.complete:
                journal.mark(entry.request_hash, "complete")
                report.counts["complete"] += 1
            else:
                still.append(entry)
        waiting = still
        if waiting and time.monotonic() >= deadline:
            report.counts["timed_out"] += len(waiting)
            return
        if waiting:
            await sleep(interval)


def _describe(exc: ListrakError) -> str:
    parts = [str(exc.status) if exc.status is not None else None, exc.code]
    head = " ".join(p for p in parts if p)
    return head or type(exc).__name__
