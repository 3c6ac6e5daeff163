"""The sample project with ``warehouse.connection`` pointed at PostgreSQL: validate, plan and sync
to the emulator, the same plan as from DuckDB; with ``state: {store: warehouse}`` its memory lives
there, so deleting ``.listrak-sync/`` between runs changes nothing; bad references and a wrong
password found by ``validate`` at their place in the file."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from listrak_sync.cli import app
from listrak_sync.project import ProjectError, open_warehouse
from listrak_sync.project.loader import Project, parse_project
from listrak_sync.project.secrets import credential_problems
from listrak_sync.warehouse import connect, parse
from listrak_sync.warehouse.postgres import PostgresConfig
from listrak_sync.warehouse.sample_data import generate

from ..postgres_server import PostgresServer

runner = CliRunner()
CUSTOMERS = 300
SEED = 5


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.output


def make_project(folder: Path, api_url: str) -> Path:
    """``init`` the sample project (DuckDB sample data) pointed at the emulator."""
    code, output = run("init", str(folder), "--customers", str(CUSTOMERS), "--seed", str(SEED))
    assert code == 0, output
    config = folder / "listrak-sync.yml"
    text = re.sub(r"(?m)^  (api_url|auth_url): .*$", rf"  \1: {api_url}", config.read_text())
    config.write_text(text)
    return folder


def point_at_postgres(project: Path, url: str, password_secret: str) -> None:
    config = project / "listrak-sync.yml"
    text = config.read_text()
    text, count = re.subn(
        r"(?m)^  connection: .*$",
        f"  connection: {url}\n  password: {{secret: warehouse_password}}",
        text,
    )
    assert count == 1
    config.write_text(text)
    secrets = project / "secrets.yml"
    secrets.write_text(secrets.read_text() + f"warehouse_password: {password_secret}\n")
    os.remove(project / "warehouse.duckdb")  # nothing may still read DuckDB


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, postgres_database: str) -> str:
    """The database, holding the same sample data ``init`` writes to DuckDB."""
    url = postgres_server.url(postgres_database)
    config = parse(url)
    assert isinstance(config, PostgresConfig)
    with connect(config.with_password(SecretStr(postgres_server.password))) as warehouse:
        generate(warehouse, customers=CUSTOMERS, seed=SEED)
    return url


def plan_json(project: Path, campaign: str) -> dict[str, object]:
    code, output = run("plan", campaign, "-p", str(project), "--json")
    assert code == 0, output
    document: dict[str, object] = json.loads(output)
    return document


def comparable(plan: dict[str, object]) -> str:
    """The plan without what differs between two runs anyway (ids, times, folders)."""
    text = json.dumps(plan, sort_keys=True)
    return re.sub(
        r'"(run_id|started_at|finished_at|seconds|elapsed|path|snapshot)": "[^"]*"', "", text
    )


def test_sample_project_plans_and_syncs_from_postgres(
    tmp_path: Path, sandbox: str, postgres_server: PostgresServer, postgres_url: str
) -> None:
    on_duckdb = make_project(tmp_path / "duckdb", sandbox)
    on_postgres = tmp_path / "postgres"
    shutil.copytree(on_duckdb, on_postgres)
    point_at_postgres(on_postgres, postgres_url, postgres_server.password)

    code, output = run("validate", "--project", str(on_postgres))
    assert code == 0, output
    assert "no problems" in output

    # vip_winback is left out: its list (1002) lacks the FirstName field in the sample sandbox.
    for campaign in ("spring_sale",):
        assert comparable(plan_json(on_postgres, campaign)) == comparable(
            plan_json(on_duckdb, campaign)
        ), campaign

    # The sandbox's SMS list holds numbers outside the audience: removing them all trips the
    # removal guard, whatever the warehouse.
    code, output = run("sync", "spring_sale", "-p", str(on_postgres), "--allow-large-removal")
    assert code == 0, output
    assert "spring_sale/newsletter (listrak_email) succeeded" in output
    assert "spring_sale/sms_marketing (listrak_sms) succeeded" in output
    assert re.search(r"Listrak results: Subscribed [1-9]", output), output  # the newsletter


def _units(project: Path, *args: str) -> list[dict[str, object]]:
    code, output = run(*args, "-p", str(project), "--json")
    assert code == 0, output
    units: list[dict[str, object]] = json.loads(output)["units"]
    return units


def test_deleting_the_state_folder_between_runs_changes_nothing(
    tmp_path: Path, sandbox: str, postgres_server: PostgresServer, postgres_url: str
) -> None:
    project = make_project(tmp_path / "p", sandbox)
    point_at_postgres(project, postgres_url, postgres_server.password)
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
    shutil.rmtree(project / ".listrak-sync", ignore_errors=True)
    code, output = run("sync", "spring_sale", "-p", str(project))
    assert code == 0, output
    assert "spring_sale/newsletter (listrak_email) succeeded" in output


def test_validate_finds_postgres_problems_in_place(
    tmp_path: Path, sandbox: str, postgres_server: PostgresServer, postgres_url: str
) -> None:
    project = make_project(tmp_path / "p", sandbox)
    point_at_postgres(project, postgres_url, "not-the-password-3a9")
    code, output = run("validate", "--project", str(project))
    assert code == 1, output
    assert "password authentication failed" in output
    assert "listrak-sync.yml:" in output
    assert "not-the-password-3a9" not in output

    secrets = project / "secrets.yml"
    secrets.write_text(
        secrets.read_text().replace("not-the-password-3a9", postgres_server.password)
    )
    config = project / "listrak-sync.yml"
    good = config.read_text()
    config.write_text(good.replace("customer_table: customer_360", "customer_table: customer_306"))
    code, output = run("validate", "--project", str(project))
    assert code == 1, output
    assert re.search(r"listrak-sync\.yml:\d+:\d+: table 'customer_306' is not in", output), output
    assert "did you mean 'customer_360'?" in output

    config.write_text(good.replace("WHERE churn_risk = 'high'", "WHERE churn_riks = 'high'"))
    code, output = run("validate", "--project", str(project))
    assert code == 1, output
    assert re.search(r"listrak-sync\.yml:\d+:\d+: .*churn_riks", output), output


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
