"""The one place a scheduled run calls the rest of listrak-sync: a campaign sync, a pull, an
export. Kept small so the calls can move to the library's front door in one edit.

A sync reports per destination through the engine's outcomes. ``pull`` and ``export`` have no
library entry point yet, so they run their command functions and read the exit code (0 ok,
3 partial, 5 locked, anything else failed).
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import click

from ..masking import mask_email, mask_phone, mask_value
from ..project.destinations import DataApiDestination, ProjectFilesDestination
from ..project.loader import Project
from ..sync.cli import CLIENT_SETTINGS_ENV
from ..sync.engine import sync_campaign
from ..sync.options import SyncOptions
from ..sync.report import UnitOutcome
from ._results import TargetResult, TargetStatus

__all__ = ["run_target"]


def run_target(project: Project, kind: str, name: str) -> list[TargetResult]:
    """Run one target of a schedule; KeyboardInterrupt (SIGINT) passes through after the run
    has journaled itself."""
    if kind == "sync":
        return _sync(project, name)
    if kind == "pull":
        return [_pull(project, name)]
    return [_export(project, name)]


def _sync(project: Project, campaign: str) -> list[TargetResult]:
    # The same client overrides `listrak-sync sync` honours (e.g. import polling in tests).
    settings = json.loads(os.environ.get(CLIENT_SETTINGS_ENV) or "{}")
    outcomes = sync_campaign(project, campaign, SyncOptions(client=settings))
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
        rejected_sample=[_masked(row) for row in outcome.audience.get("rejected_sample", [])[:3]],
    )


def _masked(row: dict[str, object]) -> str:
    """``customer_key=C000012: invalid_email (j***@e***.com)``: no raw contact key leaves."""
    raw = row.get("raw_key")
    shown = ""
    if isinstance(raw, str) and raw:
        shown = (
            mask_email(raw)
            if "@" in raw
            else mask_phone(raw)
            if any(c.isdigit() for c in raw)
            else mask_value(raw)
        )
        shown = f" ({shown})"
    return f"customer {row.get('customer_key')}: {row.get('status')}{shown}"


_CODES: dict[int, TargetStatus] = {0: "succeeded", 3: "partial", 5: "locked"}


def _code(call: object) -> int:
    try:
        call()  # type: ignore[operator]
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    return 0


def _pull(project: Project, source: str) -> TargetResult:
    from ..source.cli import pull

    code = _code(
        lambda: pull(name=source, full=False, project=project.root, config=None, events=True)
    )
    status = _CODES.get(code, "failed")
    error = None if status != "failed" else f"`listrak-sync pull {source}` exited with {code}"
    return TargetResult(kind="pull", name=source, destination=source, status=status, error=error)


def _export(project: Project, destination: str) -> TargetResult:
    from ..files.cli import export

    found = project.config.destinations.get(destination)
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
    code = _code(
        lambda: export(
            datasets=[],
            to=to,  # type: ignore[arg-type]
            project=project.root,
            destination=destination,
            out=Path(project.root / "listrak-files"),
            warehouse=None,
            host=None,
            port=None,
            user=None,
            key=None,
            password_env=None,
            known_hosts=None,
            remote_dir=None,
            api_url=None,
            client_id=None,
            client_secret_env=None,
            date_format=None,
            source_timezone=None,
            errors_file=None,
        )
    )
    status = _CODES.get(code, "failed")
    error = None if status != "failed" else f"`listrak-sync export -d {destination}` exited {code}"
    return TargetResult(
        kind="export", name=destination, destination=destination, status=status, error=error
    )
