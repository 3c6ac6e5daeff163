"""The durable queue: a SQLite file in WAL mode between intake and delivery.

Tables: ``updates`` (accepted, not yet delivered; ``seq`` is the arrival order), ``dead_letter``
(permanent failures with their reason), ``field_seq`` (per contact and field, the ``seq`` of the
last delivered value, so a dead-letter retry never overwrites a newer value) and ``integration``
(what we learnt about an integration: Listrak refused it the Beta route).

Every commit is fsync'd (``synchronous=FULL``): once :meth:`Queue.append` returns, the events
survive a crash or power loss. One :class:`Queue` is one connection; use it from one thread at a
time (the server gives it a thread of its own).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..state.sqlite import WalDatabase
from .mappings import FieldName, FieldRef, Rejection, Update

__all__ = [
    "DeadLetter",
    "Queue",
    "QueuedUpdate",
    "Target",
    "compact_json",
    "decode_fields",
    "encode_fields",
    "field_key",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS updates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL NOT NULL,
    message_id TEXT,
    mapping TEXT NOT NULL,
    credential TEXT NOT NULL,
    list_id INTEGER NOT NULL,
    email TEXT NOT NULL,
    contact TEXT NOT NULL,
    fields TEXT NOT NULL,
    batched INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS updates_by_target ON updates (credential, list_id, seq);
CREATE TABLE IF NOT EXISTS dead_letter (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seq INTEGER,
    failed_at REAL NOT NULL,
    received_at REAL NOT NULL,
    message_id TEXT,
    mapping TEXT NOT NULL,
    credential TEXT NOT NULL,
    list_id INTEGER NOT NULL,
    email TEXT,
    fields TEXT,
    event TEXT,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS field_seq (
    credential TEXT NOT NULL,
    list_id INTEGER NOT NULL,
    contact TEXT NOT NULL,
    field TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (credential, list_id, contact, field)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS integration (
    client_id TEXT PRIMARY KEY,
    beta_refused_at REAL
);
"""

Target = tuple[str, int]  # (credential name, list id)


compact_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
"""``value`` as compact JSON text, non-ASCII kept: how events and fields are stored and
measured. One encoder for every call (``json.dumps`` with these arguments builds one a call)."""


def encode_fields(fields: Iterable[tuple[FieldRef, str]]) -> str:
    items: list[Any] = []
    for ref, value in fields:
        if isinstance(ref, FieldName):
            items.append([{"group": ref.group, "name": ref.name, "create": ref.create}, value])
        else:
            items.append([ref, value])
    return compact_json(items)


def decode_fields(text: str) -> tuple[tuple[FieldRef, str], ...]:
    out: list[tuple[FieldRef, str]] = []
    for ref, value in json.loads(text):
        if isinstance(ref, dict):
            out.append((FieldName(ref["group"], ref["name"], bool(ref["create"])), str(value)))
        else:
            out.append((int(ref), str(value)))
    return tuple(out)


def field_key(ref: FieldRef) -> str:
    """A stable text key for a field reference (ids, or group and name case-insensitively)."""
    if isinstance(ref, FieldName):
        return f"name:{ref.group.lower()}/{ref.name.lower()}"
    return str(ref)


@dataclass(frozen=True)
class QueuedUpdate:
    seq: int
    received_at: float
    message_id: str | None
    mapping: str
    credential: str
    list_id: int
    email: str
    contact: str
    fields: tuple[tuple[FieldRef, str], ...]
    batched: bool
    attempts: int


@dataclass(frozen=True)
class DeadLetter:
    id: int
    seq: int | None
    failed_at: float
    received_at: float
    message_id: str | None
    mapping: str
    credential: str
    list_id: int
    email: str | None
    fields: tuple[tuple[FieldRef, str], ...] | None
    event: dict[str, Any] | None
    reason: str
    attempts: int


_UPDATE_COLUMNS = (
    "seq, received_at, message_id, mapping, credential, list_id, email, contact, fields, batched,"
    " attempts"
)
_DEAD_COLUMNS = (
    "id, seq, failed_at, received_at, message_id, mapping, credential, list_id, email, fields,"
    " event, reason, attempts"
)


def _queued(row: Sequence[Any]) -> QueuedUpdate:
    return QueuedUpdate(
        seq=row[0],
        received_at=row[1],
        message_id=row[2],
        mapping=row[3],
        credential=row[4],
        list_id=row[5],
        email=row[6],
        contact=row[7],
        fields=decode_fields(row[8]),
        batched=bool(row[9]),
        attempts=row[10],
    )


