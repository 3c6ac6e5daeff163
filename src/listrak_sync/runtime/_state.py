"""The scheduler's own durable state, in ``.listrak-sync/scheduler.sqlite`` (WAL, fsync at every
commit): per schedule the last fire handled, pause and failure count; every scheduled run,
skip and miss; and which alerts are active and which channels were told.

Decisions are written before they act: a run's row (status ``running``) is committed together
with the fire it handles, so a scheduler killed at any point neither fires that time again nor
forgets the run (the next start resumes it).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from ..state.sqlite import WalDatabase

__all__ = ["AlertRecord", "RunStatus", "ScheduleState", "ScheduledRun", "SchedulerState"]

RunStatus = Literal[
    "running",
    "succeeded",
    "partial",
    "refused",
    "locked",
    "failed",
    "interrupted",
    "skipped",
    "missed",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schedules (
    name TEXT PRIMARY KEY,
    first_seen TEXT NOT NULL,          -- fires before this were never owed
    last_fire TEXT,                    -- the latest fire handled: run, skipped or missed
    paused INTEGER NOT NULL DEFAULT 0,
    paused_reason TEXT,
    failures INTEGER NOT NULL DEFAULT 0,  -- failed runs in a row
    last_success TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    schedule TEXT NOT NULL,
    reason TEXT NOT NULL,              -- cron, interval, catch-up, after, trigger
    fire_time TEXT,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS runs_by_schedule ON runs (schedule, created_at);
CREATE TABLE IF NOT EXISTS alerts (
    key TEXT PRIMARY KEY,              -- schedule/condition[/destination]
    schedule TEXT NOT NULL,
    condition TEXT NOT NULL,
    active INTEGER NOT NULL,
    since TEXT NOT NULL,
    message TEXT NOT NULL,             -- the problem, while active; the recovery, once cleared
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS notices (
    key TEXT NOT NULL,
    channel TEXT NOT NULL,
    told INTEGER NOT NULL,             -- the alert state this channel last heard (1 active)
    at TEXT NOT NULL,
    PRIMARY KEY (key, channel)
);
"""


@dataclass(frozen=True)
class ScheduleState:
    name: str
    first_seen: datetime
    last_fire: datetime | None
    paused: bool
    paused_reason: str | None
    failures: int
    last_success: datetime | None


@dataclass(frozen=True)
class ScheduledRun:
    run_id: str
    schedule: str
    reason: str
    fire_time: datetime | None
    status: RunStatus
    created_at: datetime
    finished_at: datetime | None
    attempts: int
    detail: dict[str, Any]


@dataclass(frozen=True)
class AlertRecord:
    key: str
    schedule: str
    condition: str
    active: bool
    since: datetime
    message: str
    detail: dict[str, Any]


