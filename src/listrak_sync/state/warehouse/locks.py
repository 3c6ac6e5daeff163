"""Cross-host locks of the warehouse state store, one kind per engine.

- :class:`AdvisoryLocks` (PostgreSQL): a session-level advisory lock on the store's own
  connection. The server frees it when the session ends (the process exits, is killed, or
  its connection drops), so a lock is never stale. The ``locks`` table only names the holder,
  for the message a refused run prints.
- :class:`LeaseLocks` (Snowflake, which has no advisory locks): the ``locks`` row itself is
  the lock. It carries an owner (a token unique to this store) and a lease expiry; a run takes
  it with one ``MERGE`` that inserts the row when there is none and takes it over only when it
  is its own, its lease has expired, or it belongs to a process on this host that is gone.
  Snowflake runs ``MERGE`` statements on one table one after another, so two runners cannot
  both win; each reads the row back to learn whether it did. A thread renews the lease while
  the store is open (every third of the lease); a runner that dies stops renewing, and after
  the lease runs out the next run takes the lock. The lease is measured on the server's clock
  (``CURRENT_TIMESTAMP``), so runners' clocks need not agree.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from ..bookkeeping import iso_text
from ..store import LockHeld, stale_process
from .connection import StateConnection, lock_key

__all__ = ["DEFAULT_LEASE", "AdvisoryLocks", "LeaseLocks", "StateLocks"]

# Seconds a lease lasts without renewal: how long a crashed runner's lock outlives it.
DEFAULT_LEASE = 120


class StateLocks(ABC):
    """What the store asks of its locks (see the two kinds below)."""

    def __init__(self, connection: StateConnection, schema: str, sql: Callable[[str], str]):
        self.connection = connection
        self.schema = schema
        self._sql = sql

    @abstractmethod
    def acquire(self, resource: str, run_id: str) -> None:
        """See ``WarehouseStateStore``'s method of the same purpose."""

    @abstractmethod
    def relabel(self, old: str, new: str) -> None:
        """See ``WarehouseStateStore``'s method of the same purpose."""

    @abstractmethod
    def release(self, resource: str, run_id: str) -> None:
        """See ``WarehouseStateStore``'s method of the same purpose."""

    def force_unlock(self, resource: str) -> bool:
        """Forget the holder recorded for ``resource``; whether there was one."""
        with self.connection.transaction():
            found = self.connection.rows(
                self._sql("SELECT resource FROM {locks} WHERE resource = ?"), (resource,)
            )
            self.connection.execute(
                self._sql("DELETE FROM {locks} WHERE resource = ?"), (resource,)
            )
        return bool(found)

    def close(self) -> None:  # noqa: B027 - most kinds keep nothing running
        """Stop keeping the locks (the store is closing)."""

    def _holder(self, resource: str) -> tuple[Any, ...] | None:
        rows = self.connection.rows(
            self._sql("SELECT run_id, host, pid, acquired_at FROM {locks} WHERE resource = ?"),
            (resource,),
        )
        return rows[0] if rows else None


class AdvisoryLocks(StateLocks):
    """PostgreSQL's session-level advisory locks (see the module's docstring)."""

    def __init__(self, connection: StateConnection, schema: str, sql: Callable[[str], str]):
        super().__init__(connection, schema, sql)
        self._held: dict[str, int] = {}  # resource -> advisory lock key, held by this session

    def acquire(self, resource: str, run_id: str) -> None:
        if resource not in self._held:
            key = lock_key(self.schema, resource)
            if not self.connection.try_lock(key):
                _refuse(resource, self._holder(resource), live=True)
            self._held[resource] = key
        with self.connection.transaction():
            self.connection.execute(
                self._sql("DELETE FROM {locks} WHERE resource = ?"), (resource,)
            )
            self.connection.execute(
                self._sql(
                    "INSERT INTO {locks} (resource, run_id, host, pid, acquired_at) "
                    "VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP)"
                ),
                (resource, run_id, socket.gethostname(), os.getpid()),
            )

    def relabel(self, old: str, new: str) -> None:
        for resource in self._held:
            self.connection.execute(
                self._sql("UPDATE {locks} SET run_id = ? WHERE resource = ? AND run_id = ?"),
                (new, resource, old),
            )

    def release(self, resource: str, run_id: str) -> None:
        key = self._held.pop(resource, None)
        self.connection.execute(
            self._sql("DELETE FROM {locks} WHERE resource = ? AND run_id = ?"),
            (resource, run_id),
        )
        if key is not None:
            self.connection.unlock(key)


