"""The sample project (``init``) pointed at the emulator, and what the engine tests compare of
it: plans without run ids and times, run through the CLI."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from typer.testing import CliRunner

from listrak_sync.cli import app

runner = CliRunner()
CUSTOMERS = 300
SEED = 5

__all__ = [
    "CUSTOMERS",
    "SEED",
    "comparable",
    "make_project",
    "plan_json",
    "point_at",
    "run",
    "set_connection",
]


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


def point_at(project: Path, url: str, password_secret: str) -> None:
    """``warehouse.connection: url``, its password a secret in secrets.yml, and the DuckDB file
    gone (nothing may still read it)."""
    set_connection(project, url, "password: {secret: warehouse_password}")
    secrets = project / "secrets.yml"
    secrets.write_text(secrets.read_text() + f"warehouse_password: {password_secret}\n")
    os.remove(project / "warehouse.duckdb")


def set_connection(project: Path, url: str, setting: str) -> None:
    """``warehouse.connection: url`` and one more ``warehouse`` setting below it."""
    config = project / "listrak-sync.yml"
    text, count = re.subn(
        r"(?m)^  connection: .*$", f"  connection: {url}\n  {setting}", config.read_text()
    )
    assert count == 1
    config.write_text(text)


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
