"""Segment-spec events from a pull: ``identify`` per changed contact, ``track`` per engagement.

Identify, as Listrak's Segment source sends it: ``anonymousId`` and ``traits.email`` are the
address, ``userId`` is the chosen profile field when it has a value, and the trait
``{trait_prefix}{listId}`` is ``true`` while the address is subscribed and ``false`` when it is
not (or ``null``, or left out as Listrak's Segment source does, see ``unsubscribed_trait``:
Segment merges identify traits, so a trait left out would keep saying ``true``). Events go to
contacts whose state changed since the last pull whose events were recorded (the first such
pull: every contact).

The previous state is a snapshot (Parquet, ``SnapshotStore``) of ``email_lower, email,
subscribed, user_id, state_at, changes``; the comparison runs in a local DuckDB file in the
run's work folder, fed by streaming the pulled rows out of the warehouse, so no list is held in
Python.

Every event's ``messageId`` is a UUID derived from the change it reports (source, address,
state, user id, the Listrak date of the change, and the contact's change number), so a pull
replayed after a crash yields the same ids and the outbox keeps one of each. The change number
(``changes``, counted in the snapshot) is what tells apart a subscribe and a resubscribe in the
same second: Listrak's dates have second resolution, so state and date alone can repeat.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from .. import __version__
from ..config.sources import EventsConfig
from ..state import SnapshotBackend
from ..warehouse import Warehouse
from .engagement import FLAG_EVENTS

__all__ = ["IDENTIFY_SCHEMA", "SNAPSHOT_SCHEMA", "IdentifyDiff", "identify_event", "track_events"]

_NAMESPACE = uuid.UUID("6f1c3b1e-8a53-4c1f-9a4e-6b7f2f0c9d21")
IDENTIFY_SCHEMA = pa.schema(
    [
        pa.field("email_lower", pa.string()),
        pa.field("email", pa.string()),
        pa.field("subscribed", pa.bool_()),
        pa.field("user_id", pa.string()),
        pa.field("state_at", pa.timestamp("s")),
    ]
)
# The snapshot adds how many identify changes each contact has had (null: none counted yet,
# e.g. a snapshot written before the column existed).
SNAPSHOT_SCHEMA = IDENTIFY_SCHEMA.append(pa.field("changes", pa.int64()))
# A contact of this pull (``c``) whose identify state differs from the snapshot's (``p``).
_CHANGED = (
    "(p.email_lower IS NULL OR p.subscribed IS DISTINCT FROM c.subscribed"
    " OR p.user_id IS DISTINCT FROM c.user_id)"
)
_CONTEXT = {"library": {"name": "listrak-sync", "version": __version__}}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


def _message_id(*parts: Any) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join("" if p is None else str(p) for p in parts)))


def identify_event(
    source: str,
    list_id: int,
    config: EventsConfig,
    email: str,
    subscribed: bool,
    user_id: str | None,
    state_at: datetime | None,
    change: int,
) -> dict[str, Any]:
    """The identify event of a contact's ``change``-th change (its number in the snapshot)."""
    trait = f"{config.trait_prefix}{list_id}"
    traits: dict[str, Any] = {"email": email}
    if subscribed:
        traits[trait] = True
    elif config.unsubscribed_trait == "false":
        traits[trait] = False
    elif config.unsubscribed_trait == "null":
        traits[trait] = None
    event: dict[str, Any] = {
        "type": "identify",
        "messageId": _message_id(
            source, "identify", email.lower(), subscribed, user_id, state_at, change
        ),
        "anonymousId": email,
        "traits": traits,
        "context": _CONTEXT,
    }
    if user_id:
        event["userId"] = user_id
    if state_at is not None:
        event["timestamp"] = _iso(state_at)
    return event


