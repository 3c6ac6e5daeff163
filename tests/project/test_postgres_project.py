"""The sample project with ``warehouse.connection`` pointed at PostgreSQL: with ``state: {store:
warehouse}`` its memory lives there, so deleting ``.listrak-sync/`` between runs changes nothing;
the warehouse password is a reference, never a literal. Validate, plan and sync on every server
engine: test_server_engine_projects.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pydantic import SecretStr

from listrak_sync.project import ProjectError, open_warehouse
from listrak_sync.project.loader import Project, parse_project
from listrak_sync.project.secrets import credential_problems
from listrak_sync.state.warehouse import WarehouseStateStore
from listrak_sync.sync import Workspace
from listrak_sync.warehouse import connect, parse
from listrak_sync.warehouse.postgres import PostgresConfig, PostgresWarehouse
from listrak_sync.warehouse.postgres.state import PostgresStateConnection
from listrak_sync.warehouse.sample_data import generate

from ..postgres_server import PostgresServer
from .sample_projects import CUSTOMERS, SEED, comparable, make_project, point_at, run


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, postgres_database: str) -> str:
    """The database, holding the same sample data ``init`` writes to DuckDB."""
    url = postgres_server.url(postgres_database)
    config = parse(url)
    assert isinstance(config, PostgresConfig)
    with connect(config.with_password(SecretStr(postgres_server.password))) as warehouse:
        generate(warehouse, customers=CUSTOMERS, seed=SEED)
    return url


def _units(project: Path, *args: str) -> list[dict[str, object]]:
    code, output = run(*args, "-p", str(project), "--json")
    assert code == 0, output
    units: list[dict[str, object]] = json.loads(output)["units"]
    return units


def test_deleting_the_state_folder_between_runs_changes_nothing(
    tmp_path: Path, sandbox: str, postgres_server: PostgresServer, postgres_url: str
) -> None:
    project = make_project(tmp_path / "p", sandbox)
    point_at(project, postgres_url, postgres_server.password)
    config = project / "listrak-sync.yml"
    config.write_text(config.read_text() + "\nstate:\n  store: warehouse\n  schema: listrak_sync\n")
    code, output = run("validate", "--project", str(project))
    assert code == 0, output

    code, output = run("sync", "spring_sale", "-p", str(project), "--allow-large-removal")
    assert code == 0, output
    assert "spring_sale/newsletter (listrak_email) succeeded" in output
    kept = _units(project, "plan", "spring_sale")
    shutil.rmtree(project / ".listrak-sync")

    gone = _units(project, "plan", "spring_sale")

    assert comparable({"units": gone}) == comparable({"units": kept})
    for unit in gone:
        assert unit["compared_with"] == "snapshot", unit
        assert unit["plan"]["steps"] == [], unit  # type: ignore[index]
    # The run history is the warehouse's too.
    code, output = run("runs", "-p", str(project), "--json")
    assert code == 0, output
    history = json.loads(output)
    assert {r["target"] for r in history} >= {
        "spring_sale/newsletter",
        "spring_sale/sms_marketing",
    }, history
    # A sync after the folder is gone: tests/sync/email/test_state_in_warehouse.py, quicker.


def _project(tmp_path: Path, warehouse: str) -> Project:
    return parse_project(f"warehouse:\n{warehouse}", tmp_path)


def test_a_literal_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="secrets may not be written in the project file"):
        _project(tmp_path, "  connection: postgresql://u@h/db\n  password: hunter2\n")


def test_an_unresolvable_password_is_a_problem_at_its_place(tmp_path: Path) -> None:
    project = _project(
        tmp_path, "  connection: postgresql://u@h/db\n  password: {env: NO_SUCH_PG_PASSWORD}\n"
    )
    (problem,) = credential_problems(project)
    assert "NO_SUCH_PG_PASSWORD is not set" in str(problem)
    assert problem.line == 3
    with pytest.raises(ProjectError, match="NO_SUCH_PG_PASSWORD"):
        open_warehouse(project)


def test_duckdb_takes_no_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_PASSWORD", "x")
    project = _project(tmp_path, "  connection: w.duckdb\n  password: {env: SOME_PASSWORD}\n")
    with pytest.raises(ProjectError, match="the duckdb warehouse takes no password"):
        open_warehouse(project)


def test_certificate_paths_are_relative_to_the_project_folder(
    tmp_path: Path,
    postgres_server: PostgresServer,
    postgres_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``sslrootcert`` (and ``sslcert``, ``sslkey``) in the URL name files relative to the
    project folder, like every path in the project file, for the warehouse and the state
    alike; libpq alone would look in the folder the command runs in."""
    root = tmp_path / "project"
    url = postgres_server.url(postgres_database) + "&sslrootcert=certs/ca.pem"
    monkeypatch.setenv("TEST_PG_PASSWORD", postgres_server.password)
    project = parse_project(
        f"warehouse:\n  connection: {url}\n  password: {{env: TEST_PG_PASSWORD}}\n"
        "state:\n  store: warehouse\n  schema: cert_state\n",
        root,
    )
    monkeypatch.chdir(tmp_path)
    expected = str(root / "certs" / "ca.pem")

    with open_warehouse(project) as warehouse:
        assert isinstance(warehouse, PostgresWarehouse)
        assert warehouse.config.sslrootcert == expected
    store = Workspace.for_project(project).store()
    try:
        assert isinstance(store, WarehouseStateStore)
        assert isinstance(store.connection, PostgresStateConnection)
        assert store.connection.config.sslrootcert == expected
    finally:
        store.close()
