"""The sample project on PostgreSQL with ``state: {store: warehouse}``: its memory lives in the
warehouse, so deleting ``.listrak-sync/`` between runs changes nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.postgres_server import PostgresServer

from .test_postgres_project import (  # noqa: F401 (fixtures)
    comparable,
    make_project,
    point_at_postgres,
    postgres_url,
    run,
    sandbox,
)


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