def _dead(row: Sequence[Any]) -> DeadLetter:
    return DeadLetter(
        id=row[0],
        seq=row[1],
        failed_at=row[2],
        received_at=row[3],
        message_id=row[4],
        mapping=row[5],
        credential=row[6],
        list_id=row[7],
        email=row[8],
        fields=decode_fields(row[9]) if row[9] is not None else None,
        event=json.loads(row[10]) if row[10] is not None else None,
        reason=row[11],
        attempts=row[12],
    )


class Queue(WalDatabase):
    """The queue file. ``Queue(path)`` creates it (and its tables) when missing."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0) -> None:
        # FULL: the WAL is fsync'd at every commit, so an acknowledged event is on disk.
        super().__init__(path, schema=_SCHEMA, synchronous="FULL", busy_timeout=busy_timeout)

    # --- intake ----------------------------------------------------------------------------

    def append(
        self,
        updates: Sequence[Update],
        rejections: Sequence[tuple[Rejection, dict[str, Any]]] = (),
        *,
        received_at: float | None = None,
    ) -> None:
        """Store accepted updates and intake rejections in one durable commit."""
        at = time.time() if received_at is None else received_at
        with self.transaction() as db:
            self._insert_updates(db, updates, at)
            db.executemany(
                "INSERT INTO dead_letter (failed_at, received_at, message_id, mapping, credential,"
                " list_id, email, event, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        at,
                        at,
                        r.message_id,
                        r.mapping,
                        r.credential,
                        r.list_id,
                        r.email,
                        compact_json(event),
                        r.reason,
                    )
                    for r, event in rejections
                ],
            )

    # --- delivery --------------------------------------------------------------------------

    def targets(self) -> dict[Target, int]:
        """Every (credential, list) with queued updates, and its highest ``seq``."""
        rows = self._db.execute(
            "SELECT credential, list_id, max(seq) FROM updates GROUP BY credential, list_id"
        ).fetchall()
        return {(row[0], row[1]): row[2] for row in rows}

    def pending(self, target: Target, after: int, limit: int) -> list[QueuedUpdate]:
        rows = self._db.execute(
            f"SELECT {_UPDATE_COLUMNS} FROM updates WHERE credential = ? AND list_id = ?"
            " AND seq > ? ORDER BY seq LIMIT ?",
            [target[0], target[1], after, limit],
        ).fetchall()
        return [_queued(row) for row in rows]

    def delivered(
        self, rows: Sequence[QueuedUpdate], applied: Iterable[tuple[str, str, int]] = ()
    ) -> None:
        """Remove delivered rows; ``applied`` is ``(contact, field key, seq)`` to remember."""
        with self.transaction() as db:
            db.executemany("DELETE FROM updates WHERE seq = ?", [(r.seq,) for r in rows])
            if rows:
                credential, list_id = rows[0].credential, rows[0].list_id
                db.executemany(
                    "INSERT INTO field_seq VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT DO UPDATE SET seq = max(seq, excluded.seq)",
                    [(credential, list_id, c, f, s) for c, f, s in applied],
                )

    def attempt_failed(self, rows: Sequence[QueuedUpdate], error: str) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE updates SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                [(error, r.seq) for r in rows],
            )

    def dead_letter(self, rows: Sequence[tuple[QueuedUpdate, str]]) -> None:
        """Move rows to the dead-letter table, each with its reason."""
        now = time.time()
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO dead_letter (seq, failed_at, received_at, message_id, mapping,"
                " credential, list_id, email, fields, reason, attempts)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.seq,
                        now,
                        r.received_at,
                        r.message_id,
                        r.mapping,
                        r.credential,
                        r.list_id,
                        r.email,
                        encode_fields(r.fields),
                        reason,
                        r.attempts,
                    )
                    for r, reason in rows
                ],
            )
            db.executemany("DELETE FROM updates WHERE seq = ?", [(r.seq,) for r, _ in rows])

    # --- integrations ----------------------------------------------------------------------

    def beta_refused(self) -> dict[str, float]:
        """When Listrak refused each integration (by client id) the Beta route."""
        rows = self._db.execute(
            "SELECT client_id, beta_refused_at FROM integration WHERE beta_refused_at IS NOT NULL"
        ).fetchall()
        return {row[0]: row[1] for row in rows}

    def mark_beta_refused(self, client_id: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO integration VALUES (?, ?)"
                " ON CONFLICT DO UPDATE SET beta_refused_at = excluded.beta_refused_at",
                [client_id, time.time()],
            )

    # --- inspection and dead-letter retry -----------------------------------------------------

    def depth(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM updates").fetchone()[0])

    def dead_letter_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM dead_letter").fetchone()[0])

    def dead_letters(
        self, *, ids: Sequence[int] = (), mapping: str | None = None, limit: int | None = None
    ) -> list[DeadLetter]:
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        if ids:
            where.append(f"id IN ({', '.join('?' * len(ids))})")
            params.extend(ids)
        if mapping is not None:
            where.append("mapping = ?")
            params.append(mapping)
        sql = f"SELECT {_DEAD_COLUMNS} FROM dead_letter WHERE {' AND '.join(where)} ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_dead(row) for row in self._db.execute(sql, params).fetchall()]

    def requeue(
        self,
        dead: Sequence[DeadLetter],
        replacements: dict[int, tuple[list[Update], list[tuple[Rejection, dict[str, Any]]]]],
    ) -> tuple[int, int]:
        """Send dead letters back to the queue, at its end; returns (requeued, superseded).

        A dead letter with fields keeps only the fields no newer value exists for (delivered
        or queued), so a retry never undoes a later event; one left with none is superseded
        and removed. One without (rejected at intake) is replaced by ``replacements[id]``: its
        event mapped again with the current mappings.
        """
        requeued = superseded = 0
        now = time.time()
        with self.transaction() as db:
            for item in dead:
                db.execute("DELETE FROM dead_letter WHERE id = ?", [item.id])
                if item.fields is None:
                    updates, rejections = replacements.get(item.id, ([], []))
                    self._insert_updates(db, updates, item.received_at)
                    for rejection, event in rejections:
                        db.execute(
                            "INSERT INTO dead_letter (failed_at, received_at, message_id,"
                            " mapping, credential, list_id, email, event, reason, attempts)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [
                                now,
                                item.received_at,
                                rejection.message_id,
                                rejection.mapping,
                                rejection.credential,
                                rejection.list_id,
                                rejection.email,
                                compact_json(event),
                                rejection.reason,
                                item.attempts + 1,
                            ],
                        )
                    requeued += len(updates)
                    continue
                assert item.email is not None
                contact = item.email.lower()
                keep = [
                    (ref, value)
                    for ref, value in item.fields
                    if not self._newer(db, item, contact, field_key(ref))
                ]
                if not keep:
                    superseded += 1
                    continue
                db.execute(
                    "INSERT INTO updates (received_at, message_id, mapping, credential, list_id,"
                    " email, contact, fields, batched, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
                    " 1, 0)",
                    [
                        item.received_at,
                        item.message_id,
                        item.mapping,
                        item.credential,
                        item.list_id,
                        item.email,
                        contact,
                        encode_fields(keep),
                    ],
                )
                requeued += 1
        return requeued, superseded

    @staticmethod
    def _insert_updates(db: sqlite3.Connection, updates: Sequence[Update], at: float) -> None:
        db.executemany(
            "INSERT INTO updates (received_at, message_id, mapping, credential, list_id, email,"
            " contact, fields, batched) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    at,
                    u.message_id,
                    u.mapping,
                    u.credential,
                    u.list_id,
                    u.email,
                    u.email.lower(),
                    encode_fields(u.fields),
                    int(u.batched),
                )
                for u in updates
            ],
        )

    @staticmethod
    def _newer(db: sqlite3.Connection, item: DeadLetter, contact: str, key: str) -> bool:
        seq = item.seq if item.seq is not None else 0
        done = db.execute(
            "SELECT 1 FROM field_seq WHERE credential = ? AND list_id = ? AND contact = ?"
            " AND field = ? AND seq > ?",
            [item.credential, item.list_id, contact, key, seq],
        ).fetchone()
        if done is not None:
            return True
        for (fields,) in db.execute(
            "SELECT fields FROM updates WHERE credential = ? AND list_id = ? AND contact = ?"
            " AND seq > ?",
            [item.credential, item.list_id, contact, seq],
        ):
            if any(field_key(ref) == key for ref, _ in decode_fields(fields)):
                return True
        return False
