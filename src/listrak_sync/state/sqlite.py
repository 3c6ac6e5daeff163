"""SQLite files in WAL mode: how the state store, the event queue and the outbox open theirs.

WAL lets readers look while one writer commits. The connection is in autocommit mode (each
statement commits at once) except inside :meth:`WalDatabase.transaction`, which starts with
``BEGIN IMMEDIATE``: the write lock is taken up front, so two writers wait on the busy timeout
instead of one failing halfway through. How durable a commit is stays each store's choice
(``synchronous``): ``FULL`` fsyncs the WAL at every commit, ``NORMAL`` only at checkpoints (a
power loss may drop the last commits, never corrupt the file).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, Self

from ..errors import sqlite_problem
from .private import private_file, private_folder

__all__ = ["Synchronous", "WalDatabase", "connect_wal"]

Synchronous = Literal["NORMAL", "FULL"]


def connect_wal(
    path: Path | str, *, schema: str, synchronous: Synchronous, busy_timeout: float = 10.0
) -> sqlite3.Connection:
    """Open ``path`` (creating its folder and ``schema``) in WAL mode and autocommit mode.

    ``busy_timeout`` is in seconds; ``":memory:"`` opens a private in-memory database.
    """
    if synchronous not in ("NORMAL", "FULL"):
        # It is spliced into a PRAGMA, which takes no parameters.
        raise ValueError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
    if str(path) != ":memory:":
        # Owner-only: the file holds emails and phones (its -wal/-shm take its mode).
        private_folder(Path(path).parent)
        private_file(Path(path))
    # check_same_thread=False: a store may be made in one thread and used in another (never
    # from two at once); isolation_level=None: we issue BEGIN/COMMIT ourselves.
    try:
        db = sqlite3.connect(
            str(path), timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.executescript(schema)
    except sqlite3.OperationalError as exc:
        # A full disk or a read-only folder, named with the file (later statements' errors
        # carry no path; the command line still turns them into one line).
        problem = sqlite_problem(exc, path)
        if problem is None:
            raise
        raise problem from None
    return db


class WalDatabase:
    """Base of a store kept in one SQLite file: the connection, closing, transactions."""

    def __init__(
        self,
        path: Path | str,
        *,
        schema: str,
        synchronous: Synchronous,
        busy_timeout: float = 10.0,
    ) -> None:
        self.path = Path(path)
        self._db = connect_wal(
            path, schema=schema, synchronous=synchronous, busy_timeout=busy_timeout
        )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All statements in the block commit together, or none does (on any exception)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