class IdentifyDiff:
    """The contacts whose identify state changed, and the snapshot to keep afterwards."""

    def __init__(self, workdir: Path, previous: Path | None, *, full: bool) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self._file = workdir / "identify.duckdb"
        self._file.unlink(missing_ok=True)
        self._con = duckdb.connect(str(self._file))
        self._con.execute(f"SET temp_directory = '{workdir / 'tmp'}'")
        self.full = full
        self._con.execute(
            "CREATE TABLE prev (email_lower VARCHAR, email VARCHAR, subscribed BOOLEAN,"
            " user_id VARCHAR, state_at TIMESTAMP, changes BIGINT)"
        )
        if previous is not None and previous.exists():
            # By name: an older snapshot without ``changes`` loads with it null.
            self._con.execute(
                "INSERT INTO prev BY NAME SELECT * FROM read_parquet(?)", [str(previous)]
            )

    def load(self, warehouse: Warehouse, select: str) -> None:
        """Read the pulled contacts (``select`` yields the snapshot columns) from the warehouse."""
        reader = pa.RecordBatchReader.from_batches(
            IDENTIFY_SCHEMA, (b.cast(IDENTIFY_SCHEMA) for b in warehouse.stream(select))
        )
        self._con.register("incoming", reader)
        try:
            self._con.execute("CREATE OR REPLACE TABLE cur AS SELECT * FROM incoming")
        finally:
            self._con.unregister("incoming")

    def changes(self, *, chunk: int = 10_000) -> Iterator[tuple[Any, ...]]:
        """``(email, subscribed, user_id, state_at, change)`` of each contact to identify."""
        sql = (
            "SELECT c.email, c.subscribed, c.user_id, c.state_at, coalesce(p.changes, 0) + 1"
            f" FROM cur c LEFT JOIN prev p USING (email_lower) WHERE {_CHANGED}"
        )
        if self.full:
            # Gone from a full read while subscribed: no longer subscribed.
            sql += (
                " UNION ALL SELECT p.email, FALSE, p.user_id, p.state_at,"
                " coalesce(p.changes, 0) + 1 FROM prev p"
                " WHERE p.subscribed AND p.email_lower NOT IN (SELECT email_lower FROM cur)"
            )
        result = self._con.execute(sql + " ORDER BY 1")
        while rows := result.fetchmany(chunk):
            yield from rows

    def commit_snapshot(self, snapshots: SnapshotBackend, name: str) -> int:
        """Replace the snapshot with the state after this pull (changed contacts count one
        more change, as ``changes`` numbered them)."""
        sql = (
            "SELECT c.*, CASE WHEN "
            + _CHANGED
            + " THEN coalesce(p.changes, 0) + 1 ELSE p.changes END AS changes"
            " FROM cur c LEFT JOIN prev p USING (email_lower)"
        )
        if not self.full:
            sql = (
                "SELECT * FROM prev WHERE email_lower NOT IN (SELECT email_lower FROM cur)"
                f" UNION ALL {sql}"
            )
        reader = self._con.sql(sql).to_arrow_reader(65_536)
        return snapshots.replace(name, (b.cast(SNAPSHOT_SCHEMA) for b in reader), SNAPSHOT_SCHEMA)

    def close(self) -> None:
        self._con.close()
        self._file.unlink(missing_ok=True)


def track_events(source: str, list_id: int, row: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The track events one changed activity row stands for (see ``Engagement.changes``)."""
    email = row["email_address"]
    properties: dict[str, Any] = {
        "email_id": str(row["message_id"]),
        "email_subject": row.get("subject"),
        "campaign_id": row.get("campaign_id"),
        "external_campaign_id": row.get("external_campaign_id") or None,
        "list_id": list_id,
        "email": email,
    }
    happenings: list[tuple[str, datetime | None, dict[str, Any]]] = []
    if row.get("new_send"):
        happenings.append(("Email Sent", row.get("send_date"), {}))
    for flag, name in FLAG_EVENTS:
        if row.get(f"new_{flag}"):
            extra: dict[str, Any] = {}
            if flag == "clicked":
                extra["click_count"] = row.get("click_count")
            if flag == "bounced":
                extra["bounce_reason"] = row.get("bounce_reason")
            happenings.append((name, row.get("activity_date") or row.get("send_date"), extra))
    for name, at, extra in happenings:
        event: dict[str, Any] = {
            "type": "track",
            "event": name,
            "messageId": _message_id(source, "track", row["message_id"], email.lower(), name),
            "anonymousId": email,
            "properties": {k: v for k, v in {**properties, **extra}.items() if v is not None},
            "context": _CONTEXT,
        }
        if row.get("user_id"):
            event["userId"] = row["user_id"]
        if at is not None:
            event["timestamp"] = _iso(at)
        yield event
