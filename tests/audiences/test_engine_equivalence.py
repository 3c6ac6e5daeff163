"""Same data, same answer: the sample data in DuckDB and in PostgreSQL, Snowflake (fakesnow) and
Spark, the sample project's segments and campaigns compiled for each, identical members, groups
and delivered rows. Each engine is compared with DuckDB in a test of its own."""

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
from ..snowflake_server import open_snowflake

CUSTOMERS = 1000
AS_OF = dt.date(2026, 11, 23)

Engines = dict[str, Warehouse]


@pytest.fixture(scope="module")
def duckdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    with connect(tmp_path_factory.mktemp("equivalence") / "warehouse.duckdb") as duck:
        generate(duck, customers=CUSTOMERS, seed=11, as_of=AS_OF)
        yield duck


def _postgres(request: pytest.FixtureRequest) -> Warehouse:
    server: PostgresServer = request.getfixturevalue("postgres_server")
    config = parse(server.url(server.create_database()))
    assert isinstance(config, PostgresConfig)
    return connect(config.with_password(SecretStr(server.password)))


def _snowflake(request: pytest.FixtureRequest) -> Warehouse:
    return open_snowflake(request.getfixturevalue("snowflake_server"))


def _spark(request: pytest.FixtureRequest) -> Warehouse:
    url: str = request.getfixturevalue("spark_engine")
    folder = request.getfixturevalue("tmp_path_factory").mktemp("spark-equivalence")
    return connect(f"{url}?warehouse_dir={folder}&shuffle_partitions=2")


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(_postgres, id="postgres"),
        pytest.param(_snowflake, id="snowflake"),
        pytest.param(_spark, id="spark", marks=pytest.mark.spark),
    ],
)
def engines(request: pytest.FixtureRequest, duckdb: Warehouse) -> Iterator[Engines]:
    """DuckDB and one other engine holding the same sample data."""
    with request.param(request) as other:
        generate(other, customers=CUSTOMERS, seed=11, as_of=AS_OF)
        yield {"duckdb": duckdb, request.param.__name__.lstrip("_"): other}


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
