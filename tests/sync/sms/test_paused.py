"""The SMS integration paused in Listrak mid-run: the run says so, counts what Listrak accepted,
and the next ``sync`` resumes it to the exact end state."""

from __future__ import annotations

from typer.testing import CliRunner

from listrak_sync.cli import app
from listrak_sync.sync.hooks import on_checkpoint
from tests.conftest import SMS_CLIENT

from .conftest import Person, SmsProject

PEOPLE = [Person(n, f"+1215555{n:04d}", f"P{n}") for n in range(100, 160)]


def test_a_paused_integration_stops_the_run_which_the_next_sync_resumes(
    sms_project: SmsProject,
) -> None:
    sms_project.seed()
    sms_project.people(PEOPLE)

    def pause(point: str) -> None:
        if point.startswith("halfway:"):
            sms_project.emulator.admin.set_client(SMS_CLIENT[0], paused=True)

    with on_checkpoint(pause):
        result = CliRunner().invoke(
            app, ["sync", "texts", "-p", str(sms_project.root)], env={"COLUMNS": "200"}
        )
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "refused the SMS list" not in text
    assert "Listrak stopped accepting this SMS integration's requests" in text
    assert "API access for this integration is paused" in text
    assert "the next `listrak-sync sync texts` resumes run" in text

    sms_project.emulator.admin.set_client(SMS_CLIENT[0], paused=False)
    accepted = sms_project.members()
    assert len(accepted) >= len(PEOPLE) // 2
    with sms_project.store() as store:
        (failed,) = store.runs("sync")
    assert failed.status == "failed"
    assert failed.counts["added"] == len(accepted)  # not "added 0"

    again = sms_project.sync()
    assert again.status == "succeeded", again.error
    assert [run.run_id for run in again.resumed] == [failed.run_id]
    assert sms_project.members() == {p.phone for p in PEOPLE}
