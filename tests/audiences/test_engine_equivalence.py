"""Same data, same answer: the sample data in DuckDB, PostgreSQL and Snowflake (fakesnow), the
sample project's segments and campaigns compiled for each, identical members, groups and
delivered rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from listrak_sync.audiences.campaigns import CampaignAudience
from listrak_sync.audiences.insights import segment_insights
from listrak_sync.audiences.segments import SegmentResolver
from listrak_sync.project.loader import Project, parse_project
from listrak_sync.project.scaffold import sample_text
from listrak_sync.warehouse import Warehouse, connect, parse
from listrak_sync.warehouse.postgres import PostgresConfig
from listrak_sync.warehouse.sample_data import generate

from ..postgres_server import PostgresServer
from ..snowflake_server import SnowflakeServer, open_snowflake

CUSTOMERS = 1000
AS_OF = dt.date(2026, 11, 23)

Engines = dict[str, Warehouse]


@pytest.fixture(scope="module")
def engines(
    postgres_server: PostgresServer,
    snowflake_server: SnowflakeServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Engines]:
    folder = tmp_path_factory.mktemp("equivalence")
    pg_config = parse(postgres_server.url(postgres_server.create_database()))
    assert isinstance(pg_config, PostgresConfig)
    with (
        connect(folder / "warehouse.duckdb") as duck,
        connect(pg_config.with_password(SecretStr(postgres_server.password))) as postgres,
        open_snowflake(snowflake_server) as snowflake,
    ):
        for warehouse in (duck, postgres, snowflake):
            generate(warehouse, customers=CUSTOMERS, seed=11, as_of=AS_OF)
        yield {"duckdb": duck, "postgres": postgres, "snowflake": snowflake}


def same(found: dict[str, object], name: str) -> None:
    """Every engine's answer equals DuckDB's."""
    for engine, answer in found.items():
        assert answer == found["duckdb"], f"{name}: {engine} differs from duckdb"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("project")
    return parse_project(sample_text("listrak-sync.yml"), Path(root))


def rows(warehouse: Warehouse, sql: str) -> set[tuple[object, ...]]:
    found: set[tuple[object, ...]] = set()
    for batch in warehouse.stream(sql):
        found.update(tuple(row.values()) for row in batch.to_pylist())
    return found


def test_every_sample_segment_has_the_same_members(project: Project, engines: Engines) -> None:
    names = sorted(project.config.segments)
    assert names  # the sample project has segments
    for name in names:
        members = {
            engine: rows(warehouse, SegmentResolver(project.config, warehouse).sql(name))
            for engine, warehouse in engines.items()
        }
        assert members["duckdb"], f"segment {name} is empty: the comparison would prove nothing"
        same(dict(members), name)


def test_every_campaign_group_and_control_split_is_the_same(
    project: Project, engines: Engines
) -> None:
    for name in sorted(project.config.campaigns):
        split = {}
        for engine, warehouse in engines.items():
            audience = CampaignAudience(project.config, warehouse, name)
            split[engine] = rows(warehouse, audience.members_query().sql(dialect=audience.dialect))
        same(dict(split), name)
        groups = {group for _, group in split["duckdb"]}
        definition = project.config.campaigns[name]
        if definition.control:
            assert "control" in groups, name  # the control split really happened


def test_every_destination_receives_the_same_rows(project: Project, engines: Engines) -> None:
    for name in sorted(project.config.campaigns):
        delivered = {}
        for engine, warehouse in engines.items():
            units = CampaignAudience(project.config, warehouse, name).units()
            delivered[engine] = {
                (unit.destination, unit.group, tuple(row.items()))
                for unit in units
                for batch in unit.batches()
                for row in batch.to_pylist()
            }
        assert delivered["duckdb"], name
        same(dict(delivered), name)


def test_every_segment_has_the_same_insights(project: Project, engines: Engines) -> None:
    for name in sorted(project.config.segments):
        found = {
            engine: segment_insights(SegmentResolver(project.config, warehouse), name, by="country")
            for engine, warehouse in engines.items()
        }
        assert found["duckdb"].size > 0, name
        same(dict(found), name)