class LeaseLocks(StateLocks):
    """Lock rows with an owner and a lease, renewed by a thread (see the module's docstring)."""

    def __init__(
        self,
        connection: StateConnection,
        schema: str,
        sql: Callable[[str], str],
        lease: float = DEFAULT_LEASE,
    ):
        super().__init__(connection, schema, sql)
        self.lease = lease
        self.owner = uuid.uuid4().hex
        self._held: set[str] = set()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _expiry(self) -> str:
        return f"DATEADD(millisecond, {int(self.lease * 1000)}, CURRENT_TIMESTAMP)"

    def acquire(self, resource: str, run_id: str) -> None:
        host, pid = socket.gethostname(), os.getpid()
        seen = self._row(resource)
        # A holder on this host whose process is gone is taken over at once (as the local
        # store does); the MERGE only succeeds if that holder still owns the row.
        dead = seen[4] if seen and seen[1] == host and stale_process(host, int(seen[2])) else ""
        # Values as literals: fakesnow rewrites a MERGE into several statements and loses its
        # bound parameters; these are our own names and ids, quoted.
        mine, taken, run, at = (
            _literal(self.owner),
            _literal(dead),
            _literal(run_id),
            _literal(host),
        )
        self.connection.execute(
            self._sql(
                f"MERGE INTO {{locks}} AS l USING (SELECT {_literal(resource)} AS resource) AS r "
                "ON l.resource = r.resource "
                f"WHEN MATCHED AND (l.owner = {mine} OR l.owner = {taken} "
                "OR l.expires_at IS NULL OR l.expires_at < CURRENT_TIMESTAMP) THEN UPDATE SET "
                f"run_id = {run}, host = {at}, pid = {int(pid)}, "
                f"acquired_at = CURRENT_TIMESTAMP, owner = {mine}, expires_at = {self._expiry()} "
                "WHEN NOT MATCHED THEN INSERT "
                "(resource, run_id, host, pid, acquired_at, owner, expires_at) VALUES "
                f"(r.resource, {run}, {at}, {int(pid)}, CURRENT_TIMESTAMP, {mine}, "
                f"{self._expiry()})"
            )
        )
        now = self._row(resource)
        if now is None or now[4] != self.owner:
            _refuse(resource, now, live=False, lease_ends=iso_text(now[5]) if now else "")
        self._held.add(resource)
        self._start_renewing()

    def _row(self, resource: str) -> tuple[Any, ...] | None:
        rows = self.connection.rows(
            self._sql(
                "SELECT run_id, host, pid, acquired_at, owner, expires_at FROM {locks} "
                "WHERE resource = ?"
            ),
            (resource,),
        )
        return rows[0] if rows else None

    def renew(self) -> None:
        """Push the lease of every lock this store holds a lease further."""
        if self._held:
            self.connection.execute(
                self._sql(f"UPDATE {{locks}} SET expires_at = {self._expiry()} WHERE owner = ?"),
                (self.owner,),
            )

    def _start_renewing(self) -> None:
        if self._renewer is not None:
            return
        self._renewer = threading.Thread(
            target=self._renew_until_closed, name="state-lease", daemon=True
        )
        self._renewer.start()

    def _renew_until_closed(self) -> None:
        while not self._stop.wait(self.lease / 3):
            try:
                self.renew()
            except Exception:
                continue

    def relabel(self, old: str, new: str) -> None:
        self.connection.execute(
            self._sql("UPDATE {locks} SET run_id = ? WHERE owner = ? AND run_id = ?"),
            (new, self.owner, old),
        )

    def release(self, resource: str, run_id: str) -> None:
        self._held.discard(resource)
        self.connection.execute(
            self._sql("DELETE FROM {locks} WHERE resource = ? AND owner = ?"),
            (resource, self.owner),
        )

    def close(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=30)


def _refuse(
    resource: str, holder: tuple[Any, ...] | None, *, live: bool, lease_ends: str | None = None
) -> None:
    run_id, host, pid, since = (holder or ("pid-?", "another host", 0, None))[:4]
    raise LockHeld(
        resource,
        str(run_id),
        str(host),
        int(pid),
        iso_text(since),
        live=live,
        lease_ends=lease_ends,
    )


def _literal(text: str) -> str:
    """A Snowflake string literal (a backslash escapes there, so it is doubled)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"
