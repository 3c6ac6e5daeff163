"""Snowflake's lock rows with a lease (state/warehouse/locks.py), through fakesnow: of two
runners contending, one wins; a live holder keeps its lock past its lease by renewing it; a
crashed holder on another host blocks until its lease expires; a dead process on this host is
taken over at once."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pydantic import SecretStr

from listrak_sync.state import LockHeld
from listrak_sync.state.warehouse import WarehouseStateStore
from listrak_sync.warehouse import WarehouseError, connect_state, parse
from listrak_sync.warehouse.snowflake import SnowflakeConfig
from tests.snowflake_server import SnowflakeServer, snowflake_config

SCHEMA = "lease_test"
RESOURCE = "sync:spring/newsletter"


@pytest.fixture
def config(snowflake_server: SnowflakeServer) -> SnowflakeConfig:
    return snowflake_config(snowflake_server)


def _open(config: SnowflakeConfig, lease: float = 60) -> WarehouseStateStore:
    return WarehouseStateStore(connect_state(config), SCHEMA, lease=lease)


def test_of_two_runners_contending_exactly_one_wins(config: SnowflakeConfig) -> None:
    with _open(config) as first, _open(config) as second:
        for round_ in range(3):
            start = threading.Barrier(2)
            won: list[str] = []
            refused: list[LockHeld] = []

            def contend(
                store: WarehouseStateStore,
                run_id: str,
                start: threading.Barrier = start,
                won: list[str] = won,
                refused: list[LockHeld] = refused,
            ) -> None:
                start.wait()
                try:
                    store.acquire_lock(RESOURCE, run_id)
                    won.append(run_id)
                except LockHeld as exc:
                    refused.append(exc)

            runners = [
                threading.Thread(target=contend, args=(first, f"run-a{round_}")),
                threading.Thread(target=contend, args=(second, f"run-b{round_}")),
            ]
            for runner in runners:
                runner.start()
            for runner in runners:
                runner.join(timeout=60)

            assert len(won) == 1, (won, refused)
            assert len(refused) == 1
            assert refused[0].run_id == won[0]
            winner = first if won[0].startswith("run-a") else second
            winner.release_lock(RESOURCE, won[0])


def test_a_holder_takes_its_lock_again_and_relabels_it(config: SnowflakeConfig) -> None:
    with _open(config) as first, _open(config) as second:
        first.acquire_lock(RESOURCE, "pid-1")
        first.relabel_locks("pid-1", "run-1")
        first.acquire_lock(RESOURCE, "run-1")
        with pytest.raises(LockHeld) as refused:
            second.acquire_lock(RESOURCE, "pid-2")
        message = " ".join(str(refused.value).split())
        assert f"{RESOURCE} is in use by run run-1" in message
        assert re.search(
            r"taken over when its lease runs out \(2\d{3}-[^,]+, lock_lease\)", message
        )
        first.release_lock(RESOURCE, "run-1")
        second.acquire_lock(RESOURCE, "pid-2")
        assert second.force_unlock(RESOURCE)
        assert not second.force_unlock(RESOURCE)


_HOLD = """
import socket, sys, time
from pydantic import SecretStr
from listrak_sync.state.warehouse import WarehouseStateStore
from listrak_sync.warehouse import connect_state, parse
if sys.argv[5]:
    socket.gethostname = lambda: sys.argv[5]  # a runner on another host
config = parse(sys.argv[1]).with_password(SecretStr(sys.argv[2]))
store = WarehouseStateStore(connect_state(config), sys.argv[3], lease=float(sys.argv[4]))
store.acquire_lock("sync:spring/newsletter", "run-crashed")
print("held", flush=True)
time.sleep(600)
"""


@contextmanager
def _holder(
    server: SnowflakeServer, config: SnowflakeConfig, lease: float, host: str
) -> Iterator[subprocess.Popen[str]]:
    url = server.url(config.database)
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD, url, server.password, SCHEMA, str(lease), host],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "held"
        yield process
    finally:
        process.kill()
        process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()


def _acquire_within(store: WarehouseStateStore, run_id: str, seconds: float) -> int:
    """Try until the lock is taken; how many attempts were refused."""
    deadline = time.monotonic() + seconds
    refusals = 0
    while True:
        try:
            store.acquire_lock(RESOURCE, run_id)
            return refusals
        except LockHeld:
            refusals += 1
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_crashed_holder_on_another_host_blocks_until_its_lease_expires(
    snowflake_server: SnowflakeServer, config: SnowflakeConfig
) -> None:
    lease = 3.0
    with _open(config) as store, _holder(snowflake_server, config, lease, "runner-b") as holder:
        # Alive, it renews: still held after more than a lease.
        renewed_past = time.monotonic() + 2 * lease
        while time.monotonic() < renewed_past:
            with pytest.raises(LockHeld, match=r"pid \d+ on runner-b"):
                store.acquire_lock(RESOURCE, "run-2")
            time.sleep(0.5)
        holder.kill()  # SIGKILL: no release; another host's process is never presumed dead
        holder.wait(timeout=30)
        with pytest.raises(LockHeld, match="in use by run run-crashed"):
            store.acquire_lock(RESOURCE, "run-2")

        assert _acquire_within(store, "run-2", 60) >= 0

        rows = store.connection.rows(
            f'SELECT run_id, host FROM "{SCHEMA}".locks WHERE resource = ?', (RESOURCE,)
        )
        assert [(str(r[0]), str(r[1])) for r in rows] == [("run-2", _hostname())]


def test_a_dead_process_on_this_host_is_taken_over_at_once(
    snowflake_server: SnowflakeServer, config: SnowflakeConfig
) -> None:
    with _open(config) as store, _holder(snowflake_server, config, 600, "") as holder:
        with pytest.raises(LockHeld):
            store.acquire_lock(RESOURCE, "run-2")
        holder.kill()
        holder.wait(timeout=30)

        store.acquire_lock(RESOURCE, "run-2")  # the lease (600 s) is not waited for


def _hostname() -> str:
    import socket

    return socket.gethostname()


def test_the_lease_is_set_in_the_url(snowflake_server: SnowflakeServer) -> None:
    url = snowflake_server.url(snowflake_server.create_database())
    parsed = parse(url + "&lock_lease=30")
    assert isinstance(parsed, SnowflakeConfig)
    assert parsed.lock_lease == 30
    with pytest.raises(WarehouseError, match="lock_lease"):
        parse(url + "&lock_lease=1")
    config = parsed.with_password(SecretStr(snowflake_server.password))
    with WarehouseStateStore(connect_state(config), SCHEMA) as first, _open(config) as second:
        first.acquire_lock(RESOURCE, "run-1")
        assert first._locks.lease == 30
        with pytest.raises(LockHeld, match="when its lease runs out"):
            second.acquire_lock(RESOURCE, "run-2")
