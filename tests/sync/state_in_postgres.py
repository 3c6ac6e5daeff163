"""Sync test projects with ``state: {store: warehouse}`` in the session's PostgreSQL server
(or fakesnow's Snowflake: ``use_snowflake_state``).

The audience stays in the project's DuckDB file; the state (runs, journal, outcomes, locks,
snapshots, audit) goes to a fresh database through ``state.connection``, so a copy of the
project in another folder, without ``.listrak-sync/``, shares it: another working directory,
as on another host.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from listrak_sync.project.loader import load_project
from listrak_sync.state.protocol import StateBackend
from listrak_sync.sync import Workspace
from tests.postgres_server import PostgresServer
from tests.server_engines import EngineDatabase
from tests.snowflake_server import SnowflakeServer, open_snowflake

PASSWORD_ENV = "LSYNC_TEST_STATE_PASSWORD"
SCHEMA = "sync_state"


def use_postgres_state(root: Path, server: PostgresServer, database: str) -> None:
    """Point the project in ``root`` at state in ``database`` (password from the env)."""
    config_file = root / "listrak-sync.yml"
    config: dict[str, Any] = yaml.safe_load(config_file.read_text())
    config["state"] = {
        "store": "warehouse",
        "schema": SCHEMA,
        "connection": server.url(database),
        "password": {"env": PASSWORD_ENV},
    }
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))


def other_working_dir(root: Path, into: Path) -> Path:
    """A copy of the project (config, warehouse file) without ``.listrak-sync/``."""
    shutil.copytree(root, into, ignore=shutil.ignore_patterns(".listrak-sync", "paused"))
    return into


def store(root: Path) -> StateBackend:
    return Workspace.for_project(load_project(root)).store()


def rows(server: PostgresServer, database: str, sql: str) -> list[tuple[Any, ...]]:
    with server.admin(database) as con:
        return list(con.execute(sql).fetchall())


def state_tables(server: PostgresServer, database: str) -> set[str]:
    found = rows(
        server,
        database,
        f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{SCHEMA}'",
    )
    return {str(r[0]) for r in found}


__all__ = [
    "PASSWORD_ENV",
    "SCHEMA",
    "other_working_dir",
    "records",
    "rows",
    "snowflake_rows",
    "state_tables",
    "store",
    "use_postgres_state",
    "use_snowflake_state",
    "use_state",
]


def use_state(root: Path, database: EngineDatabase) -> None:
    """Point the project in ``root`` at state in ``database``, on either server engine
    (password from the env; on Snowflake a short lock lease)."""
    lease = "&lock_lease=10" if database.engine == "snowflake" else ""
    config_file = root / "listrak-sync.yml"
    config: dict[str, Any] = yaml.safe_load(config_file.read_text())
    config["state"] = {
        "store": "warehouse",
        "schema": SCHEMA,
        "connection": database.url + lease,
        "password": {"env": PASSWORD_ENV},
    }
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))


def records(database: EngineDatabase, sql: str) -> list[dict[str, Any]]:
    """The rows of ``sql`` in ``database``, as dicts (lower-case names on both engines; quote
    the state schema, ``"sync_state"``, for Snowflake)."""
    with database.connect() as warehouse:
        return list(warehouse.query(sql).to_pylist())


def use_snowflake_state(root: Path, server: SnowflakeServer, database: str) -> None:
    """Point the project in ``root`` at state in fakesnow's ``database`` (password from the
    env), with a short lock lease."""
    config_file = root / "listrak-sync.yml"
    config: dict[str, Any] = yaml.safe_load(config_file.read_text())
    config["state"] = {
        "store": "warehouse",
        "schema": SCHEMA,
        "connection": server.url(database) + "&lock_lease=10",
        "password": {"env": PASSWORD_ENV},
    }
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))


def snowflake_rows(server: SnowflakeServer, database: str, sql: str) -> list[dict[str, Any]]:
    with open_snowflake(server, database) as warehouse:
        return list(warehouse.query(sql).to_pylist())
