"""The state store in warehouse tables, on PostgreSQL and on Snowflake (fakesnow): the same
answers as the local store, run files and snapshots kept whole; PostgreSQL's advisory locks
hold across sessions and die with their holder (Snowflake's lease rows:
test_lease_locks.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import SecretStr

from listrak_sync.state import LockHeld, RowOutcome
from listrak_sync.state.warehouse import WarehouseStateStore, lock_key
from listrak_sync.warehouse import WarehouseError, connect_state, parse
from listrak_sync.warehouse.postgres import PostgresConfig
from listrak_sync.warehouse.snowflake import SnowflakeConfig
from tests.postgres_server import PostgresServer
from tests.snowflake_server import SnowflakeServer, snowflake_config

SCHEMA = "state_test"
StateConfig = PostgresConfig | SnowflakeConfig


@pytest.fixture
def pg_config(postgres_server: PostgresServer, postgres_database: str) -> PostgresConfig:
    parsed = parse(postgres_server.url(postgres_database))
    assert isinstance(parsed, PostgresConfig)
    return parsed.with_password(SecretStr(postgres_server.password))


@pytest.fixture(params=["postgres", "snowflake"])
def config(request: pytest.FixtureRequest) -> StateConfig:
    """The state's database on each engine that keeps it (Snowflake: fakesnow)."""
    if request.param == "postgres":
        found: StateConfig = request.getfixturevalue("pg_config")
        return found
    return snowflake_config(request.getfixturevalue("snowflake_server"))


def _open(config: StateConfig) -> WarehouseStateStore:
    return WarehouseStateStore(connect_state(config), SCHEMA)


@pytest.fixture
def store(config: PostgresConfig) -> Iterator[WarehouseStateStore]:
    with _open(config) as opened:
        yield opened


def test_run_lifecycle_and_history(store: WarehouseStateStore) -> None:
    first = store.start_run("sync", "spring-sale/newsletter", {"mode": "add"})
    assert first.status == "running"
    assert first.started_at.endswith("+00:00")
    assert store.unfinished_run("sync", "spring-sale/newsletter") == first
    done = store.finish_run(first.run_id, "succeeded", {"entering": 10}, details={"imports": 1})
    assert done.counts == {"entering": 10}
    assert done.details == {"mode": "add", "imports": 1}
    assert store.unfinished_run("sync", "spring-sale/newsletter") is None
    assert store.last_successful_run("sync", "spring-sale/newsletter") == done
    second = store.start_run("sync", "spring-sale/newsletter")
    store.finish_run(second.run_id, "failed", error="list 42 not found")
    assert [r.run_id for r in store.runs(kind="sync")] == [second.run_id, first.run_id]
    assert [r.run_id for r in store.runs(limit=1)] == [second.run_id]
    assert store.last_successful_run("sync", "spring-sale/newsletter") == done
    reopened = store.reopen_run(second.run_id)
    assert (reopened.status, reopened.finished_at, reopened.error) == ("running", None, None)
    with pytest.raises(KeyError):
        store.run("no-such-run")


def test_journal_is_kept_across_sessions_and_planning_is_idempotent(
    config: StateConfig,
) -> None:
    with _open(config) as store:
        run = store.start_run("sync", "c/d")
        store.plan_step(run.run_id, "add-0001", "add", {"rows": 500})
        store.plan_step(run.run_id, "add-0002", "add", {"rows": 20})
        store.mark_step(run.run_id, "add-0001", "submitted", external_id="9001")
        store.plan_step(run.run_id, "add-0001", "add", {"rows": 1})  # kept as first planned
    with _open(config) as store:
        steps = store.steps(run.run_id)
        assert [(s.step_id, s.status, s.external_id, s.payload) for s in steps] == [
            ("add-0001", "submitted", "9001", {"rows": 500}),
            ("add-0002", "pending", None, {"rows": 20}),
        ]
        marked = store.mark_step(run.run_id, "add-0002", "pending", result={"sending": True})
        assert marked.result == {"sending": True}
        done = store.complete_step(
            run.run_id, "add-0001", {"imported": 500}, [RowOutcome("a@x.com", "banned")]
        )
        assert (done.status, done.result, done.external_id) == ("done", {"imported": 500}, "9001")
        # Completing again (a resumed run) replaces the step's outcomes, never adds to them.
        store.complete_step(
            run.run_id, "add-0001", {"imported": 500}, [RowOutcome("a@x.com", "banned")]
        )
        assert store.outcomes(run.run_id) == [RowOutcome("a@x.com", "banned")]


