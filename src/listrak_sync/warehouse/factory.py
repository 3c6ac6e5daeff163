"""connect(): open a warehouse from a URL, a bare DuckDB path, or a typed config.

Engines are folders next to this file (``duckdb/``, ``postgres/``, ``snowflake/``, ``spark/``),
each with a ``factory`` module exposing ``config_from_url(url)`` and
``open_warehouse(config, base_dir)``.
An engine that can keep the sync's state (``state: {store: warehouse}``) also has a ``state``
module exposing ``connect_state(config)``, which returns a ``StateConnection``
(state/warehouse/connection.py). They are imported on first use, so an engine's driver is only
needed by those who use it.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

from pydantic import BaseModel

from .base import Warehouse, WarehouseError
from .duckdb.configuration import DuckDBConfig
from .postgres.configuration import PostgresConfig
from .snowflake.configuration import SnowflakeConfig
from .spark.configuration import SparkConfig, is_spark_connection

if TYPE_CHECKING:
    from ..state.warehouse.connection import StateConnection

__all__ = ["ENGINES", "WarehouseConfig", "connect", "connect_state", "parse"]

# URL scheme (and config ``engine`` field) -> engine package.
ENGINES: dict[str, str] = {
    "duckdb": "listrak_sync.warehouse.duckdb",
    "postgres": "listrak_sync.warehouse.postgres",
    "postgresql": "listrak_sync.warehouse.postgres",
    "snowflake": "listrak_sync.warehouse.snowflake",
    "sc": "listrak_sync.warehouse.spark",  # Spark Connect (and Databricks)
}
# Config ``engine`` names that are no URL scheme (Spark's local[*] has none).
_ENGINE_NAMES = {"spark": "listrak_sync.warehouse.spark"}

# The typed configs of the engines.
WarehouseConfig = DuckDBConfig | PostgresConfig | SnowflakeConfig | SparkConfig

_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")


class _EngineFactory(Protocol):
    def config_from_url(self, url: str) -> BaseModel: ...

    def open_warehouse(self, config: BaseModel, base_dir: Path | None = None) -> Warehouse: ...


def _engine(name: str, *, scheme: bool = False) -> _EngineFactory:
    """The factory of the engine a URL scheme (``scheme=True``) or a config's engine names."""
    package = ENGINES.get(name) if scheme else ENGINES.get(name) or _ENGINE_NAMES.get(name)
    if package is None:
        known = ", ".join(f"{scheme}://" for scheme in sorted(ENGINES)) + ", local[*]"
        raise WarehouseError(f"no warehouse engine for {name}:// (known: {known})")
    return cast(_EngineFactory, importlib.import_module(f"{package}.factory"))


def parse(target: str | Path | BaseModel) -> BaseModel:
    """The typed config for a URL (``duckdb:///warehouse.duckdb``, ``sc://host:15002``), a
    Spark master (``local[*]``), a bare path (a DuckDB file, or ``:memory:``) or a config
    (returned as is)."""
    if isinstance(target, BaseModel):
        return target
    if isinstance(target, Path):
        return DuckDBConfig(path=str(target))
    if is_spark_connection(target):
        return SparkConfig.from_text(target)
    match = _URL.match(target)
    if match is None:
        return DuckDBConfig(path=target)
    scheme = match["scheme"].lower()
    return _engine(scheme, scheme=True).config_from_url(scheme + target[len(scheme) :])


def connect(target: str | Path | BaseModel, *, base_dir: Path | None = None) -> Warehouse:
    """Open the warehouse ``target`` names; relative file paths resolve against ``base_dir``
    (the project folder) or else the working directory."""
    config = parse(target)
    engine = getattr(config, "engine", None)
    if not isinstance(engine, str):
        raise WarehouseError(f"{type(config).__name__} is not a warehouse config (no engine)")
    return _engine(engine).open_warehouse(config, base_dir)


class _StateFactory(Protocol):
    def connect_state(self, config: BaseModel, base_dir: Path | None = None) -> StateConnection: ...


def connect_state(
    target: str | Path | BaseModel, *, base_dir: Path | None = None
) -> StateConnection:
    """A connection for the sync's state tables in the database ``target`` names (relative
    file paths, such as a key file, resolve against ``base_dir`` as in ``connect``); a
    WarehouseError for an engine that cannot keep them."""
    config = parse(target)
    engine = getattr(config, "engine", None)
    if not isinstance(engine, str):
        raise WarehouseError(f"{type(config).__name__} is not a warehouse config (no engine)")
    _engine(engine)  # an unknown engine is named as such
    try:
        package = ENGINES.get(engine) or _ENGINE_NAMES[engine]
        module = importlib.import_module(f"{package}.state")
    except ModuleNotFoundError:
        raise WarehouseError(
            f"the {engine} warehouse cannot keep the sync's state (state.store: warehouse "
            "works with PostgreSQL and Snowflake); set state.connection to a postgresql:// or "
            "snowflake:// URL, or use "
            "state.store: local"
        ) from None
    return cast(_StateFactory, module).connect_state(config, base_dir)
