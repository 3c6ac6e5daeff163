"""A small sample warehouse (the real generator), shared read-only by the project tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from listrak_sync.emulator import EmulatorServer
from listrak_sync.emulator.admin_client import EmulatorAdmin
from listrak_sync.emulator.cli import sample_seed
from listrak_sync.warehouse import connect
from listrak_sync.warehouse.sample_data import generate

AS_OF = dt.date(2026, 11, 23)


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "warehouse.duckdb"
    with connect(str(path)) as warehouse:
        generate(warehouse, customers=400, seed=7, as_of=AS_OF)
    return path


@pytest.fixture
def sandbox(emulator_server: EmulatorServer) -> str:
    """The emulator with the sample sandbox (the integrations the sample project names)."""
    with EmulatorAdmin(emulator_server.base_url) as admin:
        admin.reset()
        admin.seed(sample_seed())
    return emulator_server.base_url