def test_row_outcomes(store: WarehouseStateStore) -> None:
    run = store.start_run("sync", "c/d")
    written = store.record_outcomes(
        run.run_id,
        [
            RowOutcome("a@example.com", "invalid_email", "email", "no @"),
            RowOutcome("b@example.com", "previously_unsubscribed"),
            RowOutcome("c@example.com", "invalid_email", "email", "no domain"),
        ],
        step_id="audience",
    )
    assert written == 3
    assert store.record_outcomes(run.run_id, []) == 0
    assert store.outcome_counts(run.run_id) == {"invalid_email": 2, "previously_unsubscribed": 1}
    assert store.outcome_breakdown(run.run_id) == [
        ("invalid_email", "email", 2),
        ("previously_unsubscribed", None, 1),
    ]
    assert [o.key for o in store.outcomes(run.run_id, "invalid_email")] == [
        "a@example.com",
        "c@example.com",
    ]
    assert len(store.outcomes(run.run_id, limit=1)) == 1


def test_checkpoints(store: WarehouseStateStore) -> None:
    assert store.checkpoint("pull", "cursor") is None
    store.set_checkpoint("pull", "cursor", "2026-01-01")
    store.set_checkpoint("pull", "cursor", "2026-02-01")
    assert store.checkpoint("pull", "cursor") == "2026-02-01"


def test_a_lock_is_refused_to_another_session_and_named(pg_config: PostgresConfig) -> None:
    with _open(pg_config) as first, _open(pg_config) as second:
        first.acquire_lock("sync:c/d", "pid-1")
        first.relabel_locks("pid-1", "run-1")
        first.acquire_lock("sync:c/d", "run-1")  # taking it again is fine
        with pytest.raises(LockHeld) as refused:
            second.acquire_lock("sync:c/d", "pid-2")
        message = str(refused.value)
        assert "sync:c/d is in use by run run-1" in message
        assert f"pid {os.getpid()}" in message
        assert "it is still running, so this command did nothing" in message
        assert "The warehouse frees this lock when that run's connection ends." in message
        first.release_lock("sync:c/d", "run-1")
        second.acquire_lock("sync:c/d", "pid-2")
        second.release_lock("sync:c/d", "pid-2")


_HOLD = """
import sys, time
from pydantic import SecretStr
from listrak_sync.state.warehouse import WarehouseStateStore
from listrak_sync.warehouse import connect_state, parse
config = parse(sys.argv[1]).with_password(SecretStr(sys.argv[2]))
store = WarehouseStateStore(connect_state(config), sys.argv[3])
store.acquire_lock("sync:c/d", "run-killed")
print("held", flush=True)
time.sleep(600)
"""


def test_a_killed_holder_frees_its_lock(
    pg_config: PostgresConfig, postgres_server: PostgresServer, postgres_database: str
) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _HOLD,
            postgres_server.url(postgres_database),
            postgres_server.password,
            SCHEMA,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with _open(pg_config) as store:
            with pytest.raises(LockHeld, match="in use by run run-killed"):
                store.acquire_lock("sync:c/d", "pid-2")
            holder.kill()  # SIGKILL: no release, the server ends the session
            holder.wait(timeout=30)
            deadline = time.monotonic() + 30
            while True:
                try:
                    store.acquire_lock("sync:c/d", "run-2")
                    break
                except LockHeld:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            assert store.force_unlock("sync:c/d")  # the row naming the holder goes
            assert not store.force_unlock("sync:c/d")
    finally:
        holder.kill()
        holder.wait(timeout=30)
        if holder.stdout:
            holder.stdout.close()


