"""The server warehouse engines a conformance test runs over: a fresh database on the session's
PostgreSQL server or on fakesnow's Snowflake, named by URL and password the way a project names
it. Only the engine a test asks for is started (``request.getfixturevalue``), so running one
engine's tests never starts the other's server."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from listrak_sync.warehouse import Warehouse, connect, parse
from listrak_sync.warehouse.postgres import PostgresConfig
from listrak_sync.warehouse.snowflake import SnowflakeConfig

from .postgres_server import PostgresServer
from .snowflake_server import SnowflakeServer

SERVER_ENGINES = ["postgres", "snowflake"]


@dataclass(frozen=True)
class EngineDatabase:
    """A fresh database of one engine: ``url`` as ``warehouse.connection`` takes it."""

    engine: str
    url: str
    password: str

    def config(self) -> PostgresConfig | SnowflakeConfig:
        """The typed config, with the password."""
        parsed = parse(self.url)
        assert isinstance(parsed, PostgresConfig | SnowflakeConfig)
        return parsed.with_password(SecretStr(self.password))

    def connect(self) -> Warehouse:
        return connect(self.config())


def engine_database(request: pytest.FixtureRequest, engine: str) -> EngineDatabase:
    """A fresh database on ``engine``'s session server."""
    if engine == "postgres":
        postgres: PostgresServer = request.getfixturevalue("postgres_server")
        return EngineDatabase(engine, postgres.url(postgres.create_database()), postgres.password)
    if engine == "snowflake":
        snowflake: SnowflakeServer = request.getfixturevalue("snowflake_server")
        url = snowflake.url(snowflake.create_database())
        return EngineDatabase(engine, url, snowflake.password)
    raise ValueError(f"no server engine {engine!r}")
