"""The WAL SQLite helper on real files: pragmas, transactions, locking, and the stores' choices."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from listrak_sync.events.queue import Queue
from listrak_sync.source.sinks.outbox import Outbox
from listrak_sync.state import StateStore
from listrak_sync.state.sqlite import WalDatabase, connect_wal

_SCHEMA = "CREATE TABLE IF NOT EXISTS items (n INTEGER PRIMARY KEY);"
# PRAGMA synchronous reads back as a number.
_NORMAL, _FULL = 1, 2


def _count(path: Path) -> int:
    with sqlite3.connect(path) as other:
        return int(other.execute("SELECT count(*) FROM items").fetchone()[0])


def test_connect_wal_creates_the_folder_tables_and_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "db.sqlite"
    db = connect_wal(path, schema=_SCHEMA, synchronous="FULL", busy_timeout=2.5)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == _FULL
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 2500
        db.execute("INSERT INTO items VALUES (1)")  # autocommit: visible to others at once
        assert _count(path) == 1
    finally:
        db.close()


def test_connect_wal_refuses_an_unknown_synchronous_level(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="NORMAL or FULL"):
        connect_wal(tmp_path / "db.sqlite", schema=_SCHEMA, synchronous="OFF")  # type: ignore[arg-type]


def test_in_memory_database_makes_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with WalDatabase(":memory:", schema=_SCHEMA, synchronous="NORMAL") as store:
        store._db.execute("INSERT INTO items VALUES (1)")
        assert store._db.execute("SELECT count(*) FROM items").fetchone()[0] == 1
    assert list(tmp_path.iterdir()) == []


def _insert(store: WalDatabase, *values: int, then: BaseException | None = None) -> None:
    with store.transaction() as db:
        for value in values:
            db.execute("INSERT INTO items VALUES (?)", (value,))
        if then is not None:
            raise then


def test_transaction_commits_together_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with WalDatabase(path, schema=_SCHEMA, synchronous="NORMAL") as store:
        with store.transaction() as db:
            db.execute("INSERT INTO items VALUES (1)")
            db.execute("INSERT INTO items VALUES (2)")
            assert _count(path) == 0  # not committed until the block ends
        assert _count(path) == 2
        with pytest.raises(sqlite3.IntegrityError):
            _insert(store, 3, 1)  # 1 is taken: 3 is rolled back with it
        with pytest.raises(KeyboardInterrupt):
            _insert(store, 4, then=KeyboardInterrupt())  # BaseException rolls back too
        assert _count(path) == 2
        assert not store._db.in_transaction
        _insert(store, 3)
        assert _count(path) == 3


def test_transaction_takes_the_write_lock_up_front_but_readers_still_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite"
    with WalDatabase(path, schema=_SCHEMA, synchronous="NORMAL") as first:
        first._db.execute("INSERT INTO items VALUES (1)")
        second = WalDatabase(path, schema=_SCHEMA, synchronous="NORMAL", busy_timeout=0)
        try:
            with first.transaction():
                # BEGIN IMMEDIATE: a second writer is refused before it does any work ...
                with pytest.raises(sqlite3.OperationalError, match="locked"), second.transaction():
                    pass
                # ... while WAL lets a reader see the last committed state.
                assert second._db.execute("SELECT count(*) FROM items").fetchone()[0] == 1
        finally:
            second.close()


def test_close_on_exit(tmp_path: Path) -> None:
    with WalDatabase(tmp_path / "db.sqlite", schema=_SCHEMA, synchronous="NORMAL") as store:
        pass
    with pytest.raises(sqlite3.ProgrammingError):
        store._db.execute("SELECT 1")


def test_each_store_keeps_its_durability(tmp_path: Path) -> None:
    # The queue and outbox hold the only copy of accepted events: every commit is fsync'd.
    with Queue(tmp_path / "queue.sqlite", busy_timeout=7) as queue:
        assert queue._db.execute("PRAGMA synchronous").fetchone()[0] == _FULL
        assert queue._db.execute("PRAGMA busy_timeout").fetchone()[0] == 7000
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        assert outbox._db.execute("PRAGMA synchronous").fetchone()[0] == _FULL
        assert outbox._db.execute("PRAGMA busy_timeout").fetchone()[0] == 10000
    with StateStore(tmp_path / "state.sqlite") as store:
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == _NORMAL
        assert store._db.execute("PRAGMA busy_timeout").fetchone()[0] == 10000
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