def test_lock_keys_depend_on_the_schema() -> None:
    assert lock_key("a", "sync:x") != lock_key("b", "sync:x")
    assert -(2**63) <= lock_key("a", "sync:x") < 2**63


def test_run_files_round_trip_in_parts(store: WarehouseStateStore, tmp_path: Path) -> None:
    data = os.urandom(9 << 20)  # three parts
    source = tmp_path / "plan.parquet"
    source.write_bytes(data)
    small = tmp_path / "add-0001.parquet"
    small.write_bytes(b"")
    store.save_run_file("r1", "plan.parquet", source)
    store.save_run_file("r1", "plan.parquet", source)  # saved again: replaced
    store.save_run_file("r1", "results/add-0001.parquet", small)
    store.save_run_file("r2", "plan.parquet", small)

    target = tmp_path / "elsewhere"
    target.mkdir()
    assert store.restore_run_files("r1", target) == 2
    assert (target / "plan.parquet").read_bytes() == data
    assert (target / "results" / "add-0001.parquet").read_bytes() == b""
    assert (target / "plan.parquet").stat().st_mode & 0o077 == 0
    store.drop_run_files("r1")
    assert store.restore_run_files("r1", tmp_path / "none") == 0
    assert store.restore_run_files("r2", target) == 1


SNAPSHOT = pa.schema([("key", pa.string()), ("member", pa.bool_()), ("owned", pa.bool_())])


def _batches(count: int) -> Iterator[pa.RecordBatch]:
    for start in range(0, count, 1000):
        keys = [f"k{i}" for i in range(start, min(count, start + 1000))]
        yield pa.record_batch(
            [keys, [True] * len(keys), [i % 2 == 0 for i in range(len(keys))]], schema=SNAPSHOT
        )


def test_snapshots_are_replaced_whole(store: WarehouseStateStore, tmp_path: Path) -> None:
    snapshots = store.snapshots()
    assert not snapshots.exists("spring__newsletter")
    assert snapshots.local("spring__newsletter", tmp_path) is None
    assert snapshots.replace("spring__newsletter", _batches(2500), SNAPSHOT) == 2500
    assert snapshots.exists("spring__newsletter")

    def broken() -> Iterator[pa.RecordBatch]:
        yield from _batches(10)
        raise RuntimeError("killed mid-write")

    with pytest.raises((RuntimeError, WarehouseError)):
        snapshots.replace("spring__newsletter", broken(), SNAPSHOT)
    copy = snapshots.local("spring__newsletter", tmp_path)
    assert copy is not None
    table = pq.read_table(copy)
    assert table.num_rows == 2500  # the previous snapshot, whole
    assert table.schema.names == SNAPSHOT.names
    assert table.column("owned").type == pa.bool_()

    assert snapshots.replace("spring__newsletter", iter(()), SNAPSHOT) == 0
    empty = snapshots.local("spring__newsletter", tmp_path)
    assert empty is not None
    assert pq.read_table(empty).schema.field("member").type == pa.bool_()
    snapshots.delete("spring__newsletter")
    assert not snapshots.exists("spring__newsletter")


def test_a_snapshot_swap_killed_between_its_renames_is_finished(
    snowflake_server: SnowflakeServer, tmp_path: Path
) -> None:
    """Snowflake commits DDL at once, so a snapshot is swapped in by two renames; a kill
    between them leaves the old table aside and the new one staged, whole: the next read
    finishes the swap (PostgreSQL swaps in one transaction)."""
    with _open(snowflake_config(snowflake_server)) as store:
        snapshots = store.snapshots()
        snapshots.replace("c__d", _batches(3), SNAPSHOT)
        snapshots.replace("c__d__next", _batches(5), SNAPSHOT)
        table = snapshots.table("c__d")
        schema = f'"{SCHEMA}"'
        for statement in [  # the state a kill between the renames leaves
            f'ALTER TABLE {schema}."{table}" RENAME TO {schema}."{table}_old"',
            f'ALTER TABLE {schema}."{snapshots.table("c__d__next")}" '
            f'RENAME TO {schema}."{table}_staged"',
        ]:
            store.connection.execute(statement)

        assert snapshots.exists("c__d")
        copy = snapshots.local("c__d", tmp_path)
        assert copy is not None
        assert pq.read_table(copy).num_rows == 5


