"""Files holding emails and phones are owner-only (0600 in 0700 folders), whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from listrak_sync.events.queue import Queue
from listrak_sync.source.sinks.outbox import Outbox
from listrak_sync.state import SnapshotStore, StateStore
from listrak_sync.sync.workspace import Workspace
from listrak_sync.warehouse.duckdb import DuckDBWarehouse


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    # The usual umask: without care, files come out 0644 in 0755 folders.
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_state_queue_and_outbox_files_are_owner_only(tmp_path: Path) -> None:
    before = mode(tmp_path)
    with StateStore(tmp_path / "state" / "state.sqlite") as store:
        store.start_run("sync", "t")
    with Queue(tmp_path / "events.sqlite"), Outbox(tmp_path / "outbox.sqlite"):
        pass
    assert mode(tmp_path / "state") == 0o700
    for name in ("state/state.sqlite", "events.sqlite", "outbox.sqlite"):
        assert mode(tmp_path / name) == 0o600, name
    # A user's folder holding a queue file is left as it is.
    assert mode(tmp_path) == before


def test_the_workspace_and_snapshots_are_owner_only(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / ".listrak-sync")
    with workspace.store():
        pass
    schema = pa.schema([("key", pa.string())])
    workspace.snapshots().replace("a/b", [pa.record_batch([["x"]], schema=schema)], schema)
    run = workspace.run_dir("20260101T000000-abcdef12")
    assert mode(workspace.root) == 0o700
    assert mode(workspace.root / "snapshots") == 0o700
    assert mode(run) == 0o700
    assert mode(workspace.state_path) == 0o600
    assert mode(SnapshotStore(workspace.root / "snapshots").path("a/b")) == 0o600


def test_an_existing_open_workspace_folder_is_tightened(tmp_path: Path) -> None:
    root = tmp_path / ".listrak-sync"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    with Workspace(root).store():
        pass
    assert mode(root) == 0o700


def test_a_new_duckdb_warehouse_is_owner_only(tmp_path: Path) -> None:
    with DuckDBWarehouse.open(tmp_path / "warehouse.duckdb") as warehouse:
        warehouse.execute("CREATE TABLE t AS SELECT 1 AS a")
    assert mode(tmp_path / "warehouse.duckdb") == 0o600
