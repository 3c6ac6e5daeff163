"""The one place a scheduled run calls the rest of listrak-sync: deletion requests, a campaign
sync, a pull, an export.

A sync reports per destination through the engine's outcomes; ``pull`` and ``export`` go
through the library's front door (``listrak_sync.api``) and map their reports' exit codes
(0 ok, 3 partial, 5 locked, anything else failed).
"""

from __future__ import annotations

import shlex

from ..api import ExportTarget
from ..api import export as run_export
from ..api import forget as run_forget
from ..api import pull as run_pull
from ..config.destinations import DataApiDestination, ProjectFilesDestination
from ..errors import ExitCode, ListrakSyncError
from ..masking import mask_email, mask_phone, mask_value
from ..project.loader import Project
from ..sync.engine import sync_campaign
from ..sync.options import SyncOptions, client_settings_from_env
from ..sync.report import UnitOutcome
from ._results import TargetResult, TargetStatus

__all__ = ["run_target"]


def run_target(project: Project, kind: str, name: str) -> list[TargetResult]:
    """Run one target of a schedule; KeyboardInterrupt (SIGINT) passes through after the run
    has journaled itself."""
    if kind == "forget":
        return [_forget(project)]
    if kind == "sync":
        return _sync(project, name)
    if kind == "pull":
        return [_pull(project, name)]
    return [_export(project, name)]


def _sync(project: Project, campaign: str) -> list[TargetResult]:
    # The same client overrides `listrak-sync sync` honours (e.g. import polling in tests).
    outcomes = sync_campaign(project, campaign, SyncOptions(client=client_settings_from_env()))
    return [_unit(project, campaign, o) for o in outcomes]


def _unit(project: Project, campaign: str, outcome: UnitOutcome) -> TargetResult:
    status: TargetStatus = outcome.status if outcome.status != "planned" else "succeeded"  # type: ignore[assignment]
    audience = {str(k): int(v) for k, v in (outcome.audience.get("counts") or {}).items()}
    run = outcome.run
    approve = None
    if status == "refused":
        approve = shlex.join(
            [
                "listrak-sync",
                "sync",
                campaign,
                "--destination",
                outcome.destination,
                "--allow-large-removal",
                "--project",
                str(project.root),
            ]
        )
    return TargetResult(
        kind="sync",
        name=campaign,
        destination=outcome.target.removeprefix(f"{campaign}/").replace("/", ":")
        if "/" in outcome.target
        else outcome.destination,
        status=status,
        run_id=run.run_id if run else None,
        error=outcome.error,
        counts={k: int(v) for k, v in (run.counts if run else {}).items()},
        audience_total=sum(audience.values()) if audience else None,
        audience_ok=audience.get("ok") if audience else None,
        removal_guard=outcome.error if status == "refused" else None,
        approve_command=approve,
        removal_sample=[
            _mask_key(str(row["key"]))
            for row in outcome.sample
            if status == "refused" and row.get("change") == "leave" and row.get("key")
        ],
        rejected_sample=[_masked(row) for row in outcome.audience.get("rejected_sample", [])[:3]],
    )


def _masked(row: dict[str, object]) -> str:
    """``customer_key=C000012: invalid_email (j***@e***.com)``: no raw contact key leaves."""
    raw = row.get("raw_key")
    shown = f" ({_mask_key(raw)})" if isinstance(raw, str) and raw else ""
    return f"customer {row.get('customer_key')}: {row.get('status')}{shown}"


def _mask_key(raw: str) -> str:
    """An email address, a phone number or anything else, masked for an alert."""
    if "@" in raw:
        return mask_email(raw)
    return mask_phone(raw) if any(c.isdigit() for c in raw) else mask_value(raw)


_CODES: dict[int, TargetStatus] = {
    ExitCode.OK: "succeeded",
    ExitCode.PARTIAL: "partial",
    ExitCode.LOCK_HELD: "locked",
}


def _forget(project: Project) -> TargetResult:
    name = "deletion requests"
    try:
        report = run_forget(project, client_options=client_settings_from_env())
    except ListrakSyncError as exc:
        status = _CODES.get(exc.exit_code, "failed")
        return TargetResult(
            kind="forget", name=name, destination=name, status=status, error=str(exc)
        )
    # Requests Listrak has not finished yet are picked up by the next run, like failed rows.
    counts = {k: int(v) for k, v in report.counts.items()}
    error = "; ".join([str(p) for p in report.problems][:3] + report.failures[:3]) or None
    return TargetResult(
        kind="forget",
        name=name,
        destination=name,
        status="succeeded" if report.ok else "partial",
        error=None if report.ok else error,
        counts=counts,
    )


def _pull(project: Project, source: str) -> TargetResult:
    try:
        code = run_pull(project, source).exit_code
        error = None if code == ExitCode.OK else f"`listrak-sync pull {source}` exited with {code}"
    except ListrakSyncError as exc:
        code, error = exc.exit_code, str(exc)
    status = _CODES.get(code, "failed")
    return TargetResult(kind="pull", name=source, destination=source, status=status, error=error)


def _export(project: Project, destination: str) -> TargetResult:
    found = project.config.destinations.get(destination)
    to: ExportTarget
    if isinstance(found, DataApiDestination):
        to = "api"
    elif isinstance(found, ProjectFilesDestination):
        to = "sftp" if found.sftp is not None else "dir"
    else:
        return TargetResult(
            kind="export",
            name=destination,
            destination=destination,
            status="failed",
            error=f"{destination!r} is not a listrak_files or listrak_data destination",
        )
    try:
        report = run_export(
            project, to=to, destination=destination, out=project.root / "listrak-files"
        )
        code = report.exit_code
        error = (
            None if code == ExitCode.OK else f"`listrak-sync export -d {destination}` exited {code}"
        )
    except ListrakSyncError as exc:
        code, error = exc.exit_code, str(exc)
    status = _CODES.get(code, "failed")
    return TargetResult(
        kind="export", name=destination, destination=destination, status=status, error=error
    )