def _text(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class SchedulerState(WalDatabase):
    """The scheduler's state file. One writer (the scheduler, or a `schedules` command)."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, schema=_SCHEMA, synchronous="FULL")

    # --- schedules --------------------------------------------------------------------------

    def schedule(self, name: str, now: datetime) -> ScheduleState:
        """The state of ``name``; a schedule seen for the first time owes nothing before now."""
        self._db.execute(
            "INSERT OR IGNORE INTO schedules (name, first_seen) VALUES (?, ?)",
            (name, _text(now)),
        )
        row = self._db.execute(
            "SELECT name, first_seen, last_fire, paused, paused_reason, failures, last_success "
            "FROM schedules WHERE name = ?",
            (name,),
        ).fetchone()
        first_seen = _time(row[1])
        assert first_seen is not None
        return ScheduleState(
            row[0], first_seen, _time(row[2]), bool(row[3]), row[4], int(row[5]), _time(row[6])
        )

    def set_paused(self, name: str, now: datetime, reason: str | None) -> None:
        """Pause ``name`` (with a reason), or resume it (None), which also clears its failures."""
        self.schedule(name, now)
        if reason is None:
            self._db.execute(
                "UPDATE schedules SET paused = 0, paused_reason = NULL, failures = 0 "
                "WHERE name = ?",
                (name,),
            )
        else:
            self._db.execute(
                "UPDATE schedules SET paused = 1, paused_reason = ? WHERE name = ?",
                (reason, name),
            )

    # --- runs -------------------------------------------------------------------------------

    def begin(
        self,
        schedule: str,
        now: datetime,
        *,
        reason: str,
        fire_time: datetime | None,
        missed: Iterable[datetime] = (),
        skipped: str | None = None,
    ) -> ScheduledRun:
        """Record a fire in one transaction: older fires ``missed``, then a run that starts
        (``running``) or, with ``skipped`` (the reason), a skip. ``last_fire`` moves to the
        newest fire, so the same times never fire again."""
        missed = list(missed)
        status: RunStatus = "skipped" if skipped is not None else "running"
        run_id = _run_id(now)
        detail: dict[str, Any] = {"skipped": skipped} if skipped is not None else {}
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO schedules (name, first_seen) VALUES (?, ?)",
                (schedule, _text(now)),
            )
            if missed:
                # One row for a stretch of missed fires: a minutely schedule down for a week
                # must not write ten thousand rows.
                db.execute(
                    "INSERT INTO runs (run_id, schedule, reason, fire_time, status, created_at, "
                    "finished_at, detail) VALUES (?, ?, ?, ?, 'missed', ?, ?, ?)",
                    (
                        _run_id(now, "missed"),
                        schedule,
                        reason,
                        _text(missed[-1]),
                        _text(now),
                        _text(now),
                        json.dumps(
                            {
                                "count": len(missed),
                                "first": _text(missed[0]),
                                "last": _text(missed[-1]),
                                "why": "older than the schedule's grace window",
                            }
                        ),
                    ),
                )
            db.execute(
                "INSERT INTO runs (run_id, schedule, reason, fire_time, status, created_at, "
                "finished_at, attempts, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    schedule,
                    reason,
                    _text(fire_time),
                    status,
                    _text(now),
                    _text(now) if skipped is not None else None,
                    0 if skipped is not None else 1,
                    json.dumps(detail),
                ),
            )
            newest = max([*missed, *([fire_time] if fire_time else [])], default=None)
            if newest is not None:
                db.execute(
                    "UPDATE schedules SET last_fire = ? WHERE name = ? "
                    "AND (last_fire IS NULL OR last_fire < ?)",
                    (_text(newest), schedule, _text(newest)),
                )
        return self.run(run_id)

    def record_missed(self, schedule: str, now: datetime, missed: list[datetime]) -> None:
        """Fires owed while the schedule is paused or too old to run: recorded, not run."""
        if not missed:
            return
        with self.transaction() as db:
            db.execute(
                "INSERT INTO runs (run_id, schedule, reason, fire_time, status, created_at, "
                "finished_at, detail) VALUES (?, ?, 'missed', ?, 'missed', ?, ?, ?)",
                (
                    _run_id(now, "missed"),
                    schedule,
                    _text(missed[-1]),
                    _text(now),
                    _text(now),
                    json.dumps(
                        {"count": len(missed), "first": _text(missed[0]), "last": _text(missed[-1])}
                    ),
                ),
            )
            db.execute(
                "UPDATE schedules SET last_fire = ? WHERE name = ?",
                (_text(missed[-1]), schedule),
            )

    def restart(self, run_id: str) -> ScheduledRun:
        """Run an interrupted run again (its work resumes from the sync journal)."""
        self._db.execute(
            "UPDATE runs SET status = 'running', finished_at = NULL, attempts = attempts + 1 "
            "WHERE run_id = ?",
            (run_id,),
        )
        return self.run(run_id)

    def finish(
        self,
        run_id: str,
        status: RunStatus,
        now: datetime,
        detail: dict[str, Any],
        *,
        max_failures: int,
    ) -> tuple[ScheduledRun, ScheduleState]:
        """Record how a run ended and keep the schedule's failure count: a failure adds one
        (``max_failures`` in a row pause the schedule), a success or partial run resets it."""
        with self.transaction() as db:
            schedule = db.execute("SELECT schedule FROM runs WHERE run_id = ?", (run_id,))
            name = schedule.fetchone()[0]
            db.execute(
                "UPDATE runs SET status = ?, finished_at = ?, detail = ? WHERE run_id = ?",
                (status, _text(now), json.dumps(detail, default=str), run_id),
            )
            if status in ("succeeded", "partial"):
                db.execute(
                    "UPDATE schedules SET failures = 0, last_success = ? WHERE name = ?",
                    (_text(now), name),
                )
            elif status == "failed":
                db.execute("UPDATE schedules SET failures = failures + 1 WHERE name = ?", (name,))
                failures = db.execute(
                    "SELECT failures FROM schedules WHERE name = ?", (name,)
                ).fetchone()[0]
                if failures >= max_failures:
                    db.execute(
                        "UPDATE schedules SET paused = 1, paused_reason = ? WHERE name = ?",
                        (f"paused after {failures} failed runs in a row", name),
                    )
        return self.run(run_id), self.schedule(name, now)

    def set_owner(self, run_id: str, owner: str) -> None:
        """Which process (``host:pid``) runs ``run_id`` now."""
        self._db.execute(
            "UPDATE runs SET detail = json_set(detail, '$.owner', ?) WHERE run_id = ?",
            (owner, run_id),
        )

    def run(self, run_id: str) -> ScheduledRun:
        row = self._db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?", (run_id,))
        found = row.fetchone()
        if found is None:
            raise KeyError(run_id)
        return _run(found)

    def runs(
        self, schedule: str | None = None, *, status: str | None = None, limit: int = 50
    ) -> list[ScheduledRun]:
        """Latest first."""
        sql = f"SELECT {_RUN_COLUMNS} FROM runs WHERE 1 = 1"
        args: list[Any] = []
        if schedule is not None:
            sql += " AND schedule = ?"
            args.append(schedule)
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        sql += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
        args.append(limit)
        return [_run(r) for r in self._db.execute(sql, args).fetchall()]

    def last_finished(self, schedule: str, before: str | None = None) -> ScheduledRun | None:
        """The latest run of ``schedule`` that ran to an end (not skipped, missed, running)."""
        sql = (
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE schedule = ? AND status IN "
            "('succeeded', 'partial', 'refused', 'locked', 'failed')"
        )
        args: list[Any] = [schedule]
        if before is not None:
            sql += " AND run_id <> ?"
            args.append(before)
        sql += " ORDER BY finished_at DESC, rowid DESC LIMIT 1"
        row = self._db.execute(sql, args).fetchone()
        return _run(row) if row else None

    # --- alerts -----------------------------------------------------------------------------

    def set_alert(
        self,
        key: str,
        schedule: str,
        condition: str,
        active: bool,
        now: datetime,
        message: str,
        detail: dict[str, Any] | None = None,
    ) -> bool:
        """Set an alert's state; True when it changed (a channel has news)."""
        current = self.alert(key)
        if current is None and not active:
            return False
        if current is not None and current.active == active:
            return False
        self._db.execute(
            "INSERT OR REPLACE INTO alerts (key, schedule, condition, active, since, message, "
            "detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, schedule, condition, int(active), _text(now), message, json.dumps(detail or {})),
        )
        return True

    def alert(self, key: str) -> AlertRecord | None:
        row = self._db.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE key = ?", (key,))
        found = row.fetchone()
        return _alert(found) if found else None

    def alerts(self, schedule: str | None = None) -> list[AlertRecord]:
        sql = f"SELECT {_ALERT_COLUMNS} FROM alerts"
        args: list[Any] = []
        if schedule is not None:
            sql += " WHERE schedule = ?"
            args.append(schedule)
        return [_alert(r) for r in self._db.execute(sql + " ORDER BY key", args).fetchall()]

    def told(self, key: str, channel: str) -> bool:
        """What ``channel`` last heard of alert ``key``: True active, False clear (or nothing)."""
        row = self._db.execute(
            "SELECT told FROM notices WHERE key = ? AND channel = ?", (key, channel)
        ).fetchone()
        return bool(row[0]) if row else False

    def mark_told(self, key: str, channel: str, active: bool, now: datetime) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO notices (key, channel, told, at) VALUES (?, ?, ?, ?)",
            (key, channel, int(active), _text(now)),
        )


_RUN_COLUMNS = (
    "run_id, schedule, reason, fire_time, status, created_at, finished_at, attempts, detail"
)
_ALERT_COLUMNS = "key, schedule, condition, active, since, message, detail"


def _run(row: tuple[Any, ...]) -> ScheduledRun:
    created = _time(row[5])
    assert created is not None
    return ScheduledRun(
        row[0],
        row[1],
        row[2],
        _time(row[3]),
        row[4],
        created,
        _time(row[6]),
        int(row[7]),
        json.loads(row[8]),
    )


def _alert(row: tuple[Any, ...]) -> AlertRecord:
    since = _time(row[4])
    assert since is not None
    return AlertRecord(row[0], row[1], row[2], bool(row[3]), since, row[5], json.loads(row[6]))


def _run_id(now: datetime, prefix: str = "s") -> str:
    # Sortable by time, unique across processes.
    return f"{prefix}-{now.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
