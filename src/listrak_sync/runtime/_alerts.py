"""Alert conditions: from a finished run (or the passing of time) to alerts that are on or off.

An alert is keyed ``schedule/condition[/destination]``. Channels hear of it when it turns on and
once more when it clears (the recovery), never while it holds; the state is in the scheduler's
state file, so a restart neither repeats nor forgets. Messages carry counts, run ids and the
commands to look closer; free text (error messages) has addresses and phone numbers masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..config.schedules import Schedule
from ..masking import mask_text
from ._results import RunResult, TargetResult
from ._state import ScheduledRun, SchedulerState, ScheduleState

__all__ = ["AlertChange", "Notice", "apply_changes", "evaluate_run", "evaluate_time"]


@dataclass(frozen=True)
class Notice:
    """One message to a channel: a problem (``active``) or its recovery."""

    key: str
    schedule: str
    condition: str
    active: bool
    title: str
    text: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertChange:
    key: str
    condition: str
    active: bool
    message: str
    detail: dict[str, Any] = field(default_factory=dict)


def _runs_hint(run_id: str | None) -> str:
    return f"listrak-sync runs {run_id}" if run_id else "listrak-sync runs"


def _failed_text(run: ScheduledRun, result: RunResult) -> str:
    lines = [f"Scheduled run {run.run_id} failed."]
    if result.error:
        lines.append(mask_text(result.error))
    for target in result.targets:
        if target.status in ("failed", "locked"):
            lines.append(
                f"- {target.kind} {target.destination}: {target.status}: "
                f"{mask_text(target.error or 'no detail')} (inspect: {_runs_hint(target.run_id)})"
            )
    return "\n".join(lines)


def _share(target: TargetResult) -> float | None:
    """Rejected or failed rows as a share of the audience (None without an audience)."""
    if not target.audience_total:
        return None
    ok = target.audience_ok if target.audience_ok is not None else target.audience_total
    bad = (target.audience_total - ok) + target.counts.get("failed", 0)
    bad += target.counts.get("declined", 0)
    return bad / target.audience_total


def evaluate_run(
    name: str,
    schedule: Schedule,
    run: ScheduledRun,
    result: RunResult,
    after: ScheduleState,
    previous: RunResult | None,
) -> list[AlertChange]:
    """Every alert a finished run turns on or off (unchanged ones included; the state store
    keeps only the changes)."""
    changes: list[AlertChange] = []
    status = run.status
    if status == "failed":
        changes.append(
            AlertChange(
                f"{name}/failed",
                "failed",
                True,
                _failed_text(run, result),
                {"run_id": run.run_id},
            )
        )
    elif status in ("succeeded", "partial", "refused"):
        changes.append(
            AlertChange(
                f"{name}/failed",
                "failed",
                False,
                f"Schedule {name!r} runs again: run {run.run_id} {status}.",
            )
        )
    before = {(t.kind, t.destination): t for t in (previous.targets if previous else [])}
    conditions = schedule.conditions
    for target in result.targets:
        where = target.destination
        if target.status == "refused":
            changes.append(
                AlertChange(
                    f"{name}/removal_guard/{where}",
                    "removal_guard",
                    True,
                    f"The removal guard stopped {target.name} → {where} "
                    f"(sync run {target.run_id}).\n{mask_text(target.removal_guard or '')}\n"
                    + (
                        f"Among them: {', '.join(target.removal_sample)}.\n"
                        if target.removal_sample
                        else ""
                    )
                    + f"Nothing was sent. If the audience really shrank, approve with:\n"
                    f"  {target.approve_command}\n"
                    f"Inspect: {_runs_hint(target.run_id)}",
                    {"run_id": target.run_id, "approve": target.approve_command},
                )
            )
        elif target.status in ("succeeded", "partial"):
            changes.append(
                AlertChange(
                    f"{name}/removal_guard/{where}",
                    "removal_guard",
                    False,
                    f"{target.name} → {where} synced again (run {target.run_id}).",
                )
            )
        share = _share(target)
        if conditions.rejected_share is not None and share is not None:
            # Rows the audience could not deliver (no or invalid key, no consent) count as much
            # as rows Listrak refused: both mean people the campaign meant to reach and did not.
            over = share > conditions.rejected_share
            if target.status in ("succeeded", "partial"):
                changes.append(
                    AlertChange(
                        f"{name}/rejected_share/{where}",
                        "rejected_share",
                        over,
                        (
                            f"{target.name} → {where}: {share:.1%} of "
                            f"{target.audience_total:,} audience rows were rejected or failed "
                            f"(threshold {conditions.rejected_share:.1%}); "
                            f"row outcomes: {_runs_hint(target.run_id)}"
                            + "".join(f"\n- {line}" for line in target.rejected_sample)
                        )
                        if over
                        else f"{target.name} → {where}: rejected rows back to {share:.1%}.",
                        {"run_id": target.run_id, "share": round(share, 4)},
                    )
                )
        earlier = before.get((target.kind, target.destination))
        limit = conditions.audience_change_percent
        if (
            limit is not None
            and target.audience_ok is not None
            and earlier is not None
            and earlier.audience_ok
        ):
            change = 100.0 * (target.audience_ok - earlier.audience_ok) / earlier.audience_ok
            changes.append(
                AlertChange(
                    f"{name}/audience_change/{where}",
                    "audience_change",
                    abs(change) > limit,
                    (
                        f"{target.name} → {where}: the audience went from "
                        f"{earlier.audience_ok:,} to {target.audience_ok:,} ({change:+.1f}%, "
                        f"more than {limit:g}%). Inspect: {_runs_hint(target.run_id)}"
                    )
                    if abs(change) > limit
                    else f"{target.name} → {where}: audience size steady "
                    f"({target.audience_ok:,}, {change:+.1f}%).",
                    {"run_id": target.run_id, "change_percent": round(change, 2)},
                )
            )
    if after.paused and status == "failed" and after.paused_reason:
        changes.append(
            AlertChange(
                f"{name}/paused",
                "paused",
                True,
                f"Schedule {name!r} paused itself: {after.paused_reason}. "
                f"Last run: {run.run_id}. Fix the cause, then: "
                f"listrak-sync schedules resume {name}",
                {"failures": after.failures},
            )
        )
    return changes


def evaluate_time(
    name: str, schedule: Schedule, state: ScheduleState, now: datetime
) -> list[AlertChange]:
    """Alerts that the passing of time turns on: no successful run for too long."""
    limit = schedule.conditions.no_success_for
    if limit is None:
        return []
    since = state.last_success or state.first_seen
    late = now - since > limit
    hours = limit.total_seconds() / 3600
    text = (
        f"Schedule {name!r} has had no successful run for more than {hours:g} hours "
        f"(last success: {state.last_success.isoformat() if state.last_success else 'never'})."
        if late
        else f"Schedule {name!r} succeeded again."
    )
    return [AlertChange(f"{name}/no_success", "no_success", late, text)]


def apply_changes(
    state: SchedulerState, name: str, changes: list[AlertChange], now: datetime
) -> list[str]:
    """Store the changes; the keys that changed."""
    changed = []
    for change in changes:
        if state.set_alert(
            change.key, name, change.condition, change.active, now, change.message, change.detail
        ):
            changed.append(change.key)
    return changed
