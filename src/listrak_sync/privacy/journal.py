"""The forget journal: every deletion request's progress, and the forgotten set.

Both live in the project's ``state.sqlite`` (their own tables), keyed by keyed hashes only (see
``keyed_hash.py``). A request moves ``sending`` → ``submitted`` (with Listrak's request id) →
``complete``; ``sending`` is committed *before* the POST leaves, together with the person's
hashes in the forgotten set, so:

- a kill before the POST leaves the request ``sending``; a kill after Listrak received it but
  before ``submitted`` was committed leaves it ``sending`` too. The two cannot be told apart
  (the Privacy API cannot be asked about an address), so the next run marks it ``unconfirmed``
  and does not send it again on its own: ``forget --resend-unconfirmed`` does, once the
  operator has checked. Nothing is sent twice unasked, and nothing is dropped silently;
- a failure the client knows was not applied (429, 503, refused connection, a transient 4xx)
  returns the request to ``pending`` for the next run; a permanent 4xx makes it ``failed``;
- suppression starts when ``sending`` is committed, before Listrak hears of the request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from ..state.sqlite import WalDatabase

__all__ = ["ForgetJournal", "JournalEntry", "RequestStatus"]

RequestStatus = Literal["pending", "sending", "unconfirmed", "submitted", "complete", "failed"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS forget_requests (
    request_hash TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    request_id TEXT,            -- Listrak's, once submitted
    requested_at TEXT,          -- as the warehouse row says
    submitted_at TEXT,
    completed_at TEXT,
    error TEXT,                 -- status and error code of a refusal; never the address
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS forgotten (
    key_hash TEXT PRIMARY KEY,  -- HMAC-SHA256 of "email:..." or "phone:..."
    forgotten_at TEXT NOT NULL
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class JournalEntry:
    request_hash: str
    status: RequestStatus
    request_id: str | None
    error: str | None


class ForgetJournal(WalDatabase):
    def __init__(self, path: Path | str) -> None:
        # FULL: "sending" must be on disk before the POST leaves, whatever happens next.
        super().__init__(path, schema=_SCHEMA, synchronous="FULL")

    def entry(self, request_hash: str) -> JournalEntry | None:
        row = self._db.execute(
            "SELECT request_hash, status, request_id, error FROM forget_requests "
            "WHERE request_hash = ?",
            (request_hash,),
        ).fetchone()
        return None if row is None else JournalEntry(row[0], row[1], row[2], row[3])

    def entries(self, status: RequestStatus) -> list[JournalEntry]:
        rows = self._db.execute(
            "SELECT request_hash, status, request_id, error FROM forget_requests "
            "WHERE status = ? ORDER BY updated_at, request_hash",
            (status,),
        ).fetchall()
        return [JournalEntry(*row) for row in rows]

    def begin(self, request_hash: str, key_hashes: Iterable[str], requested_at: str | None) -> None:
        """Commit ``sending`` and the person's hashes in the forgotten set, in one transaction."""
        now = _now()
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO forgotten (key_hash, forgotten_at) VALUES (?, ?)",
                [(key, now) for key in key_hashes],
            )
            db.execute(
                "INSERT INTO forget_requests (request_hash, status, requested_at, updated_at) "
                "VALUES (?, 'sending', ?, ?) ON CONFLICT (request_hash) DO UPDATE SET "
                "status = 'sending', error = NULL, updated_at = excluded.updated_at",
                (request_hash, requested_at, now),
            )

    def mark(
        self,
        request_hash: str,
        status: RequestStatus,
        *,
        request_id: str | None = None,
        error: str | None = None,
    ) -> None:
        now = _now()
        self._db.execute(
            "UPDATE forget_requests SET status = ?, request_id = COALESCE(?, request_id), "
            "error = ?, updated_at = ?, "
            "submitted_at = CASE WHEN ? = 'submitted' THEN ? ELSE submitted_at END, "
            "completed_at = CASE WHEN ? = 'complete' THEN ? ELSE completed_at END "
            "WHERE request_hash = ?",
            (status, request_id, error, now, status, now, status, now, request_hash),
        )

    def forgotten(self) -> frozenset[str]:
        """Every forgotten key hash."""
        return frozenset(row[0] for row in self._db.execute("SELECT key_hash FROM forgotten"))

    def counts(self) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT status, count(*) FROM forget_requests GROUP BY status"
        ).fetchall()
        return {str(status): int(n) for status, n in rows}
