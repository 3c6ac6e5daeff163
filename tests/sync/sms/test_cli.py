"""``plan``, ``sync`` and ``runs ID`` for an SMS destination, as a user reads them."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from listrak_sync.cli import app

from .conftest import Person, SmsProject

runner = CliRunner()
FAST = {"import_poll_interval": 0.05, "import_poll_max_interval": 0.2}


def _run(project: SmsProject, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        app,
        [*args, "-p", str(project.root)],
        env={"LISTRAK_SYNC_CLIENT_SETTINGS": json.dumps(FAST), "COLUMNS": "200"},
    )
    return result.exit_code, result.output


def test_sms_plan_sync_and_runs_read_as_sms(sms_project: SmsProject) -> None:
    sms_project.seed()
    sms_project.people([Person(1, "+12155550101", "Ava"), Person(2, "+12155550102", "Ben")])

    code, planned = _run(sms_project, "plan", "texts")
    assert code == 0, planned
    assert "None" not in planned  # no "audience field None, mode None"
    assert "list 'Marketing' (5001) of sender code 101" in planned
    assert "contact calls" in planned  # adds are per-contact calls, not imports
    assert "+12155550101" not in planned  # phones masked
    assert "+1********01" in planned

    code, synced = _run(sms_project, "sync", "texts")
    assert code == 0, synced
    assert "None" not in synced
    assert "steps (imports)" not in synced

    sms_project.people([Person(1, "+12155550101", "Avery"), Person(2, "+12155550102", "Ben")])
    code, synced = _run(sms_project, "sync", "texts", "--json")
    assert code == 0, synced
    run_id = json.loads(synced)["units"][0]["run"]["run_id"]
    code, shown = _run(sms_project, "runs", run_id)
    assert code == 0, shown
    (line,) = [row for row in shown.splitlines() if "update-0001" in row]
    assert "import_rows 1" in line  # the update import's summary is not empty