def test_long_target_names_get_distinct_tables(store: WarehouseStateStore) -> None:
    snapshots = store.snapshots()
    one, two = "campaign_" + "x" * 60 + "__a", "campaign_" + "x" * 60 + "__b"
    assert snapshots.table(one) != snapshots.table(two)
    assert len(snapshots.table(one) + "_staged") <= 63


def test_duckdb_cannot_keep_the_state(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="the duckdb warehouse cannot keep the sync's state"):
        connect_state(str(tmp_path / "w.duckdb"))


def test_a_wrong_password_names_the_connection_not_the_password(config: StateConfig) -> None:
    wrong = config.with_password(SecretStr("not-the-password-77"))
    with pytest.raises(WarehouseError) as failed:
        connect_state(wrong)
    assert config.display in str(failed.value)
    assert re.search(
        "password authentication failed|Incorrect username or password", str(failed.value)
    )
    assert "not-the-password-77" not in str(failed.value)


def test_the_documented_grants_are_enough(
    postgres_server: PostgresServer, postgres_database: str, tmp_path: Path
) -> None:
    """The GRANT statements of docs/reference/state-tables.md: the sync's role owns its schema
    and nothing else; analysts read what it writes, tables made later included."""
    secret = "role-password-1"
    with postgres_server.admin(postgres_database) as admin:
        for statement in [
            f"CREATE ROLE lsync_role LOGIN PASSWORD '{secret}'",
            f'GRANT CONNECT ON DATABASE "{postgres_database}" TO lsync_role',
            "CREATE SCHEMA lsync_state AUTHORIZATION lsync_role",
            f"CREATE ROLE lsync_analyst LOGIN PASSWORD '{secret}'",
            "GRANT USAGE ON SCHEMA lsync_state TO lsync_analyst",
            "ALTER DEFAULT PRIVILEGES FOR ROLE lsync_role IN SCHEMA lsync_state "
            "GRANT SELECT ON TABLES TO lsync_analyst",
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        ]:
            admin.execute(statement)
    as_role = parse(postgres_server.url(postgres_database, user="lsync_role"))
    assert isinstance(as_role, PostgresConfig)
    with WarehouseStateStore(
        connect_state(as_role.with_password(SecretStr(secret))), "lsync_state"
    ) as store:
        run = store.start_run("sync", "c/d")
        store.acquire_lock("sync:c/d", run.run_id)
        store.snapshots().replace("c__d", _batches(3), SNAPSHOT)
        changes = pa.record_batch(
            {
                "key": ["a@example.com"],
                "customer_key": ["C1"],
                "change": ["enter"],
                "action": ["add"],
                "step_id": ["add-0001"],
                "outcome": ["added"],
                "result": ["Subscribed"],
                "reason": [None],
            }
        )
        assert store.write_audit("newsletter", "c/d", run.run_id, [changes]) == 1
        assert store.write_audit("newsletter", "c/d", run.run_id, [changes]) == 1  # replaced
        store.release_lock("sync:c/d", run.run_id)
    analyst = psycopg.connect(
        host="127.0.0.1",
        port=postgres_server.port,
        user="lsync_analyst",
        password=secret,
        dbname=postgres_database,
    )
    with analyst:
        found = analyst.execute(
            "SELECT a.key, a.action, a.outcome, r.status FROM lsync_state.audit_newsletter a "
            "JOIN lsync_state.runs r USING (run_id)"
        ).fetchall()
        assert found == [("a@example.com", "add", "added", "running")]
        assert analyst.execute("SELECT count(*) FROM lsync_state.snapshot_c__d").fetchone() == (3,)
