"""The event outbox: events are written here before any is sent, and stay until delivered.

A SQLite file in WAL mode beside the state store (``.listrak-sync/events-outbox.sqlite``). A
pull adds its events (message ids are derived from the change they describe, so adding the
same event twice keeps one), then delivers the pending events of its source in order. What an
endpoint did not take stays ``pending`` and goes out first on the next run; an event an
endpoint refuses as invalid (a 4xx on its own) is set aside as ``rejected`` with the reason,
reported, and never blocks the others. Delivered rows are kept a while so a replayed pull
cannot enqueue them again, then pruned.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...state.sqlite import WalDatabase

__all__ = ["Outbox", "QueuedEvent"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    enqueued_at REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',   -- pending, delivered, rejected
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS events_pending ON events (source, status, seq);
"""


@dataclass(frozen=True)
class QueuedEvent:
    seq: int
    message_id: str
    body: str  # the event's JSON, as sent


class Outbox(WalDatabase):
    def __init__(self, path: Path | str) -> None:
        # An enqueued event must survive a crash: it may be the only record of the change.
        super().__init__(path, schema=_SCHEMA, synchronous="FULL")

    def add(self, source: str, events: Iterable[dict[str, Any]], *, chunk: int = 5000) -> int:
        """Enqueue events (each has a ``messageId``); returns how many were new."""
        added = 0
        rows: list[tuple[str, str, str, float]] = []
        now = time.time()

        def flush() -> int:
            with self.transaction() as db:
                before = db.total_changes
                db.executemany(
                    "INSERT OR IGNORE INTO events (source, message_id, body, enqueued_at)"
                    " VALUES (?, ?, ?, ?)",
                    rows,
                )
                return db.total_changes - before

        for event in events:
            body = json.dumps(event, separators=(",", ":"), sort_keys=True)
            rows.append((source, str(event["messageId"]), body, now))
            if len(rows) >= chunk:
                added += flush()
                rows.clear()
        if rows:
            added += flush()
        return added

    def pending(self, source: str, *, after: int = 0, limit: int = 500) -> list[QueuedEvent]:
        found = self._db.execute(
            "SELECT seq, message_id, body FROM events WHERE source = ? AND status = 'pending'"
            " AND seq > ? ORDER BY seq LIMIT ?",
            (source, after, limit),
        ).fetchall()
        return [QueuedEvent(*row) for row in found]

    def delivered(self, seqs: Iterable[int]) -> None:
        self._finish(seqs, "delivered", None)

    def rejected(self, seqs: Iterable[int], reason: str) -> None:
        self._finish(seqs, "rejected", reason)

    def attempt_failed(self, seqs: Iterable[int], error: str) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE events SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                [(error, seq) for seq in seqs],
            )

    def _finish(self, seqs: Iterable[int], status: str, reason: str | None) -> None:
        now = time.time()
        with self.transaction() as db:
            db.executemany(
                "UPDATE events SET status = ?, finished_at = ?, attempts = attempts + 1,"
                " last_error = coalesce(?, last_error) WHERE seq = ?",
                [(status, now, reason, seq) for seq in seqs],
            )

    def counts(self, source: str) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT status, count(*) FROM events WHERE source = ? GROUP BY 1", (source,)
        ).fetchall()
        return {status: int(n) for status, n in rows}

    def prune(self, source: str, *, older_than_days: float = 30.0) -> int:
        """Forget delivered events older than this (long after any replay could add them)."""
        limit = time.time() - older_than_days * 86400
        cursor = self._db.execute(
            "DELETE FROM events WHERE source = ? AND status = 'delivered' AND finished_at < ?",
            (source, limit),
        )
        return cursor.rowcount
